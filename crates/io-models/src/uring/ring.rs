//! The ring itself: open it (or say in a sentence why the kernel refused), push submissions
//! (a full submission queue is submitted and the push retried, never a panic), enter the
//! kernel, and count what is in flight.
//!
//! Every operation pushed here is *in flight* until its completion is reaped: the kernel may
//! read or write its buffer at any moment in between. [`Ring::in_flight`] counts them, so the
//! loop knows when it may exit (zero in flight) and the [`Drop`] of its owner knows whether
//! freeing buffers is safe.

use std::io;

use io_uring::{IoUring, cqueue, squeue};

/// What the ring did, for tests and the curious: proof of batching and of a full queue handled.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// `io_uring_enter` calls made.
    pub enters: u64,
    /// Submissions the kernel took in those calls.
    pub submitted: u64,
    /// The most submissions one call took: more than one is batching.
    pub largest_batch: u64,
    /// Completions reaped.
    pub completions: u64,
    /// Times a push found the submission queue full and submitted it to make room.
    pub queue_full: u64,
}

/// A ring, the operations in flight on it, and completions reaped but not yet handled.
pub struct Ring {
    ring: IoUring,
    in_flight: usize,
    /// Completions taken off the completion queue to let a submission through (see `submit`).
    backlog: Vec<Completion>,
    stats: Stats,
}

impl std::fmt::Debug for Ring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ring")
            .field("in_flight", &self.in_flight)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

/// One completion, copied out of the completion queue.
#[derive(Debug, Clone, Copy)]
pub struct Completion {
    /// What the submission said it was (its `user_data`).
    pub user_data: u64,
    /// The syscall's result: a count or a descriptor, or `-errno`.
    pub result: i32,
    /// `IORING_CQE_F_MORE`: a multishot operation is still armed and will complete again.
    pub more: bool,
}

impl Completion {
    /// The result as a `Result`: `-errno` becomes the `io::Error`.
    pub fn into_result(self) -> io::Result<u32> {
        u32::try_from(self.result).map_err(|_| io::Error::from_raw_os_error(-self.result))
    }
}

/// Opens a ring of `entries` submission slots, or fails with a sentence a student can act on.
pub fn open(entries: u32) -> io::Result<IoUring> {
    IoUring::new(entries).map_err(refused)
}

/// Turns an `io_uring_setup` failure into one sentence: the reason and how to check it.
pub fn refused(e: io::Error) -> io::Error {
    let reason = match e.raw_os_error() {
        Some(libc::ENOSYS) => "this kernel was built without it (ENOSYS)",
        Some(libc::EPERM | libc::EACCES) => {
            "the kernel forbids it to this process (EPERM: kernel.io_uring_disabled, or a \
             container's seccomp profile)"
        }
        _ => return io::Error::new(e.kind(), format!("io_uring_setup failed: {e}")),
    };
    io::Error::new(
        io::ErrorKind::Unsupported,
        format!(
            "io_uring is unavailable: {reason}; check it with `sysctl kernel.io_uring_disabled` \
             (0 allows it) on Linux 5.19 or newer"
        ),
    )
}

impl Ring {
    /// A ring with `entries` submission slots (the kernel rounds up to a power of two).
    pub fn new(entries: u32) -> io::Result<Ring> {
        Ok(Ring {
            ring: open(entries)?,
            in_flight: 0,
            backlog: Vec::new(),
            stats: Stats::default(),
        })
    }

    /// Operations submitted (or queued to be) whose completion has not been reaped.
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// What the ring did so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Queues `entry`. A full submission queue is handed to the kernel (one `io_uring_enter`)
    /// to make room, then the push is retried: a full queue is back-pressure, not a failure.
    ///
    /// # Safety
    ///
    /// Every buffer `entry` points to must stay allocated, and untouched by the program, until
    /// the entry's completion is reaped: from this call on, the kernel owns it.
    pub unsafe fn push(&mut self, entry: &squeue::Entry) -> io::Result<()> {
        loop {
            // SAFETY: our caller keeps `entry`'s buffers alive until its completion (above).
            if unsafe { self.ring.submission().push(entry) }.is_ok() {
                self.in_flight += 1;
                return Ok(());
            }
            self.stats.queue_full += 1;
            self.submit(0)?;
        }
    }

    /// Submits everything queued and waits until at least `want` completions are ready, in one
    /// `io_uring_enter`. A signal interrupting the wait is not an error (the caller reaps and
    /// comes back).
    pub fn submit(&mut self, mut want: usize) -> io::Result<()> {
        if !self.backlog.is_empty() {
            want = 0; // completions stashed earlier wait to be handled: no waiting for more
        }
        loop {
            self.stats.enters += 1;
            match self.ring.submit_and_wait(want) {
                Ok(n) => {
                    self.stats.submitted += n as u64;
                    self.stats.largest_batch = self.stats.largest_batch.max(n as u64);
                    return Ok(());
                }
                Err(e) if e.raw_os_error() == Some(libc::EINTR) => return Ok(()),
                // The completion queue overflowed: the kernel takes nothing new until we reap.
                // Keep the completions for the loop to handle, and submit again without waiting
                // (completions are waiting to be handled already).
                Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {
                    self.stash_completions();
                    want = 0;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Moves every ready completion into `out` (first those stashed by `submit`). A multishot
    /// completion that says more will come leaves its operation in flight.
    pub fn reap(&mut self, out: &mut Vec<Completion>) {
        self.stash_completions();
        out.append(&mut self.backlog);
    }

    fn stash_completions(&mut self) {
        for cqe in self.ring.completion() {
            let more = cqueue::more(cqe.flags());
            if !more {
                self.in_flight -= 1;
            }
            self.stats.completions += 1;
            self.backlog.push(Completion {
                user_data: cqe.user_data(),
                result: cqe.result(),
                more,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use io_uring::opcode::Nop;

    use super::{Completion, Ring};

    /// More completions than the completion queue holds (a ring of 2 entries has 4 completion
    /// slots; 12 no-ops are pushed, and a full submission queue is submitted on the way): none is
    /// lost, each comes back once, and the count in flight returns to zero. (Linux keeps what
    /// overflows in a list of its own, `IORING_FEAT_NODROP`, and moves it into the queue as the
    /// loop reaps and enters again; older kernels refused the next wait with `EBUSY`, which
    /// `submit` handles by stashing.)
    #[test]
    fn a_full_completion_queue_loses_nothing() {
        if !crate::uring::works_or_skip() {
            return;
        }
        const PUSHED: u64 = 12;
        let mut ring = Ring::new(2).unwrap();
        for i in 0..PUSHED {
            let nop = Nop::new().build().user_data(i);
            // SAFETY: a no-op carries no buffer.
            unsafe { ring.push(&nop).unwrap() };
        }
        assert!(ring.stats().queue_full > 0, "the submission queue filled");
        let mut reaped: Vec<Completion> = Vec::new();
        for _turn in 0..PUSHED {
            if ring.in_flight() == 0 {
                break;
            }
            ring.submit(1).unwrap();
            ring.reap(&mut reaped);
        }
        let mut seen: Vec<u64> = reaped.iter().map(|c| c.user_data).collect();
        seen.sort_unstable();
        assert_eq!(
            seen,
            (0..PUSHED).collect::<Vec<_>>(),
            "each completion once"
        );
        assert!(reaped.iter().all(|c| c.result == 0));
        assert_eq!(ring.in_flight(), 0);
    }
}
