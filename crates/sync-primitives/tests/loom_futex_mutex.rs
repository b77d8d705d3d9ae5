//! Lesson 8's two unlock protocols (`futex_mutex::Unlock`) run by loom under every
//! interleaving, on a simulated futex that sleeps with no timeout — so a lost wake-up is a thread
//! asleep forever, which loom reports as a deadlock. Step 1 (`load`, then `store(0)`) has a run
//! in which the waiter sleeps on a free lock; step 2 (`swap(0)`) has none.
//!
//! The protocol is written out here (the lock's spinning left out: it only shortens waits), as
//! `futex_mutex::Mutex` runs it, on loom's atomics.

use std::panic::{self, AssertUnwindSafe};

use loom::sync::atomic::{AtomicU32, Ordering};
use loom::sync::{Arc, Condvar, Mutex};
use loom::thread;

const UNLOCKED: u32 = 0;
const LOCKED: u32 = 1;
const CONTENDED: u32 = 2;

/// A futex as the kernel makes one: `wait` compares the word and queues the sleeper under one
/// lock, and `wake` takes the same lock, so no wake falls between the compare and the sleep.
struct ModelFutex {
    word: AtomicU32,
    queue: Mutex<()>,
    sleepers: Condvar,
}

impl ModelFutex {
    fn wait(&self, expected: u32) {
        let queued = self.queue.lock().unwrap();
        if self.word.load(Ordering::Relaxed) == expected {
            drop(self.sleepers.wait(queued).unwrap());
        }
    }

    fn wake_one(&self) {
        let _queued = self.queue.lock().unwrap();
        self.sleepers.notify_one();
    }

    fn lock(&self) {
        if self
            .word
            .compare_exchange(UNLOCKED, LOCKED, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            while self.word.swap(CONTENDED, Ordering::Acquire) != UNLOCKED {
                self.wait(CONTENDED);
            }
        }
    }

    fn unlock(&self, swap: bool) {
        let was = if swap {
            self.word.swap(UNLOCKED, Ordering::Release)
        } else {
            let was = self.word.load(Ordering::Relaxed);
            self.word.store(UNLOCKED, Ordering::Release);
            was
        };
        if was == CONTENDED {
            self.wake_one();
        }
    }
}

/// Two threads take the lock once each, one of them while the other holds it.
fn two_lockers(swap: bool) {
    loom::model(move || {
        let futex = Arc::new(ModelFutex {
            word: AtomicU32::new(UNLOCKED),
            queue: Mutex::new(()),
            sleepers: Condvar::new(),
        });
        futex.lock();
        let other = Arc::clone(&futex);
        // Not joined: a join would leave this thread blocked too when the other one sleeps
        // forever; loom checks at the end that every thread finished.
        thread::spawn(move || {
            other.lock();
            other.unlock(swap);
        });
        futex.unlock(swap);
    });
}

#[test]
fn loom_unlock_by_load_then_store_loses_a_wake_up() {
    let found = panic::catch_unwind(AssertUnwindSafe(|| two_lockers(false)));
    let message = match found {
        Ok(()) => panic!("loom found no lost wake-up in load-then-store"),
        Err(payload) => labkit::panic::message(&*payload),
    };
    assert!(message.to_lowercase().contains("deadlock"), "{message}");
}

#[test]
fn loom_unlock_by_swap_loses_no_wake_up() {
    two_lockers(true);
}
