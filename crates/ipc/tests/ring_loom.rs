//! The ring's futex protocol (`ipc::ring::futex`: say "sleeping", fence, re-check, sleep; and on
//! the other side: move the counter, fence, wake if "sleeping") run by loom under every
//! interleaving *and* every outcome the memory model allows, on a simulated futex that sleeps
//! with no timeout — so a lost wake-up is a thread asleep forever, which loom reports as a
//! deadlock. With the protocol's `SeqCst` fences no run deadlocks; with only the fences taken
//! out, loom finds the run in which each side reads the other's old value.

use std::panic::{self, AssertUnwindSafe};
use std::time::Duration;

use ipc::ring::futex::{FutexWord, sleep_unless, wake_if_sleeping};
use loom::sync::atomic::{AtomicU32, AtomicU64, Ordering, fence};
use loom::sync::{Arc, Condvar, Mutex};
use loom::thread;

/// A futex as the kernel makes one: `wait` compares the word and queues the sleeper under one
/// lock, and `wake` takes the same lock, so no wake falls between the compare and the sleep.
struct ModelFutex {
    word: AtomicU32,
    queue: Mutex<()>,
    sleepers: Condvar,
    /// Whether `fence` is the protocol's `SeqCst` fence (true) or nothing (the broken variant).
    fenced: bool,
}

impl FutexWord for ModelFutex {
    fn load(&self) -> u32 {
        self.word.load(Ordering::Relaxed)
    }
    fn store(&self, value: u32) {
        self.word.store(value, Ordering::Relaxed)
    }
    fn swap(&self, value: u32) -> u32 {
        self.word.swap(value, Ordering::Relaxed)
    }
    fn wait(&self, expected: u32, _no_timeout_in_the_model: Duration) {
        let queued = self.queue.lock().unwrap();
        if self.word.load(Ordering::Relaxed) == expected {
            drop(self.sleepers.wait(queued).unwrap());
        }
    }
    fn wake(&self) {
        let _queued = self.queue.lock().unwrap();
        self.sleepers.notify_one();
    }
    fn fence(&self) {
        if self.fenced {
            fence(Ordering::SeqCst);
        }
    }
}

/// One push (the producer moves `head` and wakes) against one consumer waiting for it, as
/// `Ring::write_all` and `Ring::read_exact` do.
fn push_against_a_waiting_consumer(fenced: bool) {
    loom::model(move || {
        let head = Arc::new(AtomicU64::new(0));
        let futex = Arc::new(ModelFutex {
            word: AtomicU32::new(0),
            queue: Mutex::new(()),
            sleepers: Condvar::new(),
            fenced,
        });
        let producer = {
            let (head, futex) = (Arc::clone(&head), Arc::clone(&futex));
            thread::spawn(move || {
                head.store(1, Ordering::Release);
                wake_if_sleeping(&*futex);
            })
        };
        while head.load(Ordering::Acquire) == 0 {
            sleep_unless(&*futex, || head.load(Ordering::Acquire) != 0, Duration::MAX);
        }
        producer.join().unwrap();
    });
}

#[test]
fn loom_proves_the_fenced_wait_protocol_loses_no_wake_up() {
    push_against_a_waiting_consumer(true);
}

#[test]
fn loom_finds_the_lost_wake_up_without_the_fences() {
    let found = panic::catch_unwind(AssertUnwindSafe(|| push_against_a_waiting_consumer(false)));
    let payload = found.expect_err("loom should find a run in which the consumer sleeps forever");
    // loom reports a deadlock with a formatted message (a String).
    let message = payload.downcast::<String>().map(|m| *m).unwrap_or_default();
    assert!(
        message.contains("deadlock"),
        "loom failed for another reason: {message}"
    );
}
