//! The echo protocol, written once: a blocking loop and a non-blocking state machine.
//!
//! Echo is trivial until the socket is non-blocking. Then `write` may take only part of what it
//! is given, or nothing (`EAGAIN`), and the rest must be kept and sent when the socket is
//! writable again; a peer that sends faster than it reads must be stopped from filling our
//! memory (stop reading from it while its unsent output is over a bound — back-pressure); and a
//! peer's FIN means "echo what is left, then close", not "drop everything".
//!
//! [`EchoConn`] does exactly that and nothing about *when* to call it: that is the lesson of each
//! IO model (select, poll, epoll, …), which tells it "readable" or "writable".

use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};

pub use crate::conn::ReadStop;
use crate::conn::{self, CHUNK, Connection};
use crate::outbox::Outbox;

/// How many unsent bytes a connection may hold before we stop reading from it.
pub const MAX_PENDING: usize = 64 * 1024;

/// Echoes a blocking stream until the peer closes its side, then closes ours.
///
/// `write_all` loops over partial writes; `read` returning 0 is the peer's FIN.
pub fn echo_blocking(stream: &mut TcpStream) -> io::Result<()> {
    let mut buf = [0u8; CHUNK];
    loop {
        let n = match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        stream.write_all(&buf[..n])?;
    }
    // The peer half-closed and everything it sent was echoed: close our side too.
    stream
        .shutdown(Shutdown::Write)
        .or_else(ignore_not_connected)
}

/// One non-blocking echo connection: what was read and not yet written back, and whether the
/// peer has finished sending.
#[derive(Debug)]
pub struct EchoConn {
    stream: TcpStream,
    /// Bytes read but not yet echoed.
    pending: Outbox,
    /// The peer sent FIN: nothing more will be read.
    peer_done: bool,
}

impl EchoConn {
    /// Wraps a connection and switches it to non-blocking mode.
    pub fn new(stream: TcpStream) -> io::Result<EchoConn> {
        stream.set_nonblocking(true)?;
        Ok(EchoConn {
            stream,
            pending: Outbox::new(),
            peer_done: false,
        })
    }

    /// Bytes read and not yet echoed.
    pub fn unsent(&self) -> usize {
        self.pending.unsent()
    }
}

impl Connection for EchoConn {
    fn stream(&self) -> &TcpStream {
        &self.stream
    }

    /// True while the connection should be watched for readability.
    fn wants_read(&self) -> bool {
        !self.peer_done && self.unsent() < MAX_PENDING
    }

    /// True while there is output waiting for the socket to become writable.
    fn wants_write(&self) -> bool {
        self.unsent() > 0
    }

    /// True when the peer is done and everything has been echoed: close the connection.
    fn is_finished(&self) -> bool {
        self.peer_done && self.unsent() == 0
    }

    /// Reads until the socket is drained, the peer closes, the output bound is reached, or
    /// `budget` bytes have been read in this call — whichever comes first — and tries to echo
    /// what was read. An error means the connection is broken (e.g. `ECONNRESET`): close it.
    fn on_readable(&mut self, budget: usize) -> io::Result<ReadStop> {
        let full = |c: &EchoConn| (c.unsent() >= MAX_PENDING).then_some(ReadStop::Full);
        let stop = conn::read_budgeted(self, budget, full, |c, room| {
            c.pending.read_from(&mut c.stream, room)
        })?;
        if stop == ReadStop::Eof {
            self.peer_done = true;
        }
        self.on_writable()?;
        Ok(stop)
    }

    /// Writes pending output until it is all sent or the socket's buffer is full (`EAGAIN`).
    /// When the peer is done and nothing is left, closes our side of the connection.
    fn on_writable(&mut self) -> io::Result<()> {
        self.pending.write_to(&mut self.stream)?;
        if self.peer_done && self.unsent() == 0 {
            self.stream
                .shutdown(Shutdown::Write)
                .or_else(ignore_not_connected)?;
        }
        Ok(())
    }
}

/// `ENOTCONN` from `shutdown` means the peer already reset the connection: nothing to do.
pub(crate) fn ignore_not_connected(e: io::Error) -> io::Result<()> {
    if e.kind() == ErrorKind::NotConnected {
        Ok(())
    } else {
        Err(e)
    }
}
