//! The `futex(2)` system call, the three operations the lessons need.
//!
//! A futex ("fast userspace mutex") is a 32-bit word in our memory that the kernel can put
//! threads to sleep on. `wait(word, expected)` sleeps *only if* the word still holds `expected`
//! — checked by the kernel atomically with going to sleep, so a wake-up between our check and
//! the sleep cannot be lost. `wake_one`/`wake_all` wake threads sleeping on the word. Everything
//! else (what the word means, when to sleep) is up to the program: a lock that is free costs no
//! system call at all, only an atomic instruction.
//!
//! Linux only. `FUTEX_PRIVATE_FLAG`: the word is not shared with other processes, which lets the
//! kernel skip a lookup. `wait` returns early on a signal (`EINTR`), when the word has already
//! changed (`EAGAIN`), or spuriously, so every caller loops and re-checks the word.

use std::sync::atomic::AtomicU32;

/// Sleeps while `word` holds `expected` (returns at once if it does not). May return spuriously.
pub fn wait(word: &AtomicU32, expected: u32) {
    // SAFETY: FUTEX_WAIT reads the aligned u32 behind `word`, which the reference keeps alive
    // for the whole call; a null timeout means "no timeout". The result (0, EINTR, EAGAIN) is
    // ignored on purpose: every caller re-checks the word in a loop.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
            expected,
            std::ptr::null::<libc::timespec>(),
        );
    }
}

/// Wakes one thread sleeping in [`wait`] on `word`, if any.
pub fn wake_one(word: &AtomicU32) {
    // SAFETY: FUTEX_WAKE only uses the address of `word` as a key; it reads no memory.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
            1,
        );
    }
}

/// Wakes every thread sleeping in [`wait`] on `word`.
pub fn wake_all(word: &AtomicU32) {
    // SAFETY: FUTEX_WAKE only uses the address of `word` as a key; it reads no memory.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
            i32::MAX,
        );
    }
}
