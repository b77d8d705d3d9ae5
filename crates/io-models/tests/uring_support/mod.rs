//! What every io_uring test does first: make sure the kernel lets this process use io_uring.

/// True when io_uring works here. When it does not: panics with the reason, or with
/// `LABS_SKIP_URING=1` says loudly that the test is skipped, and why, and returns false.
pub fn uring_works() -> bool {
    io_models::uring::works_or_skip()
}
