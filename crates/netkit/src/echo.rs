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

/// How many unsent bytes a connection may hold before we stop reading from it.
pub const MAX_PENDING: usize = 64 * 1024;

/// The size of one `read`.
const CHUNK: usize = 16 * 1024;

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

/// Why [`EchoConn::on_readable`] stopped reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadStop {
    /// The socket has nothing more to read now (`EAGAIN`).
    Drained,
    /// The peer closed its side (FIN).
    Eof,
    /// The unsent output reached [`MAX_PENDING`]: stop reading until it is flushed.
    Full,
    /// The read budget for this turn was used up; there may be more to read.
    Budget,
}

/// One non-blocking echo connection: what was read and not yet written back, and whether the
/// peer has finished sending.
#[derive(Debug)]
pub struct EchoConn {
    stream: TcpStream,
    /// Bytes read but not yet echoed: `pending[sent..]` is still to be written.
    pending: Vec<u8>,
    /// How much of `pending` has been written.
    sent: usize,
    /// The peer sent FIN: nothing more will be read.
    peer_done: bool,
}

impl EchoConn {
    /// Wraps a connection and switches it to non-blocking mode.
    pub fn new(stream: TcpStream) -> io::Result<EchoConn> {
        stream.set_nonblocking(true)?;
        Ok(EchoConn {
            stream,
            pending: Vec::new(),
            sent: 0,
            peer_done: false,
        })
    }

    /// The socket, for registering with a multiplexer.
    pub fn stream(&self) -> &TcpStream {
        &self.stream
    }

    /// Bytes read and not yet echoed.
    pub fn unsent(&self) -> usize {
        self.pending.len() - self.sent
    }

    /// True while the connection should be watched for readability.
    pub fn wants_read(&self) -> bool {
        !self.peer_done && self.unsent() < MAX_PENDING
    }

    /// True while there is output waiting for the socket to become writable.
    pub fn wants_write(&self) -> bool {
        self.unsent() > 0
    }

    /// True when the peer is done and everything has been echoed: close the connection.
    pub fn is_finished(&self) -> bool {
        self.peer_done && self.unsent() == 0
    }

    /// Reads until the socket is drained, the peer closes, the output bound is reached, or
    /// `budget` bytes have been read in this call — whichever comes first — and tries to echo
    /// what was read. An error means the connection is broken (e.g. `ECONNRESET`): close it.
    pub fn on_readable(&mut self, budget: usize) -> io::Result<ReadStop> {
        let mut read = 0;
        let stop = loop {
            if self.unsent() >= MAX_PENDING {
                break ReadStop::Full;
            }
            if read >= budget {
                break ReadStop::Budget;
            }
            let start = self.pending.len();
            let room = CHUNK.min(budget - read);
            self.pending.resize(start + room, 0);
            let result = self.stream.read(&mut self.pending[start..]);
            let got = *result.as_ref().unwrap_or(&0);
            self.pending.truncate(start + got); // keep only the bytes actually read
            match result {
                Ok(0) => {
                    self.peer_done = true;
                    break ReadStop::Eof;
                }
                Ok(n) => read += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break ReadStop::Drained,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        };
        self.on_writable()?;
        Ok(stop)
    }

    /// Writes pending output until it is all sent or the socket's buffer is full (`EAGAIN`).
    /// When the peer is done and nothing is left, closes our side of the connection.
    pub fn on_writable(&mut self) -> io::Result<()> {
        while self.unsent() > 0 {
            match self.stream.write(&self.pending[self.sent..]) {
                Ok(0) => return Err(ErrorKind::WriteZero.into()),
                Ok(n) => self.sent += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if self.unsent() == 0 {
            // Everything echoed: reuse the buffer from the start.
            self.pending.clear();
            self.sent = 0;
            if self.peer_done {
                self.stream
                    .shutdown(Shutdown::Write)
                    .or_else(ignore_not_connected)?;
            }
        }
        Ok(())
    }
}

/// `ENOTCONN` from `shutdown` means the peer already reset the connection: nothing to do.
fn ignore_not_connected(e: io::Error) -> io::Result<()> {
    if e.kind() == ErrorKind::NotConnected {
        Ok(())
    } else {
        Err(e)
    }
}
