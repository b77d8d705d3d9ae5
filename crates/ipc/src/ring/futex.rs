//! Step 2 of the ring's waiting: spin briefly, then sleep on a **process-shared futex** in the
//! ring's own mapping, and be woken by the other side — which makes the system call only when
//! this side has said it sleeps.
//!
//! **Why a futex works between processes.** A futex is a 32-bit word; `FUTEX_WAIT` puts the
//! caller to sleep *if the word still holds the expected value*, `FUTEX_WAKE` wakes sleepers on
//! the word. The kernel finds "the same futex" by a key. With `FUTEX_PRIVATE_FLAG` (what a
//! mutex between threads uses) the key is the *virtual address* in this process — useless to
//! another process, which maps the segment at another address. Without it, the key is the
//! *physical page* (for a shared mapping: the file and the offset in it) plus the offset in the
//! page, so the parent and the child, each with its own address, name the same futex. The call
//! itself is the sync-primitives chapter's ([`sync_primitives::futex`]), with
//! [`Scope::Shared`]; what this module adds is the protocol around it.
//!
//! **The protocol, and the lost wake-up it prevents.** The waker wants to skip the system call
//! when nobody sleeps, so each side that may sleep has a flag, the futex word itself
//! (`0` awake, `1` sleeping). Take the consumer (the producer waiting for room is the mirror):
//!
//! ```text
//!   consumer (ring empty, spun enough)      producer (after a push)
//!   1. flag = SLEEPING                       a. head = head + n      (Release, in push)
//!   2. fence(SeqCst)                         b. fence(SeqCst)
//!   3. re-check: head moved? then return     c. flag == SLEEPING? then flag = AWAKE, FUTEX_WAKE
//!   4. FUTEX_WAIT(flag, SLEEPING)
//! ```
//!
//! Without step 1–3 (check `head`, then sleep) a push landing between the check and the sleep
//! is missed: the producer saw no sleeper, the consumer sleeps on bytes that are already there.
//! With them, *either* the consumer's re-check (3) sees the new `head`, *or* the producer's
//! check (c) sees `SLEEPING` — never neither. And step 4 closes the last gap: the kernel
//! compares the word with `SLEEPING` atomically with queuing the sleeper, so a wake (which sets
//! `AWAKE` first) that lands between 3 and 4 makes `FUTEX_WAIT` return at once.
//!
//! **The memory ordering.** "Either 3 sees a, or c sees 1" is a *store then load* on each side,
//! to different words: the one reordering x86 does (a store waits in the store buffer while the
//! later load runs), and Release/Acquire do not forbid it — both sides could read the old
//! value, and the consumer would sleep with the producer gone. A `SeqCst` fence between each
//! side's store and its load (2 and b) forbids it: the two fences are ordered one way or the
//! other, and whichever comes second sees the other side's store. Everything else is `Relaxed`:
//! the bytes travel by `head`'s Release/Acquire pair, the futex only says *when* to look. The
//! fence is the fast path's only cost (one locked instruction on x86); no system call.
//!
//! Every wait has a timeout (the ring's patience), and `FUTEX_WAIT` may return early (a signal,
//! the word already changed): the caller re-checks its condition in a loop either way.
//!
//! [`FutexWord`] is what the protocol needs from the word, so the model checker test
//! (`tests/ring_loom.rs`) runs this very code on a simulated futex, under every interleaving.

use std::sync::atomic::{AtomicU32, Ordering, fence};
use std::time::Duration;

use sync_primitives::futex::{Scope, futex_wait, futex_wake};

/// The flag of a side that runs or spins.
pub const AWAKE: u32 = 0;
/// The flag of a side that is about to sleep, or sleeps, on the word.
pub const SLEEPING: u32 = 1;

/// A 32-bit word a side may sleep on: an atomic, the futex calls on it, and the fence of the
/// protocol (a method, so that a model checker can put in its own).
pub trait FutexWord {
    /// The flag, `Relaxed`.
    fn load(&self) -> u32;
    /// Sets the flag, `Relaxed`.
    fn store(&self, value: u32);
    /// Sets the flag and returns the old one, `Relaxed`.
    fn swap(&self, value: u32) -> u32;
    /// Sleeps while the word holds `expected`, for at most `timeout`; may return early.
    fn wait(&self, expected: u32, timeout: Duration);
    /// Wakes the side sleeping on the word, if it sleeps.
    fn wake(&self);
    /// `fence(SeqCst)`: orders this side's store before its next load.
    fn fence(&self);
}

/// The waiting side (steps 1–4): says it sleeps, re-checks `ready`, and sleeps unless it was
/// ready or woken. Returns when `ready` may be true (or `timeout` passed); the caller re-checks.
pub fn sleep_unless(word: &impl FutexWord, ready: impl Fn() -> bool, timeout: Duration) {
    word.store(SLEEPING);
    word.fence();
    if !ready() {
        word.wait(SLEEPING, timeout);
    }
    // Woken (the waker set AWAKE already), timed out or interrupted: awake again either way.
    word.store(AWAKE);
}

/// The side that just moved its counter (steps b–c): wakes the other side if it said it
/// sleeps. Without a sleeper this is a fence and a load — no system call.
pub fn wake_if_sleeping(word: &impl FutexWord) {
    word.fence();
    // The swap makes one wake per sleep: a second push finds AWAKE and skips the call.
    if word.load() == SLEEPING && word.swap(AWAKE) == SLEEPING {
        word.wake();
    }
}

/// A futex word in shared memory, used across processes (no `FUTEX_PRIVATE_FLAG`).
#[derive(Debug, Default)]
#[repr(transparent)]
pub struct SharedFutex(AtomicU32);

impl FutexWord for SharedFutex {
    fn load(&self) -> u32 {
        self.0.load(Ordering::Relaxed)
    }

    fn store(&self, value: u32) {
        self.0.store(value, Ordering::Relaxed)
    }

    fn swap(&self, value: u32) -> u32 {
        self.0.swap(value, Ordering::Relaxed)
    }

    fn wait(&self, expected: u32, timeout: Duration) {
        futex_wait(&self.0, expected, Scope::Shared, Some(timeout));
    }

    fn wake(&self) {
        // One sleeper at most: a ring has one per side.
        futex_wake(&self.0, 1, Scope::Shared);
    }

    fn fence(&self) {
        fence(Ordering::SeqCst);
    }
}
