//! Deadline-guarded TCP client helpers.
//!
//! A test never calls a bare blocking `read`: every helper here sets the socket timeout to the
//! time left before its deadline and loops over partial reads and writes, so a silent server
//! fails the test with "reading line from 127.0.0.1:4000: deadline passed (waited 10.00s) —
//! got 3 bytes: b\"hel\"" instead of hanging the suite.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::os::fd::AsFd;
use std::time::Duration;

use nix::sys::socket::{setsockopt, sockopt};

use crate::time::{Deadline, STEP};
use crate::{Error, Result};

/// A client connection to a server under test.
#[derive(Debug)]
pub struct Conn {
    stream: TcpStream,
    peer: SocketAddr,
    step: Duration,
}

impl Conn {
    /// Connects to `addr` within the default step deadline.
    pub fn connect(addr: SocketAddr) -> Result<Conn> {
        Conn::connect_within(addr, STEP)
    }

    /// Connects to `addr` within `limit` (scaled).
    pub fn connect_within(addr: SocketAddr, limit: Duration) -> Result<Conn> {
        let deadline = Deadline::after(limit, format!("connecting to {addr}"));
        let stream = TcpStream::connect_timeout(&addr, deadline.remaining()?)
            .map_err(|e| Error::new(deadline.what(), e).waited(deadline.elapsed()))?;
        stream
            .set_nodelay(true)
            .map_err(|e| Error::new("setting TCP_NODELAY", e))?;
        Ok(Conn {
            stream,
            peer: addr,
            step: limit,
        })
    }

    /// The server's address.
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// The underlying stream, for what the helpers do not cover.
    pub fn stream(&self) -> &TcpStream {
        &self.stream
    }

    /// Sets the deadline used by each following step (scaled at use).
    pub fn set_step(&mut self, limit: Duration) {
        self.step = limit;
    }

    /// A second handle to the same socket (for a writer thread beside a reader).
    pub fn try_clone(&self) -> Result<Conn> {
        let stream = self
            .stream
            .try_clone()
            .map_err(|e| Error::new(format!("cloning connection to {}", self.peer), e))?;
        Ok(Conn {
            stream,
            peer: self.peer,
            step: self.step,
        })
    }

    /// Writes all of `data`, looping over partial writes, within one step deadline.
    pub fn write_all(&mut self, data: &[u8]) -> Result<()> {
        let deadline = Deadline::after(
            self.step,
            format!("writing {} bytes to {}", data.len(), self.peer),
        );
        let mut written = 0;
        while written < data.len() {
            self.stream
                .set_write_timeout(Some(deadline.remaining()?))
                .map_err(|e| Error::new(deadline.what(), e))?;
            match self.stream.write(&data[written..]) {
                Ok(0) => return Err(Error::new(deadline.what(), "peer accepted no more bytes")),
                Ok(n) => written += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if is_timeout(&e) => {
                    return Err(deadline
                        .expired()
                        .context(format!("{written} of {} bytes written", data.len())));
                }
                Err(e) => {
                    return Err(Error::new(deadline.what(), e)
                        .waited(deadline.elapsed())
                        .context(format!("{written} of {} bytes written", data.len())));
                }
            }
        }
        Ok(())
    }

    /// Reads exactly `len` bytes within one step deadline.
    pub fn read_exact(&mut self, len: usize) -> Result<Vec<u8>> {
        let deadline =
            Deadline::after(self.step, format!("reading {len} bytes from {}", self.peer));
        let mut buf = vec![0; len];
        let mut filled = 0;
        while filled < len {
            match self.read_some(&deadline, &mut buf[filled..])? {
                0 => {
                    return Err(Error::new(deadline.what(), "connection closed early")
                        .waited(deadline.elapsed())
                        .context(got(&buf[..filled])));
                }
                n => filled += n,
            }
        }
        Ok(buf)
    }

    /// Reads up to and including the next `\n` and returns the line without it.
    ///
    /// Reads one byte at a time so nothing after the newline is consumed; fine for tests.
    pub fn read_line(&mut self) -> Result<String> {
        let deadline = Deadline::after(self.step, format!("reading a line from {}", self.peer));
        let mut line = Vec::new();
        let mut byte = [0u8; 1];
        loop {
            match self.read_some(&deadline, &mut byte) {
                Ok(0) => {
                    return Err(
                        Error::new(deadline.what(), "connection closed before newline")
                            .waited(deadline.elapsed())
                            .context(got(&line)),
                    );
                }
                Ok(_) if byte[0] == b'\n' => break,
                Ok(_) => line.push(byte[0]),
                Err(e) => return Err(e.context(got(&line))),
            }
        }
        String::from_utf8(line.clone())
            .map_err(|_| Error::new(deadline.what(), "line is not UTF-8").context(got(&line)))
    }

    /// Reads until the server closes the connection; returns everything read.
    pub fn read_to_eof(&mut self) -> Result<Vec<u8>> {
        let deadline = Deadline::after(
            self.step,
            format!("reading until {} closes the connection", self.peer),
        );
        let mut all = Vec::new();
        let mut chunk = [0u8; 16 * 1024];
        loop {
            match self.read_some(&deadline, &mut chunk) {
                Ok(0) => return Ok(all),
                Ok(n) => all.extend_from_slice(&chunk[..n]),
                Err(e) => return Err(e.context(got(&all))),
            }
        }
    }

    /// Expects the server to close the connection with nothing more to send.
    pub fn expect_eof(&mut self) -> Result<()> {
        let deadline = Deadline::after(
            self.step,
            format!("awaiting end of stream from {}", self.peer),
        );
        let mut chunk = [0u8; 1024];
        match self.read_some(&deadline, &mut chunk)? {
            0 => Ok(()),
            n => Err(
                Error::new(deadline.what(), "server sent more data instead of closing")
                    .context(got(&chunk[..n])),
            ),
        }
    }

    /// Shuts down the write side (a TCP FIN): "I have nothing more to send".
    pub fn shutdown_write(&mut self) -> Result<()> {
        self.stream
            .shutdown(Shutdown::Write)
            .map_err(|e| Error::new(format!("half-closing connection to {}", self.peer), e))
    }

    /// Closes abruptly: `SO_LINGER` 0 makes `close` send a RST instead of a FIN.
    pub fn reset(self) -> Result<()> {
        let linger = nix::libc::linger {
            l_onoff: 1,
            l_linger: 0,
        };
        setsockopt(&self.stream.as_fd(), sockopt::Linger, &linger)
            .map_err(|e| Error::new(format!("setting SO_LINGER 0 on {}", self.peer), e))?;
        drop(self.stream);
        Ok(())
    }

    /// One `read` under the deadline, retrying `EINTR`; `Ok(0)` is end of stream.
    fn read_some(&mut self, deadline: &Deadline, buf: &mut [u8]) -> Result<usize> {
        loop {
            self.stream
                .set_read_timeout(Some(deadline.remaining()?))
                .map_err(|e| Error::new(deadline.what(), e))?;
            match self.stream.read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if is_timeout(&e) => return Err(deadline.expired()),
                Err(e) => return Err(Error::new(deadline.what(), e).waited(deadline.elapsed())),
            }
        }
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

/// "got N bytes: ..." with at most 64 bytes shown.
fn got(bytes: &[u8]) -> String {
    let shown = &bytes[..bytes.len().min(64)];
    let more = if bytes.len() > 64 { "…" } else { "" };
    format!(
        "got {} bytes: b\"{}\"{more}",
        bytes.len(),
        shown.escape_ascii()
    )
}
