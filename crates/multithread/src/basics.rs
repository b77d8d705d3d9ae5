//! Threads in std: spawn and join, scoped threads, `Builder`, thread-locals, park and unpark.
//!
//! A thread is a second flow of control *inside* one process: it shares the heap, the open
//! descriptors and the code, and has only its own stack and registers. That makes threads cheap
//! to start and cheap to talk between — and it is why Rust checks, at compile time, what may
//! cross from one thread to another (`Send`) and what may be shared (`Sync`).
//!
//! - [`spawn_and_join`]: `thread::spawn` takes a `'static` closure (the thread may outlive the
//!   caller), so it must own what it uses (`move`); `join` returns the closure's value, or the
//!   payload of its panic as an `Err` — a panic ends one thread, not the process.
//! - [`scoped_sum`]: `thread::scope` guarantees every thread it spawns is joined before it
//!   returns, so the threads may *borrow* the caller's data — no `Arc`, no copy.
//! - [`named_thread`]: `thread::Builder` sets a name (shown in panics, `top -H`, `/proc/<pid>/task`)
//!   and a stack size; `spawn` through it returns an `io::Result` instead of panicking when the
//!   system cannot make another thread.
//! - [`thread_local_counts`]: a `thread_local!` has one independent value per thread (Python's
//!   `threading.local`): no lock, because nothing is shared.
//! - [`park_handshake`]: `park` blocks a thread until another `unpark`s it; a token makes an
//!   `unpark` that comes first not get lost. The pitfall: `park` may also return spuriously, so
//!   it is always used in a loop over a condition.

use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

/// Spawns `count` threads, each returning `index * index`, and joins them in order.
///
/// A thread whose closure panics gives `Err(message)` in its place; the others are unaffected.
pub fn spawn_and_join(count: usize, panic_at: Option<usize>) -> Vec<Result<usize, String>> {
    let handles: Vec<_> = (0..count)
        .map(|index| {
            thread::spawn(move || {
                if Some(index) == panic_at {
                    panic!("thread {index} gave up");
                }
                index * index
            })
        })
        .collect();
    handles
        .into_iter()
        .map(|handle| {
            handle
                .join()
                .map_err(|payload| labkit::panic::message(&*payload))
        })
        .collect()
}

/// Sums `data` with `threads` scoped threads, each summing one contiguous chunk it *borrows*.
pub fn scoped_sum(data: &[u64], threads: usize) -> u64 {
    // BEGIN SOLUTION: mt-scoped-sum
    let threads = threads.max(1);
    let chunk = data.len().div_ceil(threads).max(1);
    thread::scope(|scope| {
        let partial: Vec<_> = data
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().sum::<u64>()))
            .collect();
        // Every thread is joined here; the scope would join them anyway before returning.
        partial.into_iter().map(|h| h.join().unwrap()).sum()
    })
    // END SOLUTION
}

/// Runs `work` on a thread called `name` with a `stack_bytes` stack; returns the name the
/// thread saw for itself and the work's value.
pub fn named_thread<T: Send + 'static>(
    name: &str,
    stack_bytes: usize,
    work: impl FnOnce() -> T + Send + 'static,
) -> std::io::Result<(String, T)> {
    let handle = thread::Builder::new()
        .name(name.to_string())
        .stack_size(stack_bytes)
        .spawn(move || {
            let seen = thread::current().name().unwrap_or("<unnamed>").to_string();
            (seen, work())
        })?;
    handle
        .join()
        .map_err(|payload| std::io::Error::other(labkit::panic::message(&*payload)))
}

thread_local! {
    /// How many times [`bump`] ran on the current thread.
    static BUMPS: Cell<u64> = const { Cell::new(0) };
}

/// Adds one to this thread's counter and returns the new value.
fn bump() -> u64 {
    BUMPS.with(|count| {
        count.set(count.get() + 1);
        count.get()
    })
}

/// `threads` threads each bump their own thread-local counter `per_thread` times; returns what
/// each one ends with, and what the calling thread's counter is afterwards.
pub fn thread_local_counts(threads: usize, per_thread: u64) -> (Vec<u64>, u64) {
    let finals = thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| scope.spawn(move || (0..per_thread).fold(0, |_, _| bump())))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    (finals, BUMPS.with(Cell::get))
}

/// A worker parks until the caller sets a flag and unparks it; returns how many times the
/// worker returned from `park` before it saw the flag (0 if the flag was set before it looked).
pub fn park_handshake() -> usize {
    let ready = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&ready);
    let worker = thread::spawn(move || {
        let mut wakeups = 0;
        // park can return spuriously, and an unpark that came first returns at once: loop.
        while !flag.load(Ordering::Acquire) {
            thread::park();
            wakeups += 1;
        }
        wakeups
    });
    ready.store(true, Ordering::Release);
    worker.thread().unpark();
    worker.join().unwrap()
}
