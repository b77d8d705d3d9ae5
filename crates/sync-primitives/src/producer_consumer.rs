//! The bounded queue at work: numbered items from several producer threads to several consumer
//! threads, through the chapter's [`BoundedQueue`] and through std's `sync_channel`, each
//! delivery checked for every item exactly once.
//!
//! The two differ in how the stream ends. `BoundedQueue` ends when someone calls `close` — here
//! the main thread, once every producer has been joined; consumers drain what is left, then see
//! `None`. A `sync_channel` ends when its last `Sender` is dropped, so the main thread must drop
//! its own copy, or the consumers wait forever. And std's `Receiver` has one owner: several
//! consumers share it behind a `Mutex`, which makes the channel's consumers take turns.

use std::sync::Mutex;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::bounded_queue::BoundedQueue;

/// How many threads move how many items through a queue of what capacity.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    pub producers: usize,
    pub consumers: usize,
    /// Items in total, numbered `0..items`.
    pub items: usize,
    pub capacity: usize,
}

impl Load {
    /// The item numbers producer `p` sends: `p`, `p + producers`, `p + 2·producers`, …
    fn items_of(&self, producer: usize) -> impl Iterator<Item = usize> + use<> {
        (producer..self.items).step_by(self.producers.max(1))
    }
}

/// What the consumers received, and how long the whole run took.
#[derive(Debug)]
pub struct Delivery {
    /// Every item a consumer took, sorted.
    pub received: Vec<usize>,
    pub took: Duration,
}

impl Delivery {
    fn new(received: Mutex<Vec<usize>>, start: Instant) -> Delivery {
        let took = start.elapsed();
        let mut received = received.into_inner().unwrap_or_else(|p| p.into_inner());
        received.sort_unstable();
        Delivery { received, took }
    }

    /// Whether every item of `load` arrived, and none twice.
    pub fn exactly_once(&self, load: &Load) -> bool {
        self.received.iter().copied().eq(0..load.items)
    }
}

/// Moves `load` through a [`BoundedQueue`]; the main thread closes it after the producers end.
pub fn through_bounded_queue(load: &Load) -> Delivery {
    let queue = BoundedQueue::new(load.capacity);
    let received = Mutex::new(Vec::with_capacity(load.items));
    let start = Instant::now();
    thread::scope(|s| {
        let producers: Vec<_> = (0..load.producers)
            .map(|p| {
                let queue = &queue;
                s.spawn(move || load.items_of(p).for_each(|i| queue.put(i).expect("open")))
            })
            .collect();
        for _ in 0..load.consumers {
            s.spawn(|| {
                let mut mine = Vec::new();
                while let Some(item) = queue.take() {
                    mine.push(item);
                }
                received.lock().unwrap().extend(mine);
            });
        }
        producers.into_iter().for_each(|p| p.join().unwrap());
        queue.close(); // consumers drain the rest, then see None
    });
    Delivery::new(received, start)
}

/// Moves `load` through `std::sync::mpsc::sync_channel`; it closes when the last sender drops.
pub fn through_sync_channel(load: &Load) -> Delivery {
    let (tx, rx) = mpsc::sync_channel(load.capacity);
    let rx = Mutex::new(rx); // std's Receiver has one owner; consumers share it behind a lock
    let received = Mutex::new(Vec::with_capacity(load.items));
    let start = Instant::now();
    thread::scope(|s| {
        for p in 0..load.producers {
            let tx = tx.clone();
            s.spawn(move || load.items_of(p).for_each(|i| tx.send(i).expect("open")));
        }
        drop(tx); // the channel closes when the last producer's sender is dropped
        for _ in 0..load.consumers {
            s.spawn(|| {
                let mut mine = Vec::new();
                while let Ok(item) = rx.lock().unwrap().recv() {
                    mine.push(item);
                }
                received.lock().unwrap().extend(mine);
            });
        }
    });
    Delivery::new(received, start)
}
