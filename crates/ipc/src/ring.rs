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
//! Waiting is spinning (then yielding): a ring has no way to sleep until data arrives — that
//! is the price of not entering the kernel, and why [`Ring::write_all`] takes a timeout.
//!
//! **The contract.** One process pushes, one process pops. Two producers would both write at
//! `head` — the ring is SPSC by design, not by accident.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::shm::Segment;

/// The counters, each on its own 64-byte cache line.
#[repr(C, align(64))]
struct Counter(AtomicU64);

#[repr(C)]
struct Header {
    head: Counter,
    tail: Counter,
}

/// Where the data starts in the segment.
const DATA: usize = 128;

/// A byte ring of a power-of-two capacity in a shared memory segment.
#[derive(Debug)]
pub struct Ring {
    segment: Segment,
    capacity: usize,
}

impl Ring {
    /// A ring of `capacity` bytes (rounded up to a power of two), in a new unnamed segment,
    /// to be shared with children forked afterwards.
    pub fn new(capacity: usize) -> io::Result<Ring> {
        let capacity = capacity.max(64).next_power_of_two();
        let segment = Segment::create(DATA + capacity)?;
        // A fresh segment is zero-filled: head = tail = 0, the ring is empty.
        Ok(Ring { segment, capacity })
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
        &self.header().head.0
    }

    fn tail(&self) -> &AtomicU64 {
        &self.header().tail.0
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

    /// Producer side: pushes all of `bytes`, spinning while the ring is full; fails with
    /// `TimedOut` if the consumer made no room for `patience`.
    pub fn write_all(&self, mut bytes: &[u8], patience: Duration) -> io::Result<()> {
        let mut idle = Idle::new(patience);
        while !bytes.is_empty() {
            let n = self.push(bytes);
            bytes = &bytes[n..];
            idle.after(n, "the ring stayed full: is the consumer alive?")?;
        }
        Ok(())
    }

    /// Consumer side: fills all of `buf`, spinning while the ring is empty; fails with
    /// `TimedOut` if the producer sent nothing for `patience`.
    pub fn read_exact(&self, mut buf: &mut [u8], patience: Duration) -> io::Result<()> {
        let mut idle = Idle::new(patience);
        while !buf.is_empty() {
            let n = self.pop(buf);
            buf = &mut buf[n..];
            idle.after(n, "the ring stayed empty: is the producer alive?")?;
        }
        Ok(())
    }
}

/// Spin, then yield, while no progress is made; give up after `patience` without progress.
struct Idle {
    patience: Duration,
    spins: u32,
    since: Option<Instant>,
}

impl Idle {
    fn new(patience: Duration) -> Idle {
        Idle {
            patience,
            spins: 0,
            since: None,
        }
    }

    fn after(&mut self, progress: usize, why: &str) -> io::Result<()> {
        if progress > 0 {
            self.spins = 0;
            self.since = None;
            return Ok(());
        }
        self.spins += 1;
        // Spin a while first (a peer on another CPU usually answers within microseconds), then
        // give the CPU away on every round.
        if self.spins < 1024 {
            std::hint::spin_loop();
            return Ok(());
        }
        // On two cores the other side may need this one: give it up.
        std::thread::yield_now();
        let since = *self.since.get_or_insert_with(Instant::now);
        if since.elapsed() > self.patience {
            return Err(io::Error::new(io::ErrorKind::TimedOut, why.to_string()));
        }
        Ok(())
    }
}
