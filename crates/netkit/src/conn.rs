//! The one interface every event loop drives: a non-blocking connection that says what it wants.
//!
//! An event loop's lesson is *when* to touch a socket — `select` rebuilds its sets, epoll keeps
//! an interest list, the edge-triggered loop remembers who still has bytes. *What* to do with the
//! bytes is the protocol's business. [`Connection`] is the line between the two: the loop asks
//! the connection what it wants to be woken for ([`wants_read`](Connection::wants_read),
//! [`wants_write`](Connection::wants_write)), tells it when that happened
//! ([`on_readable`](Connection::on_readable), [`on_writable`](Connection::on_writable)), and
//! closes it once it [is finished](Connection::is_finished) or returns an error. So one loop
//! serves echo ([`EchoConn`](crate::echo::EchoConn)), a line protocol
//! ([`LineConn`](crate::lines::LineConn)) or HTTP, and each model's file stays the lesson of
//! its model.
//!
//! A model takes a *factory* ([`NewConn`]: `FnMut(TcpStream) -> io::Result<C>`), called for each
//! accepted connection; a factory error closes that one connection and the server carries on.
//! Each turn, a loop lets a connection read at most [`READ_BUDGET`] bytes, so one busy client
//! cannot hold up the others; how the rest is picked up is the model's lesson.
//!
//! The contract, which every loop relies on:
//! - `wants_read` is false while the connection's output is over its bound (back-pressure: a
//!   loop that keeps asking for readability it will not use spins);
//! - `wants_write` is true only while output waits (a socket is almost always writable, so a
//!   loop that always asks spins);
//! - `on_readable(budget)` reads at most about `budget` bytes and says why it stopped
//!   ([`ReadStop`]) — an edge-triggered loop must know whether bytes may be left in the kernel;
//! - `deadline()` is when the connection wants [`on_timeout`](Connection::on_timeout) if nothing
//!   else happens first (`None`, the default: never); it may change only when the loop calls the
//!   connection, so a loop records it after each call ([`crate::timers`]);
//! - an `Err` means the connection is broken (reset, …): close it, the server carries on;
//! - [`is_idle`](Connection::is_idle) says whether a stop may close it now ([`crate::graceful`]).

use std::io::{self, ErrorKind};
use std::net::TcpStream;
use std::time::Instant;

use crate::accept::Acceptor;

/// How much one connection may read per turn of an event loop, so one busy client cannot hold
/// up the others. The same for every model, so the chapter's benchmark compares like with like.
pub const READ_BUDGET: usize = 64 * 1024;

/// The size of one `read` of a connection ([`read_budgeted`] reads at most this much at a time).
pub const CHUNK: usize = 16 * 1024;

/// Why [`Connection::on_readable`] stopped reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadStop {
    /// The socket has nothing more to read now (`EAGAIN`).
    Drained,
    /// The peer closed its side (FIN).
    Eof,
    /// The unsent output reached the connection's bound: stop reading until it is flushed.
    Full,
    /// The read budget for this turn was used up; there may be more to read.
    Budget,
}

/// A non-blocking connection driven by an event loop. See the module docs for the contract.
pub trait Connection {
    /// The socket, for registering with a multiplexer.
    fn stream(&self) -> &TcpStream;
    /// True while the connection should be watched for readability.
    fn wants_read(&self) -> bool;
    /// True while output waits for the socket to become writable.
    fn wants_write(&self) -> bool;
    /// True when the connection is done: the loop deregisters and closes it.
    fn is_finished(&self) -> bool;
    /// The socket is readable (or hung up): read up to about `budget` bytes, act on them, and
    /// try to send what that produced.
    fn on_readable(&mut self, budget: usize) -> io::Result<ReadStop>;
    /// The socket is writable: send what waits.
    fn on_writable(&mut self) -> io::Result<()>;
    /// When [`on_timeout`](Connection::on_timeout) is due if nothing happens before; `None`
    /// (the default) for a connection that waits as long as its client likes.
    fn deadline(&self) -> Option<Instant> {
        None
    }
    /// The [`deadline`](Connection::deadline) passed: answer, or finish.
    fn on_timeout(&mut self) -> io::Result<()> {
        Ok(())
    }
    /// True while the connection is between requests — nothing half-written, no request
    /// half-read — so a stopping loop may close it without cutting anything
    /// ([`crate::graceful`]); a busy one is served on until it turns idle. The default, true,
    /// suits a protocol without requests (echo): a stop closes it at once.
    fn is_idle(&self) -> bool {
        true
    }
}

