//! Lesson 3 — a counting semaphore: at most N holders at once.
//!
//! A semaphore is a counter of *permits* behind a mutex, with a condition variable for the
//! threads waiting for one: `acquire` takes a permit (waiting while there are none), `release`
//! gives one back. With N permits it bounds how many threads are inside a region — a pool of N
//! database connections, N downloads at a time. With 0 permits and `release` called by another
//! thread, it is a signal from one thread to another (the 12A34B printer uses two of them).
//!
//! In Rust the permit is a value: [`Permit`] gives itself back when dropped, so an early return
//! or a panic cannot leak one. [`Permit::forget`] keeps it taken, for the signalling use, where
//! the thread that gives the permit back is not the one that took it.
//!
//! The pitfall is waking: `release` must notify *after* incrementing under the lock, and a waiter
//! must loop on "no permits" (another thread may have taken the permit it was woken for).

use std::sync::{Condvar, Mutex, MutexGuard};

/// A counting semaphore.
#[derive(Debug)]
pub struct Semaphore {
    /// Permits available now.
    permits: Mutex<usize>,
    /// Notified (one waiter) whenever a permit is given back.
    released: Condvar,
}

/// One permit of a [`Semaphore`], given back when dropped.
#[derive(Debug)]
#[must_use = "dropping a permit gives it back at once"]
pub struct Permit<'a> {
    semaphore: &'a Semaphore,
}

impl Semaphore {
    /// A semaphore with `permits` permits.
    pub fn new(permits: usize) -> Self {
        Semaphore {
            permits: Mutex::new(permits),
            released: Condvar::new(),
        }
    }

    /// Takes a permit, waiting while there is none.
    pub fn acquire(&self) -> Permit<'_> {
        let permits = self.lock();
        let mut permits = self
            .released
            .wait_while(permits, |available| *available == 0)
            .unwrap_or_else(|p| p.into_inner());
        *permits -= 1;
        Permit { semaphore: self }
    }

    /// Takes a permit if one is available now.
    pub fn try_acquire(&self) -> Option<Permit<'_>> {
        let mut permits = self.lock();
        if *permits == 0 {
            return None;
        }
        *permits -= 1;
        Some(Permit { semaphore: self })
    }

    /// Gives a permit back (or adds one): wakes one waiter.
    pub fn release(&self) {
        *self.lock() += 1;
        self.released.notify_one();
    }

    /// Permits available now (a snapshot: it may change as soon as it is returned).
    pub fn available(&self) -> usize {
        *self.lock()
    }

    /// The counter's lock; poisoning is ignored (a panic cannot break a count).
    fn lock(&self) -> MutexGuard<'_, usize> {
        self.permits.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Permit<'_> {
    /// Keeps the permit taken: someone else will `release` it (signalling between threads).
    pub fn forget(self) {
        std::mem::forget(self);
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.semaphore.release();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permits_are_counted_and_given_back() {
        let semaphore = Semaphore::new(2);
        let a = semaphore.acquire();
        let b = semaphore.try_acquire().expect("a second permit");
        assert!(semaphore.try_acquire().is_none(), "only two permits");
        drop(a);
        assert_eq!(semaphore.available(), 1);
        b.forget();
        assert_eq!(semaphore.available(), 1, "a forgotten permit stays taken");
        semaphore.release();
        assert_eq!(semaphore.available(), 2);
    }
}
