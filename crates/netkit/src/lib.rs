//! The pieces every server in the workspace shares, so each lesson shows only its own idea.
//!
//! A lesson about `select` should be about `select`, not about how to stop on Ctrl-C or what to
//! do when `accept` fails with `EMFILE`. Those pieces are written once, here:
//!
//! | module | what it gives a server |
//! | --- | --- |
//! | [`shutdown`] | Ctrl-C/SIGTERM → a stop flag, plus a wake-up so a blocked loop notices |
//! | [`accept`] | non-blocking `accept` that survives `EMFILE` without spinning |
//! | [`echo`] | the echo protocol: a blocking loop, and a non-blocking connection state machine with a bounded output buffer |
//! | [`Failure`], [`bind`] | errors an example's `main` prints as sentences: "cannot listen on 127.0.0.1:7003: Address already in use — is another server …" |
//! | [`workers`] | N processes serving one port (`SO_REUSEPORT`), under a supervisor that forwards Ctrl-C and reaps them |
//!
//! Every server in the workspace has the same shape, which both examples and tests call:
//! `fn run(listener: TcpListener, stop: &AtomicBool) -> io::Result<()>`. The server returns soon
//! after `stop` is set; whoever sets it also connects once to the listener, so a server blocked in
//! `accept`, `select` or `epoll_wait` wakes up and looks.

pub mod accept;
pub mod echo;
mod failure;
pub mod shutdown;
pub mod workers;

pub use failure::{Failure, bind, explain_bind};

use std::io::{self, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::AtomicBool;

/// Prints `listening on <addr>` as the first line on stdout and flushes it.
///
/// Tests and scripts read this line to learn the real port (the server may have been given
/// port 0), so it must be the first line and must not sit in a buffer.
pub fn announce(addr: SocketAddr) -> io::Result<()> {
    let mut out = io::stdout().lock();
    writeln!(out, "listening on {addr}")?;
    out.flush()
}

/// The life of every TCP server example: bind `addr`, turn Ctrl-C into a stop flag, print the
/// banner, and run `server` until it stops.
///
/// The order matters: the Ctrl-C handler goes in *before* the banner, because a test (or a
/// script) may send SIGINT the moment it reads `listening on`.
pub fn serve(
    addr: SocketAddr,
    server: impl FnOnce(TcpListener, &AtomicBool) -> io::Result<()>,
) -> io::Result<()> {
    let listener = bind(addr)?;
    let addr = listener.local_addr()?;
    let stop = shutdown::stop_on_ctrl_c(addr)?;
    announce(addr)?;
    server(listener, &stop)
}
