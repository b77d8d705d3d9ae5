//! Output for a non-blocking socket: what is waiting, and how much of it already went out.
//!
//! On a non-blocking socket `write` may take part of what it is given, or nothing (`EAGAIN`).
//! The rest must be kept and sent when the socket is writable again — and the amount kept is
//! what a connection's back-pressure bound is measured against. Every buffered connection of
//! the workspace ([`EchoConn`](crate::echo::EchoConn), [`LineConn`](crate::lines::LineConn), the
//! HTTP server's) keeps its output in an [`Outbox`].

use std::io::{self, ErrorKind, Read, Write};

/// Bytes to send; `bytes[sent..]` is still to be written.
#[derive(Debug, Default)]
pub struct Outbox {
    bytes: Vec<u8>,
    sent: usize,
}

impl Outbox {
    /// An empty outbox.
    pub fn new() -> Outbox {
        Outbox::default()
    }

    /// Bytes waiting to be written.
    pub fn unsent(&self) -> usize {
        self.bytes.len() - self.sent
    }

    /// True when nothing waits.
    pub fn is_empty(&self) -> bool {
        self.unsent() == 0
    }

    /// Queues `data` behind what already waits.
    pub fn push(&mut self, data: &[u8]) {
        self.bytes.extend_from_slice(data);
    }

    /// One `read` from `source` of at most `max` bytes, appended straight to the waiting output
    /// (no copy through another buffer — how an echo server reads). Returns what `read` did:
    /// `Ok(0)` is the peer's FIN, and errors (`EAGAIN` included) are passed on.
    pub fn read_from(&mut self, source: &mut impl Read, max: usize) -> io::Result<usize> {
        let start = self.bytes.len();
        self.bytes.resize(start + max, 0);
        let result = source.read(&mut self.bytes[start..]);
        let got = *result.as_ref().unwrap_or(&0);
        self.bytes.truncate(start + got); // keep only the bytes actually read
        result
    }

    /// Writes until everything is sent or the socket's buffer is full (`EAGAIN`); `EINTR` is
    /// retried. An error means the connection is broken.
    pub fn write_to(&mut self, sink: &mut impl Write) -> io::Result<()> {
        while self.unsent() > 0 {
            match sink.write(&self.bytes[self.sent..]) {
                Ok(0) => return Err(ErrorKind::WriteZero.into()),
                Ok(n) => self.sent += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if self.unsent() == 0 {
            // Everything went out: reuse the buffer from the start.
            self.bytes.clear();
            self.sent = 0;
        }
        Ok(())
    }
}
