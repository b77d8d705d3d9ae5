//! Producers and consumers over a bounded channel (the course's `queue.Queue` exercise).
//!
//! Producers put items on a queue of `capacity` slots; consumers take them off. The queue is
//! the only thing they share: no producer knows a consumer. A **bounded** queue is what keeps a
//! fast producer from running away with memory: when it is full, `send` blocks the producer
//! until a consumer makes room (back-pressure). Here the queue is std's `sync_channel`; its
//! `Receiver` has one owner, so the consumers share it behind a `Mutex`, taking turns to wait.
//!
//! The end is the pitfall: how does a consumer know there will be no more? Not by the queue
//! being empty for a moment (a producer may just be slow), but by every producer being done —
//! each owns a `SyncSender` clone, and `recv` fails only once all are dropped *and* the queue
//! is empty. A program that keeps one extra sender alive (say, the original in `main`) never ends.

use std::sync::mpsc::{self, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread;

/// One item: which producer made it, and its sequence number there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Item {
    pub producer: usize,
    pub seq: u64,
}

/// What happened in a run.
#[derive(Debug, Default)]
pub struct Report {
    /// Every item with the consumer that took it, in the order each consumer took them.
    pub consumed: Vec<(usize, Item)>,
    /// How many times a producer found the queue full and had to wait.
    pub waits: u64,
}

/// Runs `producers` producers of `items` items each and `consumers` consumers over a queue of
/// `capacity` slots; returns once every item has been consumed.
pub fn run(producers: usize, consumers: usize, items: u64, capacity: usize) -> Report {
    let (tx, rx) = mpsc::sync_channel::<Item>(capacity);
    let rx = Arc::new(Mutex::new(rx));
    thread::scope(|scope| {
        let producing: Vec<_> = (0..producers)
            .map(|producer| {
                let tx = tx.clone();
                scope.spawn(move || {
                    let mut waits = 0;
                    for seq in 0..items {
                        let item = Item { producer, seq };
                        if let Err(TrySendError::Full(item)) = tx.try_send(item) {
                            waits += 1;
                            tx.send(item).expect("consumers outlive producers");
                        }
                    }
                    waits
                })
            })
            .collect();
        // Only the producers' clones may keep the queue open.
        drop(tx);
        let consuming: Vec<_> = (0..consumers.max(1))
            .map(|consumer| {
                let rx = Arc::clone(&rx);
                scope.spawn(move || {
                    let mut taken = Vec::new();
                    loop {
                        let next = rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
                        match next {
                            Ok(item) => taken.push((consumer, item)),
                            Err(_) => return taken, // every producer done, queue empty
                        }
                    }
                })
            })
            .collect();
        let waits = producing.into_iter().map(|h| h.join().unwrap()).sum();
        let consumed = consuming
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        Report { consumed, waits }
    })
}
