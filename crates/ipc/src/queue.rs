//! A typed queue between processes: the counterpart of Python's `multiprocessing.Queue`.
//!
//! `Queue<T>` is made before forking; the children inherit it. Any process may
//! [`put`](Queue::put) values and any may [`get`](Queue::get) them, in order, as Rust values:
//!
//! ```text
//!   put(&value) ─ postcard ─▶ [len u32 LE][bytes] ─▶ pipe ─▶ read frame ─ postcard ─▶ value
//!                      (writers' lock held)                (readers' lock held)
//! ```
//!
//! - **Frames.** A pipe carries bytes, not messages, so each value goes as a length-prefixed
//!   frame — the wire format of the multiprocess chapter's `frame` module, whose reader
//!   ([`multiprocess::frame::read_frame`]: clean EOF vs a frame cut short, a bounded length) is
//!   reused here. What differs is the writing side, which is this lesson.
//! - **A lock per side.** A frame of at most `PIPE_BUF` bytes reaches the pipe in one atomic
//!   write, but a bigger one may be split — and another producer's frame may land inside it,
//!   corrupting both. So writers hold a process-shared semaphore for the whole frame, and
//!   readers hold another, so two consumers never read halves of the same frame. Python's
//!   `Queue` does the same (its `_wlock` and `_rlock`).
//! - **The format.** `postcard` (serde, compact, varint integers): a `u32` costs 1–5 bytes, not
//!   the 10 characters of JSON. The frame says how long each value is, so postcard need not.
//! - **Close and end.** [`close`](Queue::close) says "this process puts no more" (it closes
//!   this process's write end). When every process has closed or exited, [`get`](Queue::get)
//!   returns `None`: the end of the queue, not an error. Until then it waits.
//!
//! [`producers`] puts the queue to work: several producer processes, one consumer that checks
//! every item.
//!
//! Pitfall — **join before drain deadlocks**, as in Python: `put` blocks while the pipe
//! (64 KiB) is full, so a producer cannot exit before someone gets what it put. Consume
//! first, then wait for the producers.
//!
//! Pitfall — **a producer that holds a read end outlives its consumer.** Every child inherits
//! both ends of the pipe. If the consumer dies (SIGKILL, a crash), a producer blocked on a full
//! pipe waits forever: its own read end keeps the pipe "read", so no `EPIPE` ever comes — an
//! orphan under init, stuck in `write` (and the others in `sem_wait` behind it). When only the
//! parent consumes, make the queue with [`Queue::read_by_parent`]: its read end is a
//! [`ParentEnd`], which every child closes, so the parent's death is `EPIPE` in every producer,
//! the writer holding the lock releases it, and each producer's `put` fails and it exits.

pub mod producers;

use std::fs::File;
use std::io::{self, ErrorKind, Write};
use std::marker::PhantomData;
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use serde::Serialize;
use serde::de::DeserializeOwned;

use multiprocess::spawn::ParentEnd;

use crate::pipe::pipe;
use crate::shm::Semaphores;

const WRITERS: usize = 0;
const READERS: usize = 1;

/// A typed multi-producer, multi-consumer queue between processes; see the module docs.
#[derive(Debug)]
pub struct Queue<T> {
    read: ReadEnd,
    /// `None` after [`close`](Queue::close).
    write: Option<File>,
    locks: Semaphores,
    _values: PhantomData<fn(T) -> T>,
}

/// The queue's read end: every process's, or the parent's alone.
#[derive(Debug)]
enum ReadEnd {
    Shared(File),
    ParentOnly(ParentEnd),
}

impl ReadEnd {
    fn file(&self) -> &File {
        match self {
            ReadEnd::Shared(file) => file,
            ReadEnd::ParentOnly(end) => end.file(),
        }
    }
}

impl<T: Serialize + DeserializeOwned> Queue<T> {
    /// An empty queue, to be shared with children forked from now on; any of them may `get`.
    pub fn new() -> io::Result<Queue<T>> {
        let (read, write) = pipe()?;
        Queue::with_read_end(ReadEnd::Shared(read), write)
    }

