//! The four mutexes of the chapter behind one small trait, so the same mutual-exclusion test and
//! the same benchmark run against each: `std::sync::Mutex`, `parking_lot::Mutex`, the lesson's
//! [`futex_mutex::Mutex`](crate::futex_mutex::Mutex) and [`SpinLock`](crate::spinlock::SpinLock).
//!
//! The protected value is a plain `u64` incremented with `+= 1` — a load, an add and a store —
//! so a lock that ever lets two threads in at once loses increments, and the total shows it.

/// A lock around a `u64` counter.
pub trait CounterLock: Sync + Send {
    /// A short name for tables and messages.
    const NAME: &'static str;
    /// A lock around `value`.
    fn new(value: u64) -> Self;
    /// Locks, adds one with a plain (non-atomic) read-modify-write, unlocks.
    fn increment(&self);
    /// The value (locks to read it).
    fn get(&self) -> u64;
}

impl CounterLock for std::sync::Mutex<u64> {
    const NAME: &'static str = "std::sync::Mutex";
    fn new(value: u64) -> Self {
        std::sync::Mutex::new(value)
    }
    fn increment(&self) {
        *self.lock().unwrap_or_else(|p| p.into_inner()) += 1;
    }
    fn get(&self) -> u64 {
        *self.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl CounterLock for parking_lot::Mutex<u64> {
    const NAME: &'static str = "parking_lot::Mutex";
    fn new(value: u64) -> Self {
        parking_lot::Mutex::new(value)
    }
    fn increment(&self) {
        *self.lock() += 1;
    }
    fn get(&self) -> u64 {
        *self.lock()
    }
}

impl CounterLock for crate::futex_mutex::Mutex<u64> {
    const NAME: &'static str = "futex mutex (lesson)";
    fn new(value: u64) -> Self {
        crate::futex_mutex::Mutex::new(value)
    }
    fn increment(&self) {
        *self.lock() += 1;
    }
    fn get(&self) -> u64 {
        *self.lock()
    }
}

impl CounterLock for crate::spinlock::SpinLock<u64> {
    const NAME: &'static str = "spinlock (lesson)";
    fn new(value: u64) -> Self {
        crate::spinlock::SpinLock::new(value)
    }
    fn increment(&self) {
        *self.lock() += 1;
    }
    fn get(&self) -> u64 {
        *self.lock()
    }
}

/// Runs `per_thread` increments on each of `threads` threads (started together) against one
/// lock and returns the final count: `threads × per_thread` for any correct lock.
pub fn hammer<L: CounterLock>(lock: &L, threads: usize, per_thread: u64) -> u64 {
    let start = std::sync::Barrier::new(threads);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                start.wait();
                for _ in 0..per_thread {
                    lock.increment();
                }
            });
        }
    });
    lock.get()
}
