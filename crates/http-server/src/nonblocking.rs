//! The non-blocking driver: one connection as a state machine that an event loop pushes along.
//!
//! **What.** [`HttpConn`] wraps a non-blocking `TcpStream` and a [`Session`], and is a
//! [`netkit::Connection`] — the interface every event loop of the io-models chapter drives. The
//! loop — select, poll, epoll level- or edge-triggered, the async reactor — asks what the
//! connection is waiting for (`wants_read`, `wants_write`), tells it when the socket is ready
//! (`on_readable`, `on_writable`) or when its `deadline` has passed (`on_timeout`), and drops it
//! once it `is_finished`. It never blocks: every read, write and `sendfile` stops at `EAGAIN`
//! and resumes where it was. No loop is written here: the chapter's event-loop backends are
//! io-models' loops, given a factory that makes an `HttpConn` of each accepted socket.
//!
//! **Back-pressure.** While a response is being written the connection does not read: a client
//! that pipelines requests faster than it reads the answers fills its own socket buffer, not the
//! server's memory. Each handler keeps going until the socket says `EAGAIN` or the connection is
//! waiting on the other direction, so an edge-triggered loop (which is told only once) never
//! strands bytes that already arrived.
//!
//! **The pitfall.** A non-blocking `sendfile` sends part of the file and returns; the offset and
//! what is left must be kept, and the head must not be sent twice. The same goes for the head
//! itself, which a full socket may take only part of. The head goes out with `MSG_MORE` when a
//! body follows, so a small response leaves in one TCP segment rather than two (half the
//! packets for the kernels at both ends to handle).

use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use netkit::conn::{Connection, ReadStop};

use crate::blocking::{LINGER, Limits, send_head, sendfile_once};
use crate::resolve::Root;
use crate::response::{Body, Response};
use crate::session::{Next, Session};

thread_local! {
    /// The buffer every read of this thread's connections goes through. One per thread, made
    /// once: an array of one read's size ([`netkit::conn::CHUNK`]) on the stack would be
    /// zeroed on every call, which costs more than parsing the request it receives. Nothing
    /// stays in it between calls (the session copies what it needs), so connections can share
    /// it.
    static SCRATCH: std::cell::RefCell<Box<[u8]>> =
        std::cell::RefCell::new(vec![0; netkit::conn::CHUNK].into_boxed_slice());
}

/// Where the connection is.
#[derive(Debug)]
enum Phase {
    /// Reading requests (or waiting for the next one).
    Reading,
    /// Writing a response: `sent` bytes of its head are out; the body follows.
    Writing { response: Response, sent: usize },
    /// A closing response is out: drop what the client still sends (up to a bound), so the
    /// close does not reset the connection before the client has read the response.
    Draining { drained: usize },
    /// Done: the loop should drop the connection.
    Finished,
}

/// One HTTP connection driven by an event loop (see the module docs).
#[derive(Debug)]
pub struct HttpConn {
    stream: TcpStream,
    session: Session,
    phase: Phase,
    limits: Limits,
    /// When the current wait began (a request's first byte, the last response, or the drain).
    since: Instant,
}

impl HttpConn {
    /// Makes `stream` non-blocking and starts a session serving `root`.
    pub fn new(stream: TcpStream, root: Arc<Root>, limits: Limits) -> io::Result<HttpConn> {
        HttpConn::with_session(stream, Session::new(root), limits)
    }

    /// Makes `stream` non-blocking and drives `session` (one of the caller's making: logged,
    /// or with its own planner) over it.
    pub fn with_session(
        stream: TcpStream,
        session: Session,
        limits: Limits,
    ) -> io::Result<HttpConn> {
        stream.set_nonblocking(true)?;
        stream.set_nodelay(true)?;
        Ok(HttpConn {
            stream,
            session,
            phase: Phase::Reading,
            limits,
            since: Instant::now(),
        })
    }

    /// Moves the connection on until the socket says `EAGAIN` in the direction it waits for,
    /// `budget` bytes have been read, or the connection is finished. A loop, not recursion: a
    /// thousand pipelined requests are a thousand turns, not a thousand stack frames.
    ///
    /// The clock is read once per call, not once per step: a pipelined batch shares one `now`
    /// (the deadlines are seconds long), and a request costs two clock reads fewer.
    fn pump(&mut self, budget: usize) -> io::Result<ReadStop> {
        let (now, wall) = (Instant::now(), SystemTime::now());
        SCRATCH.with_borrow_mut(|buf| self.pump_with(budget, buf, now, wall))
    }

