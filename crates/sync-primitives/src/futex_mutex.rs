//! Lesson 8 — a mutex and a condition variable on Linux's futex, the way std builds its own.
//!
//! The mutex is one `AtomicU32` with three states:
//!
//! ```text
//!   0 unlocked ──lock (CAS 0→1)──▶ 1 locked, nobody waiting ──a second locker──▶ 2 locked, contended
//!        ▲                                 │ unlock: swap(0) was 1                    │ unlock: swap(0) was 2
//!        └─────────── no system call ──────┘                      wake_one (a syscall)┘
//! ```
//!
//! Uncontended, `lock` and `unlock` are one atomic instruction each and never enter the kernel.
//! A thread that finds the lock taken spins briefly (the holder may be about to let go), then
//! marks it *contended* (2) and sleeps in `futex::wait` while it stays 2. An unlock that swaps
//! out a 2 knows someone may be sleeping and wakes one. The woken thread swaps in 2 again — it
//! cannot know whether others still sleep — so one unlock may make an unneeded `wake` call, but
//! none is ever missed.
//!
//! The pitfall is the unlock path, and the lesson grows in two steps to show it (both are here,
//! selectable with [`Unlock`]):
//!
//! 1. [`Unlock::LoadThenStore`] — the first version one writes: *read* the state to learn whether
//!    anyone waits, then *store* 0, then wake if the read said 2. It loses wake-ups. A waiter that
//!    arrives between the read and the store swaps in 2 and goes to sleep; the unlocker, which
//!    read 1, stores 0 and wakes nobody. The lock is free and the waiter sleeps forever.
//! 2. [`Unlock::Swap`] — the fix: swapping to 0 *and* learning what was there is one atomic
//!    step, so no waiter can slip in between.
//!
//! The window is a few nanoseconds, so a test of real threads would almost never see it;
//! `tests/loom_futex_mutex.rs` runs both unlock protocols under loom, which tries every
//! interleaving: it finds the sleeper that is never woken in step 1, and proves step 2 has none.
//!
//! The [`Condvar`] is a counter on a second futex word: `wait` reads the counter, unlocks the
//! mutex, and sleeps only if the counter has not moved — so a `notify` that lands between the
//! unlock and the sleep changes the counter and the sleep returns at once. Linux only.

use std::cell::UnsafeCell;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU32, Ordering};

use crate::futex;

/// How [`Mutex`] unlocks: the lesson's two steps (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Unlock {
    /// Step 2, correct: `swap(0)` releases the lock and tells whether anyone may sleep, at once.
    #[default]
    Swap,
    /// Step 1, kept for the lesson: `load`, then `store(0)` — a waiter arriving in between is
    /// never woken.
    LoadThenStore,
}

const UNLOCKED: u32 = 0;
const LOCKED: u32 = 1;
const CONTENDED: u32 = 2;

/// A mutual-exclusion lock on one futex word.
#[derive(Debug, Default)]
pub struct Mutex<T> {
    /// 0: unlocked, 1: locked and nobody waiting, 2: locked and someone may be waiting.
    state: AtomicU32,
    /// Which of the lesson's two unlock protocols this mutex uses.
    unlock: Unlock,
    value: UnsafeCell<T>,
}

// SAFETY: the mutex gives one thread at a time access to `value` (through a guard), so sharing
// it only moves access to `T` between threads: `T: Send` is enough.
unsafe impl<T: Send> Sync for Mutex<T> {}

/// Access to a [`Mutex`]'s value; unlocks when dropped.
#[derive(Debug)]
#[must_use = "dropping the guard unlocks the mutex at once"]
pub struct MutexGuard<'a, T> {
    mutex: &'a Mutex<T>,
}

impl<T> Mutex<T> {
    /// An unlocked mutex holding `value`.
    pub const fn new(value: T) -> Self {
        Mutex::with_unlock(value, Unlock::Swap)
    }

    /// An unlocked mutex that unlocks with `unlock` — [`Unlock::LoadThenStore`] only to see the
    /// lost wake-up.
    pub const fn with_unlock(value: T, unlock: Unlock) -> Self {
        Mutex {
            state: AtomicU32::new(UNLOCKED),
            unlock,
            value: UnsafeCell::new(value),
        }
    }

