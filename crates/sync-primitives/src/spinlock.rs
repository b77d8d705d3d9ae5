//! Lesson 7 (continued) — a spinlock with a guard, and why spinning hurts on two cores.
//!
//! The smallest lock there is: an `AtomicBool` that `lock` flips from false to true with an
//! `Acquire` swap (retrying until it wins) and the guard's `drop` sets back to false with a
//! `Release` store. The guard is what makes it safe: the data is reachable only through a
//! [`SpinGuard`], and dropping the guard is the only way to unlock, so nobody forgets to unlock
//! and nobody touches the data unlocked.
//!
//! The pitfall is the waiting. A waiter burns its CPU retrying, which is fine when the holder is
//! running on another core and will let go within nanoseconds. With more threads than cores the
//! holder may be *preempted* inside the critical section: then every waiter spins for a whole
//! time slice (milliseconds) while the one thread that could make progress is not running. On
//! this two-core machine, four threads contending for a spinlock are many times slower than for
//! a mutex, which puts waiters to sleep in the kernel (measured in the chapter's benchmark and by
//! the `spinlock_vs_mutex` example).

use std::cell::UnsafeCell;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, Ordering};

/// A lock whose waiters spin instead of sleeping.
#[derive(Debug, Default)]
pub struct SpinLock<T> {
    /// Whether some guard exists.
    locked: AtomicBool,
    value: UnsafeCell<T>,
}

// SAFETY: the lock hands out access to `value` to one thread at a time (through a guard), so
// sharing the lock is sharing `T` by moving access between threads: `T: Send` is enough.
unsafe impl<T: Send> Sync for SpinLock<T> {}

/// Access to a [`SpinLock`]'s value; unlocks when dropped.
#[derive(Debug)]
pub struct SpinGuard<'a, T> {
    lock: &'a SpinLock<T>,
}

impl<T> SpinLock<T> {
    /// An unlocked spinlock holding `value`.
    pub const fn new(value: T) -> Self {
        SpinLock {
            locked: AtomicBool::new(false),
            value: UnsafeCell::new(value),
        }
    }

    /// Spins until the lock is ours.
    pub fn lock(&self) -> SpinGuard<'_, T> {
        while self.locked.swap(true, Ordering::Acquire) {
            // Wait with plain loads (no cache-line ping-pong from repeated swaps) until it looks free.
            while self.locked.load(Ordering::Relaxed) {
                std::hint::spin_loop();
            }
        }
        SpinGuard { lock: self }
    }

    /// The lock if it is free now.
    pub fn try_lock(&self) -> Option<SpinGuard<'_, T>> {
        // `then`, not `then_some`: a guard built eagerly and dropped on failure would unlock.
        (!self.locked.swap(true, Ordering::Acquire)).then(|| SpinGuard { lock: self })
    }

    /// The value, once nobody shares the lock.
    pub fn into_inner(self) -> T {
        self.value.into_inner()
    }
}

impl<T> Deref for SpinGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: this guard exists, so the lock is held by us alone.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T> DerefMut for SpinGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: this guard exists, so the lock is held by us alone; `&mut self` makes the
        // reference unique for its lifetime.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T> Drop for SpinGuard<'_, T> {
    fn drop(&mut self) {
        // Release: our writes to the value are visible to the next thread whose swap sees false.
        self.lock.locked.store(false, Ordering::Release);
    }
}
