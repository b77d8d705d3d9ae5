//! The `futex(2)` system call, the operations the lessons need.
//!
//! A futex ("fast userspace mutex") is a 32-bit word in our memory that the kernel can put
//! threads to sleep on. `wait(word, expected)` sleeps *only if* the word still holds `expected`
//! — checked by the kernel atomically with going to sleep, so a wake-up between our check and
//! the sleep cannot be lost. `wake_one`/`wake_all` wake threads sleeping on the word. Everything
//! else (what the word means, when to sleep) is up to the program: a lock that is free costs no
//! system call at all, only an atomic instruction.
//!
//! Linux only. The kernel finds "the same futex" by a key, and the [`Scope`] decides which:
//! with `FUTEX_PRIVATE_FLAG` ([`Scope::Private`], what a lock between threads uses) the key is
//! the word's virtual address in this process, which spares the kernel a lookup; without it
//! ([`Scope::Shared`]) the key is the physical page and the offset in it, so two processes
//! that map the same memory at different addresses name the same futex — the ipc chapter's
//! ring sleeps that way. `wait` returns early on a signal (`EINTR`), when the word has already
//! changed (`EAGAIN`), at its timeout, or spuriously, so every caller loops and re-checks the
//! word.

use std::sync::atomic::AtomicU32;
use std::time::Duration;

/// Who may sleep on and wake a futex word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The threads of this process (`FUTEX_PRIVATE_FLAG`: keyed by the virtual address).
    Private,
    /// Every process that maps the word's memory (keyed by the page and the offset in it).
    Shared,
}

impl Scope {
    fn flag(self) -> libc::c_int {
        match self {
            Scope::Private => libc::FUTEX_PRIVATE_FLAG,
            Scope::Shared => 0,
        }
    }
}

/// Sleeps while `word` holds `expected` (returns at once if it does not), for at most `timeout`
/// (`None`: no limit). May return early or spuriously: the caller re-checks the word.
pub fn futex_wait(word: &AtomicU32, expected: u32, scope: Scope, timeout: Option<Duration>) {
    let timeout = timeout.map(|t| libc::timespec {
        tv_sec: t.as_secs().try_into().unwrap_or(libc::time_t::MAX),
        tv_nsec: t.subsec_nanos().into(),
    });
    let timeout_ptr = timeout
        .as_ref()
        .map_or(std::ptr::null(), |t| t as *const libc::timespec);
    // SAFETY: FUTEX_WAIT reads the aligned u32 behind `word`, which the reference keeps alive
    // (and, for a shared word, mapped) for the whole call; the timeout is null ("no timeout")
    // or points to a valid relative timespec that outlives the call. The result (0, EINTR,
    // EAGAIN, ETIMEDOUT) is ignored on purpose: every caller re-checks the word in a loop.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT | scope.flag(),
            expected,
            timeout_ptr,
        );
    }
}

/// Wakes up to `count` threads (or processes) sleeping in [`futex_wait`] on `word`.
pub fn futex_wake(word: &AtomicU32, count: i32, scope: Scope) {
    // SAFETY: FUTEX_WAKE only uses the address of `word` to find the key; it reads no memory.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAKE | scope.flag(),
            count,
        );
    }
}

/// Sleeps while `word` holds `expected`, no timeout, between threads. May return spuriously.
pub fn wait(word: &AtomicU32, expected: u32) {
    futex_wait(word, expected, Scope::Private, None);
}

/// Wakes one thread sleeping in [`wait`] on `word`, if any.
pub fn wake_one(word: &AtomicU32) {
    futex_wake(word, 1, Scope::Private);
}

/// Wakes every thread sleeping in [`wait`] on `word`.
pub fn wake_all(word: &AtomicU32) {
    futex_wake(word, i32::MAX, Scope::Private);
}
