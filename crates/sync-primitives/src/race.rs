//! Lesson 1 — a race: the shared counter that loses updates, and two ways to fix it.
//!
//! `counter += 1` is three steps: read the value, add one, write it back. Two threads that both
//! read before either writes both write the same number, and one increment is lost. Rust refuses
//! to compile the naive version, because two threads would hold `&mut counter` at once:
//!
//! ```compile_fail
//! let mut counter = 0;
//! std::thread::scope(|s| {
//!     s.spawn(|| counter += 1); // error[E0499]: cannot borrow `counter` as mutable more than once
//!     s.spawn(|| counter += 1);
//! });
//! ```
//!
//! To lose updates anyway we have to ask for it. [`RacyCounter`] shares an `UnsafeCell` across
//! threads and promises (with `unsafe`) that accesses never overlap; [`forced_lost_update`]
//! keeps that promise — a barrier separates every read from every write, so there is no *data
//! race* — and still loses an update, because both threads read before either writes. That is a
//! *race condition*: a bug of logic that no type system catches.
//!
//! The free-running version cannot use `UnsafeCell`: unsynchronised writes to plain memory are
//! undefined behaviour (the compiler may keep the value in a register and add 1,000,000 in one
//! go). [`split_increments`] makes the same read-then-write with two separate atomic operations
//! (`load`, then `store`), which is defined behaviour and loses updates just the same. The fixes:
//! hold a [`Mutex`] across the read and the write ([`mutex_increments`]), or make the whole
//! read-modify-write one atomic instruction, `fetch_add` ([`atomic_increments`]).

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Barrier, Mutex};
use std::thread;

/// A counter in an `UnsafeCell`, shared across threads on a promise that no two accesses
/// overlap unless both are reads.
#[derive(Debug)]
pub struct RacyCounter {
    value: UnsafeCell<u64>,
}

// SAFETY: every access to `value` goes through `read`/`write`, which are `unsafe fn`s whose
// callers promise the accesses are ordered (no write concurrent with another access).
unsafe impl Sync for RacyCounter {}

impl RacyCounter {
    /// A counter starting at `value`.
    pub fn new(value: u64) -> Self {
        RacyCounter {
            value: UnsafeCell::new(value),
        }
    }

    /// Reads the value.
    ///
    /// # Safety
    /// No `write` may run concurrently with this read (other reads may).
    pub unsafe fn read(&self) -> u64 {
        // SAFETY: the caller promises no concurrent write.
        unsafe { *self.value.get() }
    }

    /// Writes the value.
    ///
    /// # Safety
    /// No other access (read or write) may run concurrently with this write.
    pub unsafe fn write(&self, value: u64) {
        // SAFETY: the caller promises this write overlaps no other access.
        unsafe { *self.value.get() = value }
    }

    /// The value, once no thread shares the counter any more.
    pub fn into_inner(self) -> u64 {
        self.value.into_inner()
    }
}

/// Two threads increment a [`RacyCounter`] once each, in the one interleaving that loses an
/// update: both read 0, then A writes 1, then B writes 1. Returns the final value: 1, not 2.
///
/// The interleaving is forced with a barrier, not hoped for, so the result is the same on every
/// run and every machine.
pub fn forced_lost_update() -> u64 {
    let counter = RacyCounter::new(0);
    let barrier = Barrier::new(2);
    thread::scope(|s| {
        for first in [true, false] {
            let (counter, barrier) = (&counter, &barrier);
            s.spawn(move || {
                // SAFETY: both threads only read before the first barrier.
                let seen = unsafe { counter.read() };
                barrier.wait(); // both have read
                if first {
                    // SAFETY: between the barriers only this thread touches the counter.
                    unsafe { counter.write(seen + 1) };
                    barrier.wait();
                } else {
                    barrier.wait(); // the other thread has written
                    // SAFETY: after the second barrier only this thread touches the counter.
                    unsafe { counter.write(seen + 1) };
                }
            });
        }
    });
    counter.into_inner()
}

/// What a run of `threads × per_thread` increments ended with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    /// `threads × per_thread`: what the counter should read.
    pub expected: u64,
    /// What it did read.
    pub actual: u64,
}

impl Tally {
    /// Increments that were lost.
    pub fn lost(&self) -> u64 {
        self.expected - self.actual
    }
}

/// The broken counter, free-running: each increment is a `load` then a separate `store`, so
/// another thread's increments between the two are overwritten. Defined behaviour, wrong result.
pub fn split_increments(threads: usize, per_thread: u64) -> Tally {
    let counter = AtomicU64::new(0);
    run(threads, per_thread, || {
        let value = counter.load(Ordering::Relaxed);
        counter.store(value + 1, Ordering::Relaxed);
    });
    tally(threads, per_thread, counter.into_inner())
}

/// Fix 1: the read and the write happen under one lock.
pub fn mutex_increments(threads: usize, per_thread: u64) -> Tally {
    let counter = Mutex::new(0u64);
    run(threads, per_thread, || {
        *counter.lock().unwrap() += 1;
    });
    tally(threads, per_thread, counter.into_inner().unwrap())
}

/// Fix 2: the read-modify-write is one atomic instruction (`lock xadd` on x86-64).
pub fn atomic_increments(threads: usize, per_thread: u64) -> Tally {
    let counter = AtomicU64::new(0);
    run(threads, per_thread, || {
        counter.fetch_add(1, Ordering::Relaxed);
    });
    tally(threads, per_thread, counter.into_inner())
}

/// Runs `increment` `per_thread` times on each of `threads` threads, all started together.
fn run(threads: usize, per_thread: u64, increment: impl Fn() + Sync) {
    let start = Barrier::new(threads);
    thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                start.wait(); // line the threads up, so they really overlap
                for _ in 0..per_thread {
                    increment();
                }
            });
        }
    });
}

fn tally(threads: usize, per_thread: u64, actual: u64) -> Tally {
    Tally {
        expected: threads as u64 * per_thread,
        actual,
    }
}
