//! Lesson 2 — an event: Python's `threading.Event` (set, clear, is_set, wait, wait with a
//! timeout) on a `Mutex<bool>` and a `Condvar`.
//!
//! A condition variable is how a thread sleeps until *a condition on shared state* becomes true:
//! it releases the mutex and sleeps in one step (so no `notify` can slip in between), and wakes
//! holding the mutex again. The flag is the state; the condition variable only says "look again".
//!
//! The pitfall is to trust a wake-up: `Condvar::wait` may return without any `notify`
//! (a *spurious* wake-up), and a `notify` sent before anyone waits is not remembered. So a
//! waiter always re-checks the flag in a loop (`wait_while` is that loop), and the flag, not the
//! notification, carries the news. The timed wait must keep the *original* deadline across
//! spurious wake-ups, or a stream of them would make it wait forever.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// A flag threads can wait on: `set` wakes every waiter; `clear` resets it.
#[derive(Debug, Default)]
pub struct Event {
    /// Whether the event is set. Only changed under this mutex, so a waiter cannot miss a `set`.
    flag: Mutex<bool>,
    /// Notified (all waiters) whenever `flag` becomes true.
    changed: Condvar,
}

impl Event {
    /// A new, cleared event.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the flag and wakes every waiter.
    pub fn set(&self) {
        *self.lock() = true;
        self.changed.notify_all();
    }

    /// Clears the flag; later waiters block until the next `set`.
    pub fn clear(&self) {
        *self.lock() = false;
    }

    /// Whether the flag is set now.
    pub fn is_set(&self) -> bool {
        *self.lock()
    }

    /// Blocks until the flag is set (returns at once if it already is).
    pub fn wait(&self) {
        let guard = self.lock();
        let _set = self
            .changed
            .wait_while(guard, |set| !*set)
            .unwrap_or_else(|p| p.into_inner());
    }

    /// Blocks until the flag is set or `timeout` has passed; returns whether it is set
    /// (Python's `Event.wait(timeout)`).
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        // BEGIN SOLUTION: sync-event-wait-timeout
        let guard = self.lock();
        // `wait_timeout_while` re-checks after every wake-up and keeps the original deadline.
        let (set, _timed_out) = self
            .changed
            .wait_timeout_while(guard, timeout, |set| !*set)
            .unwrap_or_else(|p| p.into_inner());
        *set
        // END SOLUTION
    }

    /// The flag's lock. A panic while holding it cannot break a `bool`, so poisoning is ignored.
    fn lock(&self) -> MutexGuard<'_, bool> {
        self.flag.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Wakes every waiter *without* setting the flag: a spurious wake-up, made on purpose so the
    /// tests can check that waiters look again instead of trusting the wake-up.
    #[doc(hidden)]
    pub fn wake_spuriously(&self) {
        self.changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_clear_and_is_set() {
        let event = Event::new();
        assert!(!event.is_set());
        event.set();
        assert!(event.is_set());
        event.wait(); // already set: returns at once
        event.clear();
        assert!(!event.is_set());
    }
}
