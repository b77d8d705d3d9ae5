//! Lesson 5 — read-write locks: readers together, a writer alone, and the writer who never gets in.
//!
//! A read-write lock lets any number of readers in at once, or one writer alone. It pays off when
//! reads are many and long; for short critical sections its extra bookkeeping can make it slower
//! than a plain mutex (the benchmark measures both mixes).
//!
//! The pitfall is *writer starvation*. [`ReaderPreferringRwLock`] is the textbook first attempt:
//! a reader enters whenever no writer is *inside*. If readers overlap — one always arrives before
//! the last one leaves — the count of readers never drops to zero and a waiting writer waits
//! forever. std's `RwLock` (futex-based on Linux) and `parking_lot::RwLock` prevent this: once a
//! writer is waiting, new readers queue behind it. [`writer_wait`] measures all three under the
//! same stream of overlapping readers.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

/// A read-write lock that lets readers in whenever no writer holds it — even while a writer waits.
#[derive(Debug, Default)]
pub struct ReaderPreferringRwLock {
    state: Mutex<RwState>,
    /// Notified when the last reader leaves or the writer leaves.
    changed: Condvar,
}

#[derive(Debug, Default)]
struct RwState {
    /// Readers inside now.
    readers: usize,
    /// Whether a writer is inside.
    writer: bool,
    /// Writers waiting to get in (only counted, never consulted by readers: that is the flaw).
    writers_waiting: usize,
}

impl ReaderPreferringRwLock {
    /// An unlocked lock.
    pub fn new() -> Self {
        Self::default()
    }

    /// Enters as a reader (waits only while a writer is inside) and runs `f`.
    pub fn read<R>(&self, f: impl FnOnce() -> R) -> R {
        let state = self.lock();
        let mut state = self
            .changed
            .wait_while(state, |s| s.writer)
            .unwrap_or_else(|p| p.into_inner());
        state.readers += 1;
        drop(state);
        let result = f();
        let mut state = self.lock();
        state.readers -= 1;
        if state.readers == 0 {
            self.changed.notify_all();
        }
        result
    }

    /// Enters as a reader only if it can at once.
    pub fn try_read(&self) -> bool {
        let mut state = self.lock();
        if state.writer {
            return false;
        }
        state.readers += 1;
        true
    }

    /// Leaves after a successful [`try_read`](Self::try_read).
    pub fn end_read(&self) {
        let mut state = self.lock();
        state.readers -= 1;
        if state.readers == 0 {
            self.changed.notify_all();
        }
    }

    /// Enters alone (waits until no reader and no writer is inside) and runs `f`.
    pub fn write<R>(&self, f: impl FnOnce() -> R) -> R {
        let mut state = self.lock();
        state.writers_waiting += 1;
        let mut state = self
            .changed
            .wait_while(state, |s| s.writer || s.readers > 0)
            .unwrap_or_else(|p| p.into_inner());
        state.writers_waiting -= 1;
        state.writer = true;
        drop(state);
        let result = f();
        self.lock().writer = false;
        self.changed.notify_all();
        result
    }

    /// Writers waiting now.
    pub fn writers_waiting(&self) -> usize {
        self.lock().writers_waiting
    }

    fn lock(&self) -> MutexGuard<'_, RwState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The three read-write locks behind one interface, for [`writer_wait`] and the benchmark.
pub trait ReadWriteLock: Sync + Default {
    /// A short name for tables.
    const NAME: &'static str;
    /// Runs `f` holding the lock for reading.
    fn read_with(&self, f: impl FnOnce());
    /// Runs `f` holding the lock for writing.
    fn write_with(&self, f: impl FnOnce());
}

impl ReadWriteLock for ReaderPreferringRwLock {
    const NAME: &'static str = "reader-preferring (lesson)";
    fn read_with(&self, f: impl FnOnce()) {
        self.read(f)
    }
    fn write_with(&self, f: impl FnOnce()) {
        self.write(f)
    }
}

impl ReadWriteLock for std::sync::RwLock<()> {
    const NAME: &'static str = "std::sync::RwLock";
    fn read_with(&self, f: impl FnOnce()) {
        let _guard = self.read().unwrap_or_else(|p| p.into_inner());
        f()
    }
    fn write_with(&self, f: impl FnOnce()) {
        let _guard = self.write().unwrap_or_else(|p| p.into_inner());
        f()
    }
}

/// A plain mutex as a "read-write" lock (readers exclude each other too): the baseline.
impl ReadWriteLock for std::sync::Mutex<()> {
    const NAME: &'static str = "std::sync::Mutex (baseline)";
    fn read_with(&self, f: impl FnOnce()) {
        let _guard = self.lock().unwrap_or_else(|p| p.into_inner());
        f()
    }
    fn write_with(&self, f: impl FnOnce()) {
        let _guard = self.lock().unwrap_or_else(|p| p.into_inner());
        f()
    }
}

impl ReadWriteLock for parking_lot::RwLock<()> {
    const NAME: &'static str = "parking_lot::RwLock";
    fn read_with(&self, f: impl FnOnce()) {
        let _guard = self.read();
        f()
    }
    fn write_with(&self, f: impl FnOnce()) {
        let _guard = self.write();
        f()
    }
}

/// How long one writer waited to get in while `readers` threads kept re-entering for reading,
/// each holding the lock for `hold`; `None` if it was still waiting after `give_up`.
///
/// The readers start first and are staggered, so some reader is always inside: exactly the
/// stream of overlapping readers that starves a reader-preferring lock.
pub fn writer_wait<L: ReadWriteLock>(
    readers: usize,
    hold: Duration,
    give_up: Duration,
) -> Option<Duration> {
    let lock = L::default();
    let stop = AtomicBool::new(false);
    let writer_in = AtomicBool::new(false);
    thread::scope(|s| {
        for reader in 0..readers {
            let (lock, stop) = (&lock, &stop);
            s.spawn(move || {
                thread::sleep(hold * reader as u32 / readers as u32); // stagger the readers
                while !stop.load(Ordering::Relaxed) {
                    lock.read_with(|| thread::sleep(hold));
                }
            });
        }
        thread::sleep(hold * 2); // let the stream of readers get going
        let start = Instant::now();
        let (lock_ref, writer_flag) = (&lock, &writer_in);
        let waited = s.spawn(move || {
            lock_ref.write_with(|| writer_flag.store(true, Ordering::Relaxed));
            start.elapsed()
        });
        while !writer_in.load(Ordering::Relaxed) && start.elapsed() < give_up {
            thread::sleep(Duration::from_millis(1));
        }
        // Stopping the readers lets a starved writer in at last, so the scope can end.
        stop.store(true, Ordering::Relaxed);
        let waited = waited.join().expect("the writer thread panicked");
        (waited < give_up).then_some(waited)
    })
}
