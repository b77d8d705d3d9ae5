//! A single-producer/single-consumer ring buffer in shared memory, with atomics and no lock.
//!
//! The fastest way to move bytes between two processes is to not involve the kernel at all:
//! map the same memory in both and agree, through two counters, on which part of it holds data.
//!
//! ```text
//!   head: bytes ever pushed (only the producer writes it)
//!   tail: bytes ever popped (only the consumer writes it)
//!   data[tail % N .. head % N] is full, the rest is free; head - tail <= N
//! ```
//!
//! Both counters only grow (a `u64` of bytes does not wrap in practice), so full and empty are
//! never confused: empty is `head == tail`, full is `head - tail == N`. `N` is a power of two,
//! so `% N` is a mask.
//!
//! **The memory ordering is the lesson.** The producer copies bytes into `data`, *then* stores
//! the new `head` with `Release`; the consumer loads `head` with `Acquire`, *then* reads the
//! bytes. Release/acquire on the same atomic means: everything the producer wrote before the
//! store is visible to a consumer that sees the stored value — the bytes arrive before the
//! counter that announces them. The same pair runs backwards on `tail`: the consumer's
//! `Release` store of `tail` says "I have finished reading these bytes", and the producer's
//! `Acquire` load of `tail` makes sure it does not overwrite bytes still being read. Each side
//! loads its *own* counter `Relaxed`: nobody else writes it. With `Relaxed` everywhere the
//! ring would work on x86 (whose stores are not reordered with each other) and fail on ARM.
//!
//! The counters sit on separate cache lines, so the producer's writes of `head` do not keep
//! stealing the line that holds `tail` from the consumer (false sharing).
//!
//! Atomics work across processes because they act on the physical memory both have mapped.
//!
//! **Waiting, in two steps** ([`WaitStrategy`]). When the ring is empty (or full), the
//! waiting side has nothing to do until the other side moves its counter:
//! 1. [`WaitStrategy::SpinYield`]: spin, then `sched_yield` in a loop. Simple, and it never
//!    enters the kernel to sleep — so a waiting side burns a CPU for as long as it waits, and
//!    when the other side is not running, only the scheduler decides when it will be.
//! 2. [`WaitStrategy::Futex`] (the default): spin briefly, then sleep on a futex word in the
//!    segment, shared by both processes; the other side wakes it — with a system call only
//!    when this side has said it sleeps, so the fast path stays out of the kernel.
//!    [`futex`] explains why that is safe across processes and loses no wake-up.
//!
//! Both take a patience: a side that waited that long without progress gives up (`TimedOut`)
//! rather than hang if the other process died.
//!
//! **The contract.** One process pushes, one process pops. Two producers would both write at
//! `head` — the ring is SPSC by design, not by accident.

pub mod futex;
pub mod idle;
pub mod stream;

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::shm::Segment;
use futex::SharedFutex;
use idle::Idle;

/// How a side waits for the other: step 1 or step 2 of the lesson.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WaitStrategy {
    /// Spin, then `sched_yield` in a loop: never sleeps, burns a CPU while it waits.
    SpinYield,
    /// Spin briefly, then sleep on a process-shared futex until the other side wakes it.
    #[default]
    Futex,
}

/// A counter on its own 64-byte cache line, with the futex word of the side that waits for
/// the counter to move.
#[repr(C, align(64))]
struct Line {
    counter: AtomicU64,
    /// `futex::AWAKE` or `futex::SLEEPING`: set by the waiting side, cleared by its waker.
    waiter: SharedFutex,
}

#[repr(C)]
struct Header {
    /// Moved by the producer; the consumer sleeps on its word.
    head: Line,
    /// Moved by the consumer; the producer sleeps on its word.
    tail: Line,
}

/// Where the data starts in the segment.
const DATA: usize = 128;
const _: () = assert!(size_of::<Header>() <= DATA, "the header overlaps the data");

/// A byte ring of a power-of-two capacity in a shared memory segment.
#[derive(Debug)]
pub struct Ring {
    segment: Segment,
    capacity: usize,
    strategy: WaitStrategy,
    /// This process's side's waits: how long it spins (step 2 adapts it: [`idle`]), how
    /// often it slept.
    history: idle::History,
}

impl Ring {
    /// A ring of `capacity` bytes (rounded up to a power of two), in a new unnamed segment,
    /// to be shared with children forked afterwards. Its sides wait with a futex.
    pub fn new(capacity: usize) -> io::Result<Ring> {
        Ring::with_strategy(capacity, WaitStrategy::default())
    }

    /// The same, with the sides waiting by `strategy` (both sides: a forked child inherits it).
    pub fn with_strategy(capacity: usize, strategy: WaitStrategy) -> io::Result<Ring> {
        let capacity = capacity.max(64).next_power_of_two();
        let segment = Segment::create(DATA + capacity)?;
        // A fresh segment is zero-filled: head = tail = 0, the ring is empty, both sides awake.
        Ok(Ring {
            segment,
            capacity,
            strategy,
            history: idle::History::new(),
        })
    }

    /// How its sides wait.
    pub fn strategy(&self) -> WaitStrategy {
        self.strategy
    }

    /// How many times this process's side went to sleep on its futex (step 2; 0 in step 1).
    pub fn sleeps(&self) -> u64 {
        self.history.sleeps.get()
    }

