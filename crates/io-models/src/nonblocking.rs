//! Model 2 — non-blocking IO: `O_NONBLOCK` and a loop that keeps asking.
//!
//! ```text
//!   application                        kernel
//!   read(c1) ────────────────────────▶  no data
//!            ◀──────────────────────── EAGAIN (at once)      ┐
//!   read(c2) ────────────────────────▶  no data              │ the application polls:
//!            ◀──────────────────────── EAGAIN (at once)      │ it asks every socket, over
//!   accept() ────────────────────────▶  no connection        │ and over, and is told "not
//!            ◀──────────────────────── EAGAIN (at once)      │ yet" almost every time
//!   read(c1) ────────────────────────▶  data is here         ┘
//!                                       copy to user
//!            ◀──────────────────────── n bytes
//! ```
//!
//! With `O_NONBLOCK` set, `accept`, `read` and `write` never wait: when there is nothing to do
//! they fail at once with `EAGAIN` (`ErrorKind::WouldBlock`). That fixes the blocking server's
//! problem — no single client can hold the loop — so one thread serves everyone, and this
//! server passes the whole echo conformance suite.
//!
//! The pitfall is the price. The kernel knows when a socket becomes ready but nobody asks it to
//! say so; instead the loop sweeps over every socket, forever, whether or not anything
//! happened. An idle server with no clients at all still spins. Measured on the chapter's
//! 2-core machine, each example idle for 5 s with no clients, CPU time from
//! `/proc/<pid>/stat` (utime + stime) and time spent running or waiting for a core from
//! `/proc/<pid>/schedstat` (the command is in the chapter README):
//!
//! | idle server | CPU time / wall time | running + waiting for a core |
//! | --- | --- | --- |
//! | `nonblocking_echo`, other work on the machine (load ≈ 4) | 87% | 86% + 13% = 99% |
//! | `nonblocking_echo`, a heavily loaded machine (load ≈ 14) | 26% | 27% + 83% ≈ 100% |
//! | `poll_echo`, `epoll_echo` | 0% | 0% |
//!
//! The busy loop *wants* a whole core all the time: it gets whatever the other programs leave,
//! and takes that away from them. A server blocked in `poll` or `epoll_wait` wants nothing.
//!
//! `std::thread::yield_now()` between sweeps does not change that: it offers the core to other
//! threads, but the loop stays runnable and takes the core back whenever nobody else wants it.
//! Sleeping between sweeps would save the CPU and add up to one sleep of latency to every
//! reply instead. The way out is to let the kernel do the waiting — `select`, `poll` and
//! `epoll` (the next lessons) block until *some* socket is ready.
//!
//! The test `nonblocking_spins_while_idle_and_epoll_does_not` checks the shape: over ~300 ms
//! with no clients, this loop's thread wants the CPU (runs, or waits for a core to run on)
//! most of the time, while a thread blocked in `epoll_wait` wants it for almost none.

use std::io;
use std::net::TcpListener;
use std::time::Instant;

use netkit::accept::Acceptor;
use netkit::conn::{self, Connection, NewConn, READ_BUDGET};
use netkit::echo::EchoConn;
use netkit::graceful::Graceful;
use netkit::{Stop, timers};

/// Serves echo to every client from one thread by trying every socket in turn until `stop` is
/// requested (the busy loop looks at it on every sweep: it never waits, so nothing needs waking).
pub fn run(listener: TcpListener, stop: &Stop) -> io::Result<()> {
    run_with(listener, stop, EchoConn::new)
}

/// [`run`] for any protocol: the loop drives each `new_conn(stream)` (see [the entry
/// points](crate#two-entry-points-one-loop)); at the stop it stops accepting and finishes the
/// busy connections, within the stop's grace period ([`netkit::graceful`]).
pub fn run_with<N: NewConn>(listener: TcpListener, stop: &Stop, mut new_conn: N) -> io::Result<()> {
    // `None` once stopping: dropping the acceptor closes the listener, so newcomers are refused.
    let mut acceptor = Some(Acceptor::new(listener)?);
    let mut conns: Vec<N::Conn> = Vec::new();
    let mut graceful = Graceful::new("nonblocking", stop);
    loop {
        if stop.is_stopped() {
            // Stopping (netkit::graceful): no more accepting; the idle go now, the busy when done.
            acceptor = None;
            conns.retain(|conn| !conn.is_idle());
            if !graceful.goes_on(conns.len()) {
                return Ok(());
            }
        }
        // Accept whoever is waiting; `Accepted::Empty` (EAGAIN) comes back at once if nobody is.
        if let Some(acceptor) = &mut acceptor {
            acceptor.accept_all(|stream, _peer| {
                conns.extend(conn::open("nonblocking", &mut new_conn, stream));
                Ok(())
            })?;
        }
        // Try every connection, ready or not: most of these calls end in EAGAIN. The sweep is
        // also the clock: a connection whose deadline passed is told so here.
        let now = Instant::now();
        conns.retain_mut(|conn| match conn.deadline() {
            Some(due) if due <= now => timers::timed_out("nonblocking", conn),
            _ => try_once(conn),
        });
        // Let other threads have the core if they want it. The loop stays runnable: this is
        // not a wait, and the CPU use stays at 100% when nobody else needs the core.
        std::thread::yield_now();
    }
}

/// Reads and answers whatever this connection has, without waiting (what it leaves unread waits
/// for the next sweep); returns false when it is finished or broken (it is then dropped, which
/// closes the socket).
fn try_once(conn: &mut impl Connection) -> bool {
    // `on_readable` reads until EAGAIN (or the budget, or a full output buffer) and then writes;
    // with nothing to read, flushing pending output is all there is to try.
    let result = if conn.wants_read() {
        conn.on_readable(READ_BUDGET).map(drop)
    } else {
        conn.on_writable()
    };
    conn::goes_on("nonblocking", conn, result)
}