/// A model's factory: each accepted stream becomes `new_conn(stream)`, a connection the loop
/// drives (an `Err` closes that one stream). Any `FnMut(TcpStream) -> io::Result<C>` is one:
/// `EchoConn::new`, `uppercase_conn`, a closure that hands each stream the HTTP site.
pub trait NewConn: FnMut(TcpStream) -> io::Result<<Self as NewConn>::Conn> {
    /// The connection it makes.
    type Conn: Connection;
}

impl<C: Connection, F: FnMut(TcpStream) -> io::Result<C>> NewConn for F {
    type Conn = C;
}

/// The read loop of [`Connection::on_readable`], written once: `read(conn, room)` reads at most
/// `room` bytes (`Ok(0)`: the peer closed) until the socket is drained (`EAGAIN`), the peer
/// closes, `budget` bytes were read, or `stopped(conn)` names a reason to stop first (its
/// output is over its bound: [`ReadStop::Full`]). `EINTR` is retried; other errors are returned.
pub fn read_budgeted<T>(
    conn: &mut T,
    budget: usize,
    stopped: impl Fn(&T) -> Option<ReadStop>,
    mut read: impl FnMut(&mut T, usize) -> io::Result<usize>,
) -> io::Result<ReadStop> {
    let mut done = 0;
    loop {
        if let Some(stop) = stopped(conn) {
            return Ok(stop);
        }
        if done >= budget {
            return Ok(ReadStop::Budget);
        }
        match read(conn, CHUNK.min(budget - done)) {
            Ok(0) => return Ok(ReadStop::Eof),
            Ok(n) => done += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(ReadStop::Drained),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// True for the errors that mean "the peer went away" — a reset, a broken pipe, a socket no
/// longer connected, an aborted connection: the client's business, not the server's failure.
pub fn is_peer_gone(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::ConnectionReset
            | ErrorKind::BrokenPipe
            | ErrorKind::NotConnected
            | ErrorKind::ConnectionAborted
    )
}

/// Logs why `model` closes a connection, unless the peer simply went away (a reset is the
/// client's business, and a load test would print one line per connection).
pub fn log_broken(model: &str, e: &io::Error) {
    if !is_peer_gone(e) {
        eprintln!("{model}: closing a broken connection: {e}");
    }
}

/// After a connection's turn (`result`): true if it goes on, false when it is finished or broken
/// (the error logged): the loop then closes it.
pub fn goes_on(model: &str, conn: &impl Connection, result: io::Result<()>) -> bool {
    match result {
        Ok(()) => !conn.is_finished(),
        Err(e) => {
            log_broken(model, &e);
            false
        }
    }
}

/// Turns an accepted stream into a connection with the model's factory. A factory that fails
/// (it could not set up this one connection) closes that connection, says so, and the server
/// carries on.
pub fn open<N: NewConn>(model: &str, new_conn: &mut N, stream: TcpStream) -> Option<N::Conn> {
    match new_conn(stream) {
        Ok(conn) => Some(conn),
        Err(e) => {
            eprintln!("{model}: cannot set up a new connection: {e}; closed it");
            None
        }
    }
}

/// The accept step of a loop that registers each connection with a multiplexer (epoll,
/// `polling`): accepts every waiting connection, [`open`]s it with the model's factory, and hands
/// it to `watch`, which registers it and stores it. A connection `watch` cannot register (an
/// `Err`, e.g. `ENOSPC`: over `fs.epoll.max_user_watches`) is logged and closed; the others go on.
pub fn accept_each<N: NewConn>(
    model: &str,
    acceptor: &mut Acceptor,
    new_conn: &mut N,
    mut watch: impl FnMut(N::Conn) -> io::Result<()>,
) -> io::Result<()> {
    acceptor.accept_all(|stream, _peer| {
        if let Some(conn) = open(model, new_conn, stream)
            && let Err(e) = watch(conn)
        {
            eprintln!("{model}: cannot watch a new connection: {e}; closed it");
        }
        Ok(())
    })?;
    Ok(())
}
