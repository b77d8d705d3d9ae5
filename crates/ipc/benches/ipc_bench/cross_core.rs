//! The second ceiling: what moving bytes from one CPU to the other costs, with nothing else.
//!
//! `memcpy` in one process copies between buffers that stay in one core's cache. A message
//! between two processes on two CPUs is copied in on one core and out on the other, and every
//! cache line it fills travels from one core's cache to the other's on the way. This row does
//! exactly that and no more: two threads pinned to CPUs 0 and 1 pass messages through two
//! slots each way, spinning on a flag per slot (no ring arithmetic, no futex, no kernel). What
//! it reaches is the most any shared-memory mechanism can reach on this machine; the ring is
//! measured against it as well as against `memcpy`.

use std::cell::UnsafeCell;
use std::hint::spin_loop;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// One buffer and its flag, on a cache line of their own (the flags of neighbouring slots must
/// not share a line the two CPUs fight over).
#[repr(align(64))]
struct Slot {
    full: AtomicBool,
    bytes: UnsafeCell<Box<[u8]>>,
}

// SAFETY: a slot's bytes are written only by its sender while `full` is false and read only by
// its receiver while `full` is true; the flag's Release store and Acquire load order each copy
// before the other side's.
unsafe impl Sync for Slot {}

/// One direction: message `i` goes through slot `i % 2`, so one can be filled while the other
/// is emptied.
struct Lane([Slot; 2]);

impl Lane {
    fn new(size: usize) -> Lane {
        let slot = || Slot {
            full: AtomicBool::new(false),
            bytes: UnsafeCell::new(vec![0u8; size].into_boxed_slice()),
        };
        Lane([slot(), slot()])
    }

    fn send(&self, i: usize, message: &[u8]) {
        let slot = &self.0[i % 2];
        wait_until(|| !slot.full.load(Ordering::Acquire));
        // SAFETY: the slot is empty, so its receiver does not read it until the store below.
        unsafe { (*slot.bytes.get()).copy_from_slice(message) };
        slot.full.store(true, Ordering::Release);
    }

    fn recv(&self, i: usize, into: &mut [u8]) {
        let slot = &self.0[i % 2];
        wait_until(|| slot.full.load(Ordering::Acquire));
        // SAFETY: the slot is full, so its sender does not write it until the store below.
        into.copy_from_slice(unsafe { &*slot.bytes.get() });
        slot.full.store(false, Ordering::Release);
    }
}

/// Spins until `ready`; yields now and then, so one CPU shared by both sides still moves on.
fn wait_until(ready: impl Fn() -> bool) {
    let mut spins = 0u32;
    while !ready() {
        spins = spins.wrapping_add(1);
        if spins.is_multiple_of(1024) {
            thread::yield_now();
        } else {
            spin_loop();
        }
    }
}

/// Bytes per second for `messages` messages of `size` bytes one way, and the mean round trip
/// over `round_trips` ping-pongs, between this thread on CPU 0 and a peer on CPU 1.
pub fn measure(size: usize, messages: usize, round_trips: usize) -> io::Result<(f64, Duration)> {
    let (there, back) = (Lane::new(size), Lane::new(size));
    let received_all = AtomicBool::new(false);
    let two_cpus = benchkit::usable_cpus() >= 2;
    let _pinned = two_cpus.then(|| benchkit::pin_to(0)).transpose()?;
    thread::scope(|scope| {
        let peer = scope.spawn(|| -> io::Result<()> {
            let _pinned = two_cpus.then(|| benchkit::pin_to(1)).transpose()?;
            let mut message = vec![0u8; size];
            for i in 0..messages {
                there.recv(i, &mut message);
            }
            received_all.store(true, Ordering::Release);
            for i in 0..round_trips {
                there.recv(i, &mut message);
                back.send(i, &message);
            }
            Ok(())
        });
        let mut message = vec![0x5au8; size];
        let start = Instant::now();
        for i in 0..messages {
            there.send(i, &message);
        }
        wait_until(|| received_all.load(Ordering::Acquire));
        let throughput = (messages * size) as f64 / start.elapsed().as_secs_f64();
        let start = Instant::now();
        for i in 0..round_trips {
            there.send(i, &message);
            back.recv(i, &mut message);
        }
        let round_trip = start.elapsed() / round_trips.max(1) as u32;
        peer.join()
            .map_err(|_| io::Error::other("the cross-core peer thread panicked"))??;
        Ok((throughput, round_trip))
    })
}