    /// Locks, sleeping in the kernel while another thread holds the lock.
    pub fn lock(&self) -> MutexGuard<'_, T> {
        if self
            .state
            .compare_exchange(UNLOCKED, LOCKED, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            self.lock_contended();
        }
        MutexGuard { mutex: self }
    }

    /// The slow path: spin a little, then mark the lock contended and sleep until it is ours.
    #[cold]
    fn lock_contended(&self) {
        let mut spins = 0;
        while self.state.load(Ordering::Relaxed) == LOCKED && spins < 100 {
            spins += 1;
            std::hint::spin_loop();
        }
        if self
            .state
            .compare_exchange(UNLOCKED, LOCKED, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
        {
            return;
        }
        // Swapping in CONTENDED both tries to take the lock (if it was 0) and tells the holder to
        // wake someone. We own it only when the old value was UNLOCKED.
        while self.state.swap(CONTENDED, Ordering::Acquire) != UNLOCKED {
            futex::wait(&self.state, CONTENDED);
        }
    }

    /// The lock if it is free now.
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        self.state
            .compare_exchange(UNLOCKED, LOCKED, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
            // `then`, not `then_some`: a guard built eagerly and dropped on failure would unlock
            // somebody else's lock.
            .then(|| MutexGuard { mutex: self })
    }

    /// Unlocks; wakes one sleeper if the lock was contended. Called by the guard's `drop`.
    fn unlock(&self) {
        if self.unlock == Unlock::LoadThenStore {
            return self.unlock_load_then_store();
        }
        // BEGIN SOLUTION: sync-futex-unlock
        // One atomic step: release the lock and learn whether anyone may be sleeping on it.
        if self.state.swap(UNLOCKED, Ordering::Release) == CONTENDED {
            futex::wake_one(&self.state);
        }
        // END SOLUTION
    }

    /// Step 1, with its bug: between the `load` and the `store` a waiter may swap in 2 and sleep;
    /// the store then erases that 2, and nobody wakes the waiter.
    fn unlock_load_then_store(&self) {
        let was = self.state.load(Ordering::Relaxed);
        self.state.store(UNLOCKED, Ordering::Release);
        if was == CONTENDED {
            futex::wake_one(&self.state);
        }
    }

    /// The state word: 0 unlocked, 1 locked, 2 locked and contended. For tests and teaching;
    /// it may change as soon as it is read.
    pub fn state(&self) -> u32 {
        self.state.load(Ordering::Relaxed)
    }

    /// The value, once nobody shares the mutex.
    pub fn into_inner(self) -> T {
        self.value.into_inner()
    }
}

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: this guard exists, so the mutex is locked by us alone.
        unsafe { &*self.mutex.value.get() }
    }
}

impl<T> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: this guard exists, so the mutex is locked by us alone, and `&mut self` makes
        // the reference unique for its lifetime.
        unsafe { &mut *self.mutex.value.get() }
    }
}

impl<T> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        self.mutex.unlock();
    }
}

/// A condition variable for [`Mutex`], on a futex word that counts notifications.
#[derive(Debug, Default)]
pub struct Condvar {
    /// Bumped by every notify; a waiter sleeps only while it still holds the value it read.
    notifications: AtomicU32,
}

impl Condvar {
    /// A condition variable nobody waits on.
    pub const fn new() -> Self {
        Condvar {
            notifications: AtomicU32::new(0),
        }
    }

    /// Unlocks, sleeps until notified (or spuriously), and locks again. Callers loop on their
    /// condition, as with every condition variable.
    pub fn wait<'a, T>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
        // Read the counter *before* unlocking: a notify after the unlock changes it, and the
        // kernel then refuses to put us to sleep.
        let seen = self.notifications.load(Ordering::Relaxed);
        let mutex = guard.mutex;
        drop(guard);
        futex::wait(&self.notifications, seen);
        mutex.lock()
    }

    /// Waits until `condition` is false, re-checking after every wake-up.
    pub fn wait_while<'a, T>(
        &self,
        mut guard: MutexGuard<'a, T>,
        mut condition: impl FnMut(&mut T) -> bool,
    ) -> MutexGuard<'a, T> {
        while condition(&mut guard) {
            guard = self.wait(guard);
        }
        guard
    }

    /// Wakes one waiter.
    pub fn notify_one(&self) {
        self.notifications.fetch_add(1, Ordering::Relaxed);
        futex::wake_one(&self.notifications);
    }

    /// Wakes every waiter.
    pub fn notify_all(&self) {
        self.notifications.fetch_add(1, Ordering::Relaxed);
        futex::wake_all(&self.notifications);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn futex_mutex_uncontended_lock_and_unlock_stay_in_user_space() {
        let mutex = Mutex::new(5);
        {
            let mut guard = mutex.lock();
            assert_eq!(mutex.state(), LOCKED, "locked, nobody waiting");
            *guard += 1;
            assert!(mutex.try_lock().is_none(), "a second lock must fail");
            assert_eq!(
                mutex.state(),
                LOCKED,
                "a failed try_lock must leave the lock held"
            );
        }
        assert_eq!(mutex.state(), UNLOCKED);
        assert_eq!(mutex.into_inner(), 6);
    }
}
