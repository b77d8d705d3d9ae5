//! One HTTP connection of the completion loop: the session, the buffers the kernel receives
//! into and sends from, and what of its own is in flight.
//!
//! ```text
//!   Reading:   RECV into `input` ─▶ session.receive ─▶ session.next: a response, or RECV again
//!   Writing:   `output` = head (+ bytes) ─▶ READ a chunk of the file after it ─▶ SEND ─▶ READ …
//!   Draining:  after a closing response: shutdown(WR), RECV and drop, up to LINGER
//!   always:    one TIMEOUT at the connection's deadline (header, idle, write, linger)
//! ```
//!
//! **One socket operation at a time.** A receive, a send or a file read; never two. While a
//! response is written nothing is received, so a client that pipelines requests and never reads
//! fills its own socket buffer, not this process: the connection's memory is its two buffers,
//! `input` (4 KiB) and `output` (a head and one chunk of a file, at most 64 KiB).
//!
//! **The timer** is one `IORING_OP_TIMEOUT` per connection, armed at the deadline
//! [`HttpConn`](crate::nonblocking::HttpConn) keeps for the same phase. A deadline that moves
//! later (every completion that makes progress) costs nothing: the timer fires early, finds the
//! deadline ahead, and is armed again. One that moves earlier (the first byte of a request
//! starts the shorter header timeout; a closing response starts the linger) updates the timer
//! in flight (`IORING_TIMEOUT_UPDATE`). A deadline that passed cancels the socket's operation
//! and, for a request under way, sends the session's 408 once the cancelled receive completed.
//!
//! **Freeing.** A finished connection cancels what is in flight on it and is freed by the loop
//! only at zero in flight: the buffers are the kernel's until every completion is in.

use std::fs::File;
use std::io;
use std::net::{Shutdown, TcpStream};
use std::os::fd::AsRawFd;
use std::time::{Instant, SystemTime};

use io_models::uring::{Op, Ring, cancel_socket};
use io_uring::opcode::{Read, Recv, Send};
use io_uring::squeue::Entry;
use io_uring::types::{Fd, Timespec};

use crate::blocking::{LINGER, Limits};
use crate::response::{Body, Response};
use crate::session::{Next, Session};

/// What one receive may bring in.
const INPUT: usize = 4 * 1024;
/// The most of a file held at once, head included.
const CHUNK: usize = 64 * 1024;

/// Where the conversation is.
#[derive(Debug)]
enum Phase {
    Reading,
    /// `output[sent..]` waits to be sent; then what is left of `file`; then close if `close`.
    Writing {
        file: Option<FileRange>,
        close: bool,
    },
    Draining {
        drained: usize,
    },
    Finished,
}

/// The part of a file a response still owes.
#[derive(Debug)]
struct FileRange {
    file: File,
    offset: u64,
    len: u64,
}

/// The operation in flight on the socket or the response's file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Io {
    Recv,
    Send,
    Read,
}

/// The connection's timer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Timer {
    Off,
    /// In flight, firing at this instant.
    Armed(Instant),
    /// Its removal is submitted: the connection is finished.
    Removing,
}

/// One HTTP connection driven by completions (see the module docs).
#[derive(Debug)]
pub struct UringConn {
    stream: TcpStream,
    session: Session,
    limits: Limits,
    phase: Phase,
    /// When the current wait began (as in `HttpConn`).
    since: Instant,
    /// What the kernel receives into: boxed, so it does not move with the connection.
    input: Box<[u8]>,
    /// What the kernel sends from and reads the file into; its heap block is not touched while
    /// an operation on it is in flight.
    output: Vec<u8>,
    sent: usize,
    io: Option<Io>,
    /// The socket's operation is being cancelled (its completion is awaited).
    cancelling: bool,
    timer: Timer,
    /// The timer's duration, read by the kernel when the timeout or its update is submitted.
    timespec: Box<Timespec>,
    /// Operations naming this connection in flight, cancellations and timer updates included.
    in_flight: u32,
}

impl UringConn {
    /// A connection driving `session` over `stream`, bounded by `limits`.
    pub fn new(stream: TcpStream, session: Session, limits: Limits) -> io::Result<UringConn> {
        stream.set_nodelay(true)?;
        Ok(UringConn {
            stream,
            session,
            limits,
            phase: Phase::Reading,
            since: Instant::now(),
            input: vec![0; INPUT].into_boxed_slice(),
            output: Vec::new(),
            sent: 0,
            io: None,
            cancelling: false,
            timer: Timer::Off,
            timespec: Box::new(Timespec::new()),
            in_flight: 0,
        })
    }

    /// Nothing more will happen and nothing is in flight: the loop may free it.
    pub fn is_done(&self) -> bool {
        self.is_finished() && self.in_flight == 0
    }

    /// Waiting for the next request, with none of it read yet: a stopping loop may close the
    /// connection now (as [`HttpConn`](crate::nonblocking::HttpConn) says). A response being
    /// written, a request half-read or pipelined, and the linger after a closing response are
    /// all in flight.
    pub fn is_idle(&self) -> bool {
        matches!(self.phase, Phase::Reading) && !self.session.mid_request()
    }

    /// Finished: nothing more will be submitted (what is in flight is being cancelled).
    pub fn is_finished(&self) -> bool {
        matches!(self.phase, Phase::Finished)
    }

    /// The server stops: finish, cancelling what is in flight.
    pub fn stop(&mut self, key: usize, ring: &mut Ring) -> io::Result<()> {
        self.phase = Phase::Finished;
        self.advance(key, ring)
    }

