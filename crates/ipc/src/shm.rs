//! A counter in shared memory: broken, then fixed by a process-shared semaphore.
//!
//! Every process that maps the same [`Segment`] sees the same bytes, with no copy through the
//! kernel — the fastest IPC there is, and the most dangerous: **shared memory has no
//! synchronisation of its own.**
//!
//! The lesson in three steps:
//! 1. [`SharedCounter::unlocked_increment`] reads the value and writes it plus one. Two
//!    processes doing that at once lose updates: both read 41, both write 42.
//!    [`forced_lost_update`] makes that interleaving happen on purpose, so the loss is
//!    certain, not a matter of luck; [`run_increments`] shows it happening by itself.
//! 2. [`SharedCounter::locked_increment`] does the same under a **process-shared semaphore**
//!    (`sem_init` with `pshared = 1`, the `sem_t` itself in the shared mapping): a binary
//!    semaphore used as a mutex. No update is lost.
//! 3. The value is an `AtomicU64` accessed with separate relaxed loads and stores, not
//!    `fetch_add`: that keeps step 1 a *race condition* (a wrong answer) without making it a
//!    *data race* (undefined behaviour). `sem_wait`/`sem_post` order the accesses in step 2.
//!
//! The plumbing under the lesson has modules of its own: [`segment`] maps the memory (and
//! cleans up its name), [`semaphores`] puts process-shared semaphores in it. The ring and the
//! process queue use them too.

pub mod segment;
pub mod semaphores;

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};

use multiprocess::spawn;

pub use segment::{Segment, leftover_names};
pub use semaphores::Semaphores;

/// The counter's semaphores: the lock, and two that script [`forced_lost_update`].
const LOCK: usize = 0;
const FIRST_HAS_READ: usize = 1;
const SECOND_HAS_WRITTEN: usize = 2;

/// A `u64` counter in shared memory, with a process-shared semaphore to lock it.
#[derive(Debug)]
pub struct SharedCounter {
    value: Segment,
    semaphores: Semaphores,
}

impl SharedCounter {
    /// A counter at 0, its lock free.
    pub fn new() -> io::Result<SharedCounter> {
        Ok(SharedCounter {
            value: Segment::create(size_of::<AtomicU64>())?,
            semaphores: Semaphores::new(&[1, 0, 0])?,
        })
    }

    fn value(&self) -> &AtomicU64 {
        // SAFETY: the segment is page-aligned, zero-filled (a valid 0), mapped for as long as
        // `self` lives, and only ever accessed atomically.
        unsafe { &*self.value.as_ptr().cast::<AtomicU64>() }
    }

    /// The value now.
    pub fn get(&self) -> u64 {
        self.value().load(Ordering::SeqCst)
    }

    /// Step 1, broken: read, then write the value plus one. Between the two, another process
    /// may do the same, and one of the two updates is lost.
    pub fn unlocked_increment(&self) {
        let value = self.value().load(Ordering::Relaxed);
        self.value().store(value + 1, Ordering::Relaxed);
    }

    /// Step 2, fixed: the same read and write between `sem_wait` and `sem_post` on the shared
    /// semaphore, so no other process is between them at the same time.
    pub fn locked_increment(&self) -> io::Result<()> {
        // BEGIN SOLUTION: ipc-shm-counter
        self.semaphores.wait(LOCK)?;
        let value = self.value().load(Ordering::Relaxed);
        self.value().store(value + 1, Ordering::Relaxed);
        self.semaphores.post(LOCK)
        // END SOLUTION
    }

    /// Takes the lock if it is free; `false` if another process holds it.
    pub fn try_lock(&self) -> io::Result<bool> {
        self.semaphores.try_wait(LOCK)
    }

    /// Takes the lock, waiting for it.
    pub fn lock(&self) -> io::Result<()> {
        self.semaphores.wait(LOCK)
    }

    /// Releases the lock.
    pub fn unlock(&self) -> io::Result<()> {
        self.semaphores.post(LOCK)
    }
}

/// Forks `processes` children that each increment `counter` `each` times, locked or not, and
/// waits for them; returns the final value (`processes * each` if nothing was lost).
pub fn run_increments(
    counter: &SharedCounter,
    processes: usize,
    each: u64,
    locked: bool,
) -> io::Result<u64> {
    let mut children = Vec::new();
    for _ in 0..processes {
        children.push(spawn::fork_run(|| {
            for _ in 0..each {
                if locked {
                    if counter.locked_increment().is_err() {
                        return 1;
                    }
                } else {
                    counter.unlocked_increment();
                }
            }
            0
        })?);
    }
    // Reap every child before looking at any outcome: returning early would leave zombies.
    let outcomes: Vec<_> = children.into_iter().map(spawn::wait_for).collect();
    for outcome in outcomes {
        let outcome = outcome?;
        if !outcome.success() {
            return Err(io::Error::other(format!("an incrementer {outcome}")));
        }
    }
    Ok(counter.get())
}

/// Two unlocked increments, one by this process and one by a child, interleaved on purpose:
/// this process reads, the child reads the same value and writes it plus one, then this process
/// writes *its* value plus one over it. Returns the final value: 1, not 2.
pub fn forced_lost_update(counter: &SharedCounter) -> io::Result<u64> {
    let steps = &counter.semaphores;
    let start = counter.get();
    let child = spawn::fork_run(|| {
        if steps.wait(FIRST_HAS_READ).is_err() {
            return 1;
        }
        counter.unlocked_increment();
        i32::from(steps.post(SECOND_HAS_WRITTEN).is_err())
    })?;
    let value = counter.value().load(Ordering::Relaxed); // read…
    steps.post(FIRST_HAS_READ)?;
    steps.wait(SECOND_HAS_WRITTEN)?; // …the other process increments here…
    counter.value().store(value + 1, Ordering::Relaxed); // …and this write erases its update.
    let outcome = spawn::wait_for(child)?;
    if !outcome.success() {
        return Err(io::Error::other(format!(
            "the second incrementer {outcome}"
        )));
    }
    Ok(counter.get() - start)
}
