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
    /// Locks, runs `f` on the counter, unlocks.
    fn update(&self, f: impl FnOnce(&mut u64));
    /// Locks, adds one with a plain (non-atomic) read-modify-write, unlocks.
    fn increment(&self) {
        self.update(|count| *count += 1);
    }
    /// The value (locks to read it).
    fn get(&self) -> u64;
}

impl CounterLock for std::sync::Mutex<u64> {
    const NAME: &'static str = "std::sync::Mutex";
    fn new(value: u64) -> Self {
        std::sync::Mutex::new(value)
    }
    fn update(&self, f: impl FnOnce(&mut u64)) {
        f(&mut self.lock().unwrap_or_else(|p| p.into_inner()));
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
    fn update(&self, f: impl FnOnce(&mut u64)) {
        f(&mut self.lock());
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
    fn update(&self, f: impl FnOnce(&mut u64)) {
        f(&mut self.lock());
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
    fn update(&self, f: impl FnOnce(&mut u64)) {
        f(&mut self.lock());
    }
    fn get(&self) -> u64 {
        *self.lock()
    }
}

/// Runs `per_thread` increments on each of `threads` threads (started together) against one
/// lock and returns the final count: `threads × per_thread` for any correct lock.
pub fn hammer<L: CounterLock>(lock: &L, threads: usize, per_thread: u64) -> u64 {
    hammer_with_work(lock, threads, per_thread, 0)
}

/// [`hammer`], with `work` steps of busy work inside each critical section (a longer hold, so
/// a holder is more often preempted while holding the lock).
pub fn hammer_with_work<L: CounterLock>(
    lock: &L,
    threads: usize,
    per_thread: u64,
    work: u32,
) -> u64 {
    let start = std::sync::Barrier::new(threads);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                start.wait();
                for _ in 0..per_thread {
                    lock.update(|count| {
                        *count += 1;
                        busy_work(work);
                    });
                }
            });
        }
    });
    lock.get()
}

/// `steps` dependent multiply-adds the optimiser cannot remove (about 1.5 ns each on the reference machine).
pub fn busy_work(steps: u32) {
    let mut x = 1u64;
    for i in 0..steps {
        x = std::hint::black_box(
            x.wrapping_mul(6364136223846793005)
                .wrapping_add(u64::from(i)),
        );
    }
    std::hint::black_box(x);
}
