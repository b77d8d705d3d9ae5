//! What every io_uring test does first: make sure the kernel lets this process use io_uring.

use io_models::uring;

/// True when io_uring works here. When it does not: panics with the reason, or with
/// `LABS_SKIP_URING=1` says loudly that the test is skipped, and why, and returns false.
pub fn uring_works() -> bool {
    let Err(refusal) = uring::available() else {
        return true;
    };
    if std::env::var_os("LABS_SKIP_URING").is_some_and(|v| v == "1") {
        eprintln!("SKIPPED (LABS_SKIP_URING=1): {refusal}");
        return false;
    }
    panic!("{refusal} (set LABS_SKIP_URING=1 to skip the io_uring tests)");
}
