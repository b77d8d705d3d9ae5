//! Non-blocking `accept` that survives running out of file descriptors.
//!
//! When a process hits its descriptor limit, `accept` fails with `EMFILE` — but the connection
//! stays in the listen queue, so the listener stays readable. An event loop that just logs the
//! error and goes back to `epoll_wait` is woken again at once: it spins at 100% CPU and serves
//! nobody. The classic fix (libev, nginx) keeps one descriptor in reserve: on `EMFILE`, close the
//! reserve, accept the connection, close it at once (the client sees an orderly close instead of
//! hanging in the queue), and reopen the reserve.
//!
//! Other `accept` errors concern one aborted connection (`ECONNABORTED`, a peer that reset
//! before we got to it) and are skipped; `EINTR` is retried.
//!
//! A server that would rather keep such clients waiting than turn them away (a load-test target
//! whose client measures what sits in the backlog) uses [`Acceptor::keep_queued`]: no reserve,
//! `EMFILE` is returned, and the caller stops watching the listener for a while instead.
//!
//! **The pitfall in a threaded server.** The reserve trick assumes nobody else opens a
//! descriptor between closing the reserve and the `accept` that takes its number. In a server
//! whose connection threads open descriptors of their own (a `try_clone`, a file to send), one
//! of them can take it first: then nothing can be accepted *or* shed, and the reserve cannot be
//! reopened. That moment is not a reason to end the server: [`Acceptor::next_blocking`] logs it,
//! waits a little (or for the stop), reopens the reserve and goes on.

use std::fs::File;
use std::io::{self, ErrorKind};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::time::Duration;

use crate::Stop;

/// What one call to [`Acceptor::accept`] produced.
#[derive(Debug)]
pub enum Accepted {
    /// A new connection, already switched to non-blocking mode.
    Connection(TcpStream, SocketAddr),
    /// The listen queue is empty: wait for the next readiness event.
    Empty,
    /// A connection was accepted and closed at once because this process is out of descriptors.
    Shed,
}

/// A non-blocking listener with a reserve descriptor for `EMFILE`.
#[derive(Debug)]
pub struct Acceptor {
    listener: TcpListener,
    /// An open `/dev/null`, closed to make room when `accept` fails with `EMFILE`; `None` with
    /// [`Acceptor::keep_queued`] (or when it could not be reopened).
    reserve: Option<File>,
    /// False with [`Acceptor::keep_queued`]: never shed, so never reopen the reserve.
    sheds: bool,
}

/// How long [`Acceptor::next_blocking`] waits when out of descriptors with no reserve left.
const STARVED_PAUSE: Duration = Duration::from_millis(50);

impl Acceptor {
    /// Switches `listener` to non-blocking mode and opens the reserve descriptor.
    pub fn new(listener: TcpListener) -> io::Result<Acceptor> {
        listener.set_nonblocking(true)?;
        Ok(Acceptor {
            listener,
            reserve: Some(File::open("/dev/null")?),
            sheds: true,
        })
    }

    /// Like [`Acceptor::new`], but never sheds: out of descriptors, [`accept`](Self::accept)
    /// returns the `EMFILE`/`ENFILE` error and the connection stays in the listen queue, to be
    /// accepted once descriptors are free.
    ///
    /// The listener stays readable meanwhile, so the caller must then stop watching it for a
    /// while (or a level-triggered loop spins).
    pub fn keep_queued(listener: TcpListener) -> io::Result<Acceptor> {
        listener.set_nonblocking(true)?;
        Ok(Acceptor {
            listener,
            reserve: None,
            sheds: false,
        })
    }

    /// The listener, for registering with a multiplexer.
    pub fn listener(&self) -> &TcpListener {
        &self.listener
    }

    /// Accepts one connection if one is waiting.
    pub fn accept(&mut self) -> io::Result<Accepted> {
        loop {
            match self.listener.accept() {
                Ok((stream, peer)) => {
                    stream.set_nonblocking(true)?;
                    return Ok(Accepted::Connection(stream, peer));
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(Accepted::Empty),
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == ErrorKind::ConnectionAborted => continue,
                Err(e) if is_out_of_descriptors(&e) => return self.shed(e),
                Err(e) => return Err(e),
            }
        }
    }

    /// For a server of blocking threads or processes: waits until a connection arrives or
    /// `stop` is requested, and returns the connection switched back to blocking mode (`None`
    /// once stopped). Connections shed for lack of descriptors are skipped.
    ///
    /// Out of descriptors with no reserve to shed with (another thread took the descriptor the
    /// reserve freed; see the module docs), it says so once, pauses, and tries again: a full
    /// descriptor table is a moment to ride out, not a reason to end the server.
    pub fn next_blocking(&mut self, stop: &Stop) -> io::Result<Option<(TcpStream, SocketAddr)>> {
        let mut starved = false;
        loop {
            if stop.is_stopped() {
                return Ok(None);
            }
            match self.accept() {
                Ok(Accepted::Connection(stream, peer)) => {
                    stream.set_nonblocking(false)?;
                    return Ok(Some((stream, peer)));
                }
                Ok(Accepted::Shed) => {}
                Ok(Accepted::Empty) => {
                    stop.wait_readable(self.listener.as_fd(), None)?;
                }
                Err(e) if self.sheds && is_out_of_descriptors(&e) => {
                    if !std::mem::replace(&mut starved, true) {
                        eprintln!(
                            "accept: out of file descriptors ({e}) and none in reserve to shed \
                             with; pausing accepts until one is free"
                        );
                    }
                    stop.wait(Some(STARVED_PAUSE));
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Accepts every waiting connection (until the queue is empty), calling `each` for each.
    /// Returns how many were shed for lack of descriptors.
    pub fn accept_all(
        &mut self,
        mut each: impl FnMut(TcpStream, SocketAddr) -> io::Result<()>,
    ) -> io::Result<usize> {
        let mut shed = 0;
        loop {
            match self.accept()? {
                Accepted::Connection(stream, peer) => each(stream, peer)?,
                Accepted::Shed => shed += 1,
                Accepted::Empty => return Ok(shed),
            }
        }
    }

    fn shed(&mut self, error: io::Error) -> io::Result<Accepted> {
        if self.sheds && self.reserve.is_none() {
            self.reserve = File::open("/dev/null").ok(); // lost last time: try again
        }
        // Without a reserve (`keep_queued`, or it cannot be reopened) there is nothing to
        // free: report the error rather than spin.
        let Some(reserve) = self.reserve.take() else {
            return Err(error);
        };
        drop(reserve);
        let outcome = match self.listener.accept() {
            Ok((stream, _)) => {
                drop(stream); // orderly close: the client is told to go away, not left hanging
                eprintln!("accept: out of file descriptors ({error}); shed one connection");
                Ok(Accepted::Shed)
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => Ok(Accepted::Empty),
            Err(e) => Err(e),
        };
        // Only now, with the shed connection closed, is there a descriptor to take back.
        self.reserve = File::open("/dev/null").ok();
        outcome
    }
}

/// `EMFILE` (this process) or `ENFILE` (the whole system) — out of descriptors.
pub fn is_out_of_descriptors(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))
}
