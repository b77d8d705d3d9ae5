//! Lesson 4 — producer–consumer: a bounded queue on one mutex and two condition variables.
//!
//! Producers `put` and wait while the queue is full; consumers `take` and wait while it is empty.
//! Two condition variables, because there are two conditions: `not_full` wakes producers,
//! `not_empty` wakes consumers, and a `put` never wakes another producer for nothing. `close`
//! ends the stream: waiting producers get their item back as an error, consumers drain what is
//! left and then get `None`, so nobody waits forever for a peer that has gone.
//!
//! The pitfalls. A wake-up is only a hint — it may be spurious, or another consumer may have
//! taken the item first — so every wait re-checks its condition in a loop. And `close` must
//! wake *everyone* (`notify_all` on both), or a waiter sleeps through the end.
//!
//! `std::sync::mpsc::sync_channel(capacity)` is the same idea, tuned: the benchmark compares.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard};

/// A first-in, first-out queue of at most `capacity` items, shared by producers and consumers.
#[derive(Debug)]
pub struct BoundedQueue<T> {
    state: Mutex<State<T>>,
    /// Notified when an item is taken (room for a producer) or the queue closes.
    not_full: Condvar,
    /// Notified when an item is put (work for a consumer) or the queue closes.
    not_empty: Condvar,
    capacity: usize,
}

#[derive(Debug)]
struct State<T> {
    items: VecDeque<T>,
    /// Set by `close`: no more puts; takes drain what is left.
    closed: bool,
}

/// `put` on a closed queue: the item comes back.
#[derive(Debug, PartialEq, Eq)]
pub struct Closed<T>(pub T);

impl<T> BoundedQueue<T> {
    /// An empty queue holding at most `capacity` items (at least 1).
    pub fn new(capacity: usize) -> Self {
        assert!(capacity > 0, "a bounded queue needs room for one item");
        BoundedQueue {
            state: Mutex::new(State {
                items: VecDeque::with_capacity(capacity),
                closed: false,
            }),
            not_full: Condvar::new(),
            not_empty: Condvar::new(),
            capacity,
        }
    }

    /// Appends `item`, waiting while the queue is full. Fails if the queue is (or becomes) closed.
    pub fn put(&self, item: T) -> Result<(), Closed<T>> {
        // BEGIN SOLUTION: sync-queue-put-take
        let state = self.lock();
        let mut state = self
            .not_full
            .wait_while(state, |s| !s.closed && s.items.len() == self.capacity)
            .unwrap_or_else(|p| p.into_inner());
        if state.closed {
            return Err(Closed(item));
        }
        state.items.push_back(item);
        drop(state); // wake the consumer after unlocking, so it does not wake into a held lock
        self.not_empty.notify_one();
        Ok(())
        // END SOLUTION
    }

    /// Removes the oldest item, waiting while the queue is empty. `None` once it is closed and
    /// drained.
    pub fn take(&self) -> Option<T> {
        // BEGIN SOLUTION: sync-queue-put-take
        let state = self.lock();
        let mut state = self
            .not_empty
            .wait_while(state, |s| !s.closed && s.items.is_empty())
            .unwrap_or_else(|p| p.into_inner());
        let item = state.items.pop_front()?; // empty here means closed and drained
        drop(state);
        self.not_full.notify_one();
        Some(item)
        // END SOLUTION
    }

    /// Closes the queue: puts fail from now on, takes drain the rest, every waiter wakes.
    pub fn close(&self) {
        self.lock().closed = true;
        self.not_full.notify_all();
        self.not_empty.notify_all();
    }

    /// Items in the queue now.
    pub fn len(&self) -> usize {
        self.lock().items.len()
    }

    /// Whether the queue is empty now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The most items it holds.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The state's lock. A panic under it leaves the `VecDeque` valid, so poisoning is ignored.
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Wakes every waiter with nothing changed: a spurious wake-up, made on purpose for tests.
    #[doc(hidden)]
    pub fn wake_spuriously(&self) {
        self.not_full.notify_all();
        self.not_empty.notify_all();
    }
}
