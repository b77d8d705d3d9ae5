//! The pieces every server in the workspace shares, so each lesson shows only its own idea.
//!
//! A lesson about `select` should be about `select`, not about how to stop on Ctrl-C or what to
//! do when `accept` fails with `EMFILE`. Those pieces are written once, here:
//!
//! | module | what it gives a server |
//! | --- | --- |
//! | [`Stop`] | one way to stop: a flag plus a descriptor that wakes every waiting loop; Ctrl-C/SIGTERM |
//! | [`accept`] | non-blocking `accept` that survives `EMFILE` without spinning |
//! | [`conn`] | [`Connection`], the interface every event loop drives, so one loop serves any protocol; what every loop shares around it: the factory, the read budget and its read loop, accept-and-open |
//! | [`graceful`] | a graceful stop for an event loop: stop accepting, close the idle, finish the busy within the stop's grace period |
//! | [`slab`] | connections in numbered slots, and the one rule about reusing their keys |
//! | [`timers`] | connections' deadlines in an event loop: how long to sleep, who is due |
//! | [`outbox`] | output waiting for a non-blocking socket, with partial writes handled |
//! | [`echo`] | the echo protocol: a blocking loop, and a non-blocking [`EchoConn`](echo::EchoConn) with a bounded output buffer |
//! | [`lines`] | a line protocol (one reply per line), the second protocol every model serves |
//! | [`shed`] | a client over a blocking server's bound turned away at once: a one-line answer, an orderly close, a rate-limited log line |
//! | [`bind`] / [`parse_addr`] | `HOST:PORT` read with host names (`localhost:7003`); a listener whose error names the address and the way out: "cannot listen on 127.0.0.1:7003: Address already in use — is another server …" |
//! | [`workers`] | N processes serving one port (`SO_REUSEPORT`), under a supervisor that forwards Ctrl-C and reaps them |
//!
//! Every server in the workspace has the same shape, which both examples and tests call:
//! `fn run(listener: TcpListener, stop: &Stop) -> io::Result<()>`. The server returns soon after
//! the stop is requested; it watches [`Stop::fd`] wherever it waits, so the request wakes it.
//! "Soon" is at most the stop's [grace period](Stop::grace): a server stops accepting at once,
//! and finishes what is in flight first ([`graceful`]).
//! An event-loop model also has `run_with(listener, stop, new_conn)`, which serves any protocol
//! through [`Connection`]; a blocking model takes a handler `Fn(TcpStream)`.

pub mod accept;
mod bind;
pub mod conn;
pub mod echo;
pub mod graceful;
pub mod lines;
pub mod outbox;
pub mod shed;
pub mod slab;
pub mod stop;
pub mod timers;
pub mod workers;

pub use bind::{bind, explain_bind, parse_addr};
pub use conn::Connection;
pub use slab::Slab;
pub use stop::Stop;
pub use timers::Timers;

use std::io::{self, Write};
use std::net::{SocketAddr, TcpListener};

/// Prints `listening on <addr>` as the first line on stdout and flushes it.
///
/// Tests and scripts read this line to learn the real port (the server may have been given
/// port 0), so it must be the first line and must not sit in a buffer.
pub fn announce(addr: SocketAddr) -> io::Result<()> {
    let mut out = io::stdout().lock();
    writeln!(out, "listening on {addr}")?;
    out.flush()
}

/// Writes `line` and a newline to stderr in one `write`, so the log lines of a server's many
/// processes never interleave: `eprintln!` writes a line in pieces, and another process's line
/// can land between them.
pub fn log_line(line: &str) {
    let _ = io::stderr().write_all(format!("{line}\n").as_bytes());
}

/// The life of every TCP server example: bind `addr`, turn Ctrl-C into a stop flag, print the
/// banner, and run `server` until it stops.
///
/// The order matters: the Ctrl-C handler goes in *before* the banner, because a test (or a
/// script) may send SIGINT the moment it reads `listening on`.
pub fn serve(
    addr: SocketAddr,
    server: impl FnOnce(TcpListener, &Stop) -> io::Result<()>,
) -> io::Result<()> {
    let listener = bind(addr)?;
    let addr = listener.local_addr()?;
    let stop = Stop::on_ctrl_c()?;
    announce(addr)?;
    server(listener, &stop)
}