    fn pump_with(
        &mut self,
        budget: usize,
        buf: &mut [u8],
        now: Instant,
        wall: SystemTime,
    ) -> io::Result<ReadStop> {
        let mut read = 0;
        loop {
            let step = match &mut self.phase {
                Phase::Finished => return Ok(ReadStop::Eof),
                Phase::Writing { response, sent } => match write_some(&self.stream, response, sent)
                {
                    Ok(true) => {
                        self.sent(now);
                        continue;
                    }
                    // Output waits for room: no reading until it is out (back-pressure).
                    Ok(false) => return Ok(ReadStop::Full),
                    Err(e) => Err(e),
                },
                Phase::Reading => match self.session.next(wall) {
                    Next::Send(response) => {
                        self.start(response, now);
                        continue;
                    }
                    Next::Done => {
                        self.phase = Phase::Finished;
                        continue;
                    }
                    Next::NeedInput if read >= budget => return Ok(ReadStop::Budget),
                    Next::NeedInput => self.stream.read(buf),
                },
                Phase::Draining { .. } if read >= budget => return Ok(ReadStop::Budget),
                Phase::Draining { .. } => self.stream.read(buf),
            };
            match step {
                Ok(0) => {
                    self.phase = Phase::Finished;
                    return Ok(ReadStop::Eof);
                }
                Ok(n) => {
                    read += n;
                    self.received(&buf[..n], now);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(ReadStop::Drained),
                Err(e) => return self.gone(e).map(|()| ReadStop::Eof),
            }
        }
    }

    fn received(&mut self, bytes: &[u8], now: Instant) {
        if let Phase::Draining { drained } = &mut self.phase {
            *drained += bytes.len();
            if *drained >= LINGER.1 {
                self.phase = Phase::Finished;
            }
            return;
        }
        if !self.session.mid_request() {
            self.since = now; // a request begins: the header timeout starts now
        }
        self.session.receive(bytes);
    }

    fn start(&mut self, response: Response, now: Instant) {
        self.phase = Phase::Writing { response, sent: 0 };
        self.since = now;
    }

    /// A response is completely out: read the next request, or drain and close.
    fn sent(&mut self, now: Instant) {
        let closing = matches!(&self.phase, Phase::Writing { response, .. } if response.close);
        self.since = now;
        self.phase = if closing {
            let _ = self.stream.shutdown(Shutdown::Write);
            Phase::Draining { drained: 0 }
        } else {
            Phase::Reading
        };
    }

    /// The client vanished or cannot be written to: end this connection only.
    fn gone(&mut self, e: io::Error) -> io::Result<()> {
        self.phase = Phase::Finished;
        if netkit::conn::is_peer_gone(&e) {
            Ok(())
        } else {
            Err(e)
        }
    }
}

impl Connection for HttpConn {
    fn stream(&self) -> &TcpStream {
        &self.stream
    }

    /// Waiting for a request, or draining after a closing response.
    fn wants_read(&self) -> bool {
        matches!(self.phase, Phase::Reading | Phase::Draining { .. })
    }

    /// A response is being written and the socket had no room for the rest.
    fn wants_write(&self) -> bool {
        matches!(self.phase, Phase::Writing { .. })
    }

    fn is_finished(&self) -> bool {
        matches!(self.phase, Phase::Finished)
    }

    /// Reads requests (at most about `budget` bytes) and answers them, until `EAGAIN`, a
    /// response the socket has no room for, or the end.
    fn on_readable(&mut self, budget: usize) -> io::Result<ReadStop> {
        self.pump(budget)
    }

    /// Sends what waits (a write that makes progress restarts the write timeout), and answers
    /// requests already read; reads nothing new — that is `on_readable`'s, whose budget and
    /// [`ReadStop`] an edge-triggered loop relies on.
    fn on_writable(&mut self) -> io::Result<()> {
        self.since = Instant::now();
        self.pump(0).map(drop)
    }

    /// Always set: the header timeout while a request arrives, the idle timeout between
    /// requests, the write timeout while a response waits for room, the linger while draining.
    fn deadline(&self) -> Option<Instant> {
        let wait = match self.phase {
            Phase::Reading if self.session.mid_request() => self.limits.header_timeout,
            Phase::Reading | Phase::Finished => self.limits.idle_timeout,
            Phase::Writing { .. } => self.limits.write_timeout,
            Phase::Draining { .. } => LINGER.0,
        };
        Some(self.since + wait)
    }

    /// Waiting for the next request, with none of it read yet: a stopping loop may close the
    /// connection now. A response being written, a request half-read (or pipelined and not yet
    /// answered), and the linger after a closing response are all in flight.
    fn is_idle(&self) -> bool {
        matches!(self.phase, Phase::Reading) && !self.session.mid_request()
    }

    /// A 408 for a request under way; otherwise the connection ends.
    fn on_timeout(&mut self) -> io::Result<()> {
        match self.session.timed_out(SystemTime::now()) {
            Some(response) if matches!(self.phase, Phase::Reading) => {
                self.start(response, Instant::now())
            }
            _ => self.phase = Phase::Finished,
        }
        self.pump(0).map(drop)
    }
}

/// Writes what the socket takes of `response` (head from `sent`, then the body); true when all
/// of it is out, false at `EAGAIN`.
fn write_some(
    mut stream: &TcpStream,
    response: &mut Response,
    sent: &mut usize,
) -> io::Result<bool> {
    loop {
        if *sent < response.head.len() {
            let more = match &response.body {
                Body::Empty => false,
                Body::Bytes(bytes) => !bytes.is_empty(),
                Body::File { len, .. } => *len > 0,
            };
            match send_head(stream, &response.head[*sent..], more) {
                Ok(n) => *sent += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(false),
                Err(e) => return Err(e),
            }
            continue;
        }
        let progress = match &mut response.body {
            Body::Empty => return Ok(true),
            Body::Bytes(bytes) if bytes.is_empty() => return Ok(true),
            Body::Bytes(bytes) => stream.write(bytes).map(|n| {
                bytes.drain(..n);
            }),
            Body::File { len: 0, .. } => return Ok(true),
            Body::File { file, offset, len } => sendfile_once(stream, file, offset, len),
        };
        match progress {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(false),
            Err(e) => return Err(e),
        }
    }
}