    /// An empty queue that only this process reads: children forked with
    /// [`fork_run`](multiprocess::spawn::fork_run) hold only its write end, so if this process
    /// dies their `put` fails with `EPIPE` instead of blocking forever (see the module docs).
    pub fn read_by_parent() -> io::Result<Queue<T>> {
        let (read, write) = pipe()?;
        Queue::with_read_end(ReadEnd::ParentOnly(ParentEnd::new(read.into())), write)
    }

    fn with_read_end(read: ReadEnd, write: File) -> io::Result<Queue<T>> {
        Ok(Queue {
            read,
            write: Some(write),
            locks: Semaphores::new(&[1, 1])?,
            _values: PhantomData,
        })
    }

    /// Puts `value` at the end of the queue; blocks while the pipe is full.
    pub fn put(&self, value: &T) -> io::Result<()> {
        let Some(write) = &self.write else {
            return Err(io::Error::new(ErrorKind::BrokenPipe, "put after close"));
        };
        let payload = postcard::to_stdvec(value).map_err(io::Error::other)?;
        if payload.len() > multiprocess::frame::MAX_FRAME {
            return Err(io::Error::new(
                ErrorKind::InvalidInput,
                format!("a {}-byte value is over the frame limit", payload.len()),
            ));
        }
        // BEGIN SOLUTION: ipc-queue-put
        let mut frame = Vec::with_capacity(4 + payload.len());
        frame.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        frame.extend_from_slice(&payload);
        self.locks.wait(WRITERS)?;
        let written = (&*write).write_all(&frame);
        self.locks.post(WRITERS)?;
        written
        // END SOLUTION
    }

    /// Takes the value at the front, waiting for one; `None` once every writer has closed.
    pub fn get(&self) -> io::Result<Option<T>> {
        self.locks.wait(READERS)?;
        let frame = multiprocess::frame::read_frame(&mut self.read.file());
        self.locks.post(READERS)?;
        decode(frame?)
    }

    /// Like [`get`](Self::get), but fails with `TimedOut` (Python's `queue.Empty`) if no value
    /// comes within `timeout`.
    pub fn get_timeout(&self, timeout: Duration) -> io::Result<Option<T>> {
        let start = Instant::now();
        if !self.locks.wait_timeout(READERS, timeout)? {
            return Err(empty(timeout));
        }
        let result = self.read_when_ready(timeout.saturating_sub(start.elapsed()), timeout);
        self.locks.post(READERS)?;
        result
    }

    /// With the readers' lock held: waits up to `left` for the pipe to be readable, then reads.
    fn read_when_ready(&self, left: Duration, timeout: Duration) -> io::Result<Option<T>> {
        let mut fds = [PollFd::new(self.read.file().as_fd(), PollFlags::POLLIN)];
        let wait = PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX);
        if crate::retry_eintr(|| poll(&mut fds, wait))? == 0 {
            return Err(empty(timeout));
        }
        // Readable: a frame has begun (the rest follows: its writer holds the lock until it is
        // all written), or every writer is gone and this is EOF.
        decode(multiprocess::frame::read_frame(&mut self.read.file())?)
    }

    /// This process will put no more: closes its write end. Once every process that held the
    /// queue has closed it or exited, `get` returns `None`.
    pub fn close(&mut self) {
        self.write = None;
    }
}

fn decode<T: DeserializeOwned>(frame: Option<Vec<u8>>) -> io::Result<Option<T>> {
    frame
        .map(|bytes| {
            postcard::from_bytes(&bytes).map_err(|e| io::Error::new(ErrorKind::InvalidData, e))
        })
        .transpose()
}

fn empty(timeout: Duration) -> io::Error {
    io::Error::new(
        ErrorKind::TimedOut,
        format!("the queue stayed empty for {timeout:?}"),
    )
}