    /// Its capacity in bytes.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    fn header(&self) -> &Header {
        // SAFETY: the segment starts with a Header (page-aligned, so aligned for it), is
        // mapped for as long as `self` lives, and the header is only accessed atomically.
        unsafe { &*self.segment.as_ptr().cast::<Header>() }
    }

    fn head(&self) -> &AtomicU64 {
        &self.header().head.counter
    }

    fn tail(&self) -> &AtomicU64 {
        &self.header().tail.counter
    }

    /// The start of the data area.
    fn data(&self) -> *mut u8 {
        self.segment.as_ptr().wrapping_add(DATA)
    }

    /// Copies `src` into the data area at `at`; the range must be one the caller owns.
    fn store(&self, at: usize, src: &[u8]) {
        assert!(
            at + src.len() <= self.capacity,
            "a copy past the ring's end"
        );
        // SAFETY: the range is inside the mapped data area (checked above) and, by the ring's
        // protocol, not being read by the consumer; `src` is a separate Rust buffer.
        unsafe {
            std::ptr::copy_nonoverlapping(src.as_ptr(), self.data().wrapping_add(at), src.len())
        }
    }

    /// Copies from the data area at `at` into `dst`; the range must hold published bytes.
    fn load(&self, at: usize, dst: &mut [u8]) {
        assert!(
            at + dst.len() <= self.capacity,
            "a copy past the ring's end"
        );
        // SAFETY: the range is inside the mapped data area (checked above) and, by the ring's
        // protocol, not being written by the producer; `dst` is a separate Rust buffer.
        unsafe {
            std::ptr::copy_nonoverlapping(self.data().wrapping_add(at), dst.as_mut_ptr(), dst.len())
        }
    }

    /// Bytes in the ring now (a snapshot: the other side may be moving).
    pub fn len(&self) -> usize {
        (self.head().load(Ordering::Acquire) - self.tail().load(Ordering::Acquire)) as usize
    }

    /// Whether the ring is empty now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Producer side: copies as much of `bytes` as fits and returns how much that was (0 when
    /// full). Only one process may push.
    pub fn push(&self, bytes: &[u8]) -> usize {
        // BEGIN SOLUTION: ipc-ring
        let head = self.head().load(Ordering::Relaxed); // only we write it
        let tail = self.tail().load(Ordering::Acquire); // the consumer is done with < tail
        let free = self.capacity - (head - tail) as usize;
        let n = free.min(bytes.len());
        let start = head as usize & (self.capacity - 1);
        let first = n.min(self.capacity - start);
        // Free space: the consumer reads only below `head`, which we have not published yet.
        self.store(start, &bytes[..first]);
        self.store(0, &bytes[first..n]);
        self.head().store(head + n as u64, Ordering::Release); // publish the bytes
        n
        // END SOLUTION
    }

    /// Consumer side: copies up to `buf.len()` bytes out and returns how many (0 when empty).
    /// Only one process may pop.
    pub fn pop(&self, buf: &mut [u8]) -> usize {
        // BEGIN SOLUTION: ipc-ring
        let tail = self.tail().load(Ordering::Relaxed); // only we write it
        let head = self.head().load(Ordering::Acquire); // the bytes below head are written
        let n = ((head - tail) as usize).min(buf.len());
        let start = tail as usize & (self.capacity - 1);
        let first = n.min(self.capacity - start);
        // Published bytes: the producer does not touch them until we move `tail` past them.
        self.load(start, &mut buf[..first]);
        self.load(0, &mut buf[first..n]);
        self.tail().store(tail + n as u64, Ordering::Release); // hand the space back
        n
        // END SOLUTION
    }

    /// Producer side: pushes all of `bytes`, waiting while the ring is full; fails with
    /// `TimedOut` if the consumer made no room for `patience`.
    pub fn write_all(&self, mut bytes: &[u8], patience: Duration) -> io::Result<()> {
        let mut idle = Idle::new(self.strategy, patience, &self.history);
        while !bytes.is_empty() {
            let n = self.push(bytes);
            if n > 0 {
                bytes = &bytes[n..];
                self.wake_if_sleeping(&self.header().head.waiter);
                idle.progressed();
            } else {
                let room = || self.len() < self.capacity;
                let why = "the ring stayed full: is the consumer alive?";
                idle.wait(&self.header().tail.waiter, room, why)?;
            }
        }
        Ok(())
    }

    /// Consumer side: fills all of `buf`, waiting while the ring is empty; fails with
    /// `TimedOut` if the producer sent nothing for `patience`.
    pub fn read_exact(&self, mut buf: &mut [u8], patience: Duration) -> io::Result<()> {
        let mut idle = Idle::new(self.strategy, patience, &self.history);
        while !buf.is_empty() {
            let n = self.pop(buf);
            if n > 0 {
                buf = &mut buf[n..];
                self.wake_if_sleeping(&self.header().tail.waiter);
                idle.progressed();
            } else {
                let bytes = || !self.is_empty();
                let why = "the ring stayed empty: is the producer alive?";
                idle.wait(&self.header().head.waiter, bytes, why)?;
            }
        }
        Ok(())
    }

    /// After moving a counter: wakes the side sleeping on its word (step 2 only).
    fn wake_if_sleeping(&self, word: &SharedFutex) {
        if self.strategy == WaitStrategy::Futex {
            futex::wake_if_sleeping(word);
        }
    }
}