    /// An operation naming this connection completed with `result`; submits what follows.
    pub fn complete(
        &mut self,
        key: usize,
        op: Op,
        result: io::Result<u32>,
        ring: &mut Ring,
    ) -> io::Result<()> {
        self.in_flight -= 1;
        match op {
            Op::Recv(_) => self.on_received(result),
            Op::Send(_) => self.on_sent(result),
            Op::Read(_) => self.on_read(result),
            Op::Timeout(_) => self.on_timer(),
            _ => {} // a cancellation or a timer update: only counted
        }
        self.advance(key, ring)
    }

    /// Submits what the connection needs now: its next socket or file operation when none is
    /// in flight, the cancellation of one that no longer fits, and its timer.
    pub fn advance(&mut self, key: usize, ring: &mut Ring) -> io::Result<()> {
        if self.io.is_none() {
            self.io = self.next_io();
            if let Some(io) = self.io {
                let entry = self.entry(io, key);
                self.push(ring, &entry)?;
            }
        }
        let stale = match self.io {
            Some(Io::Recv) => !matches!(self.phase, Phase::Reading | Phase::Draining { .. }),
            Some(Io::Send) => matches!(self.phase, Phase::Finished),
            _ => false,
        };
        if stale && !self.cancelling {
            self.cancelling = true;
            self.in_flight += 1;
            cancel_socket(ring, Fd(self.stream.as_raw_fd()), key)?;
        }
        self.keep_timer(key, ring)
    }

    /// Moves the conversation on until it needs the kernel: the operation to submit, or none
    /// (finished).
    fn next_io(&mut self) -> Option<Io> {
        loop {
            match &mut self.phase {
                Phase::Finished => return None,
                Phase::Draining { .. } => return Some(Io::Recv),
                Phase::Reading => match self.session.next(SystemTime::now()) {
                    Next::Send(response) => self.start(response),
                    Next::NeedInput => return Some(Io::Recv),
                    Next::Done => self.phase = Phase::Finished,
                },
                Phase::Writing { file, close } => {
                    let owed = file.as_ref().filter(|r| r.len > 0);
                    if let Some(range) = owed
                        && self.sent == 0
                        && self.output.len() < CHUNK
                    {
                        let room = (CHUNK - self.output.len()) as u64;
                        self.output.reserve_exact(range.len.min(room) as usize);
                        return Some(Io::Read);
                    }
                    if self.sent < self.output.len() {
                        return Some(Io::Send);
                    }
                    let close = *close;
                    self.response_sent(close);
                }
            }
        }
    }

    /// The submission for `io`, pointing into this connection's buffers.
    fn entry(&mut self, io: Io, key: usize) -> Entry {
        let fd = Fd(self.stream.as_raw_fd());
        match io {
            Io::Recv => Recv::new(fd, self.input.as_mut_ptr(), INPUT as u32)
                .build()
                .user_data(Op::Recv(key).user_data()),
            // MSG_NOSIGNAL: a peer that reset gives EPIPE in the completion, not a SIGPIPE.
            Io::Send => {
                let unsent = &self.output[self.sent..];
                Send::new(fd, unsent.as_ptr(), unsent.len() as u32)
                    .flags(libc::MSG_NOSIGNAL)
                    .build()
                    .user_data(Op::Send(key).user_data())
            }
            Io::Read => {
                let Phase::Writing {
                    file: Some(range), ..
                } = &self.phase
                else {
                    unreachable!("a read is chosen only for a file still owed");
                };
                let spare = self.output.spare_capacity_mut();
                let len = (spare.len() as u64).min(range.len) as u32;
                Read::new(Fd(range.file.as_raw_fd()), spare.as_mut_ptr().cast(), len)
                    .offset(range.offset)
                    .build()
                    .user_data(Op::Read(key).user_data())
            }
        }
    }

    /// Pushes `entry` (one of this connection's) and counts it in flight.
    fn push(&mut self, ring: &mut Ring, entry: &Entry) -> io::Result<()> {
        self.in_flight += 1;
        // SAFETY: every entry of this connection points into its boxed `input`, its `timespec`
        // box, or the heap block of `output`, which is neither touched nor reallocated while
        // an operation is in flight (one socket or file operation at a time). The loop frees
        // the connection only when `in_flight` is back to zero, after every completion; and
        // `Drop` leaks the buffers if it is ever freed sooner.
        unsafe { ring.push(entry) }
    }

    /// A response is planned: its head (and a body of bytes) into `output`, a file for later.
    fn start(&mut self, response: Response) {
        self.output.clear();
        self.sent = 0;
        self.output.extend_from_slice(&response.head);
        let file = match response.body {
            Body::Empty => None,
            Body::Bytes(bytes) => {
                self.output.extend_from_slice(&bytes);
                None
            }
            Body::File { file, offset, len } => Some(FileRange { file, offset, len }),
        };
        self.phase = Phase::Writing {
            file,
            close: response.close,
        };
        self.since = Instant::now();
    }

    /// A response is all out: read the next request, or drain and close.
    fn response_sent(&mut self, close: bool) {
        (self.sent, self.since) = (0, Instant::now());
        self.output.clear();
        if self.output.capacity() > INPUT {
            self.output = Vec::new(); // a file's chunk: given back between responses
        }
        self.phase = if close {
            let _ = self.stream.shutdown(Shutdown::Write);
            Phase::Draining { drained: 0 }
        } else {
            Phase::Reading
        };
    }
}

mod completions;
