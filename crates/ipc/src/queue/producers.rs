//! The queue at work: several producer processes put numbered items of every size, one
//! consumer gets them all and checks that each producer's items arrived whole and in order.
//!
//! Payloads go up to 20 KB and more, far over `PIPE_BUF`: a frame that another producer's
//! frame landed inside would arrive with the wrong bytes or the wrong length, so the check
//! shows what the writers' lock prevents. The order that matters is per producer (a pipe is
//! FIFO); between producers, frames interleave as the scheduler runs them.
//!
//! The pitfall again: consume before you reap. A producer blocked on a full pipe cannot exit
//! until someone gets what it put, so [`drain`] comes before waiting for the producers.

use std::io;

use nix::unistd::Pid;
use serde::{Deserialize, Serialize};

use super::Queue;
use multiprocess::spawn;

/// What goes through the queue.
#[derive(Debug, Serialize, Deserialize)]
pub struct Item {
    pub producer: u32,
    pub seq: u32,
    /// Every byte is one value and the length one size, both made from `producer` and `seq`:
    /// so a frame mixed with another's would show.
    pub payload: Vec<u8>,
}

impl Item {
    /// Item `seq` of `producer`, with up to `max_payload - 1` bytes of payload.
    pub fn new(producer: u32, seq: u32, max_payload: usize) -> Item {
        Item {
            producer,
            seq,
            payload: vec![Item::byte(producer, seq); Item::len(seq, max_payload)],
        }
    }

    fn byte(producer: u32, seq: u32) -> u8 {
        producer.wrapping_mul(7).wrapping_add(seq) as u8
    }

    fn len(seq: u32, max_payload: usize) -> usize {
        (seq as usize * 7919) % max_payload.max(1)
    }

    /// Whether the payload is the one [`Item::new`] made for this producer and number.
    pub fn is_intact(&self, max_payload: usize) -> bool {
        self.payload.len() == Item::len(self.seq, max_payload)
            && self
                .payload
                .iter()
                .all(|&b| b == Item::byte(self.producer, self.seq))
    }
}

/// Forks `producers` processes; each puts `items` items on `queue`, then exits (status 1 if a
/// `put` failed, e.g. `EPIPE` because the consumer is gone). Returns their pids, to reap after
/// [`drain`].
pub fn start(
    queue: &Queue<Item>,
    producers: u32,
    items: u32,
    max_payload: usize,
) -> io::Result<Vec<Pid>> {
    let mut children = Vec::new();
    for producer in 0..producers {
        children.push(spawn::fork_run(move || {
            for seq in 0..items {
                if queue.put(&Item::new(producer, seq, max_payload)).is_err() {
                    return 1;
                }
            }
            0
        })?);
    }
    Ok(children)
}

/// What the consumer got.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Items got in all.
    pub total: u64,
    /// Per producer: the number after the last item got (its item count, when all came in order).
    pub next: Vec<u32>,
    /// Items out of their producer's order, or with a payload not theirs.
    pub broken: u64,
}

/// Gets items until the queue ends (every producer closed or exited), checking each one.
pub fn drain(queue: &Queue<Item>, producers: u32, max_payload: usize) -> io::Result<Tally> {
    let mut tally = Tally {
        next: vec![0; producers as usize],
        ..Tally::default()
    };
    while let Some(item) = queue.get()? {
        tally.total += 1;
        let Some(expected) = tally.next.get_mut(item.producer as usize) else {
            tally.broken += 1; // a producer that does not exist
            continue;
        };
        if item.seq != *expected || !item.is_intact(max_payload) {
            tally.broken += 1;
        }
        *expected = item.seq + 1;
    }
    Ok(tally)
}

/// Reaps `children`; whether every one exited with status 0.
pub fn reap(children: Vec<Pid>) -> io::Result<bool> {
    let mut all_ok = true;
    for child in children {
        all_ok &= spawn::wait_for(child)?.success();
    }
    Ok(all_ok)
}
