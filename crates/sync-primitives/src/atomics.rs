//! Lesson 7 — atomics and memory ordering: passing a message with a flag, and a spinlock.
//!
//! One thread writes some data and then sets a flag; another waits for the flag and then reads
//! the data. With `Ordering::Relaxed` on the flag that is **wrong**: Relaxed promises only that
//! each variable on its own is updated atomically, not that other writes are visible in order,
//! so the reader may see the flag and still read the old data. The compiler may reorder the two
//! stores, and on ARM or POWER the CPU does so too. The fix is a `Release` store of the flag
//! paired with an `Acquire` load of it: everything written before the release is visible after
//! the acquire that sees it (a *happens-before* edge).
//!
//! On x86-64 the hardware keeps stores in order (TSO), so the Relaxed version usually *works*
//! there — which is what makes the bug dangerous: tests pass on a laptop, and the program breaks
//! on a phone or after a compiler upgrade. No run on this machine proves Relaxed wrong; the model
//! checker loom does (`tests/loom_message_passing.rs` models this protocol and finds the run).
//!
//! The spinlock lives in [`crate::spinlock`].

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;

/// The orderings a message-passing run uses for the flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagOrdering {
    /// `Relaxed` store and load of the flag: wrong, the data may not be visible yet.
    Relaxed,
    /// `Release` store, `Acquire` load: the data written before the flag is visible after it.
    ReleaseAcquire,
}

/// Sends `message` from one thread to another with a data word and a ready flag; returns what the
/// receiver read. With [`FlagOrdering::ReleaseAcquire`] it is always `message`.
pub fn pass_message(message: u64, ordering: FlagOrdering) -> u64 {
    let (store, load) = match ordering {
        FlagOrdering::Relaxed => (Ordering::Relaxed, Ordering::Relaxed),
        FlagOrdering::ReleaseAcquire => (Ordering::Release, Ordering::Acquire),
    };
    let data = AtomicU64::new(0);
    let ready = AtomicBool::new(false);
    thread::scope(|s| {
        let receiver = s.spawn(|| {
            while !ready.load(load) {
                std::hint::spin_loop();
            }
            data.load(Ordering::Relaxed)
        });
        data.store(message, Ordering::Relaxed);
        ready.store(true, store);
        receiver.join().expect("the receiver panicked")
    })
}
