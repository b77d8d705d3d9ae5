//! Model 3b — IO multiplexing with `poll(2)`: one thread, one call, many sockets.
//!
//! ```text
//!   application                        kernel
//!   poll([listener, c1, c2, …]) ────▶  wait until any fd is ready ┐ blocked (on poll, not on read)
//!        ◀──────────────────────────── revents filled in          ┘
//!   for each ready fd: accept / read / write   (these no longer block: the fd is ready)
//! ```
//!
//! `poll` is `select` without the `FD_SETSIZE` (1024) ceiling: the interest set is a vector of
//! `pollfd { fd, events, revents }`, as long as you like. Like `select` it is *stateless*: the
//! whole vector goes to the kernel on every call, the kernel checks every descriptor, and the
//! program scans every entry for results. With N connections each call costs O(N), even when
//! only one of them is active — which is why poll falls behind epoll as idle connections pile
//! up (the chapter's benchmark measures it).
//!
//! The pitfall is what to ask for: always `POLLIN` is right only while the connection's output
//! buffer has room (otherwise a fast sender fills our memory), and `POLLOUT` must be asked for
//! only while there is something to write — a socket is almost always writable, so asking for
//! it always turns the loop into a busy spin.

use std::io;
use std::net::TcpListener;
use std::os::fd::AsFd;
use std::time::Instant;

use netkit::accept::Acceptor;
use netkit::conn::{self, Connection, NewConn, READ_BUDGET};
use netkit::echo::EchoConn;
use netkit::graceful::Graceful;
use netkit::{Slab, Stop, Timers, timers};
use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, poll};

/// Serves echo to every client from one thread with `poll(2)` until `stop` is requested.
pub fn run(listener: TcpListener, stop: &Stop) -> io::Result<()> {
    run_with(listener, stop, EchoConn::new)
}

/// [`run`] for any protocol: the loop drives each `new_conn(stream)` (see [the entry
/// points](crate#two-entry-points-one-loop)); at the stop it stops accepting and finishes the
/// busy connections, within the stop's grace period ([`netkit::graceful`]).
pub fn run_with<N: NewConn>(listener: TcpListener, stop: &Stop, mut new_conn: N) -> io::Result<()> {
    // `None` once stopping: dropping the acceptor closes the listener, so newcomers are refused.
    let mut acceptor = Some(Acceptor::new(listener)?);
    let mut conns: Slab<N::Conn> = Slab::new();
    let mut timers = Timers::new(); // connections' deadlines: the wait ends at the earliest
    let mut graceful = Graceful::new("poll", stop);
    loop {
        conns.next_turn();
        if !graceful.carry_on(&mut acceptor, &mut conns, &mut timers) {
            return Ok(()); // stopped, and the drain is over
        }
        // Rebuilt every turn: the stop (or, draining, the force) descriptor, the listener while
        // accepting, then one entry per connection.
        let keys = conns.keys();
        let mut fds = Vec::with_capacity(keys.len() + 2);
        fds.push(PollFd::new(graceful.fd(), PollFlags::POLLIN));
        if let Some(acceptor) = &acceptor {
            fds.push(PollFd::new(acceptor.listener().as_fd(), PollFlags::POLLIN));
        }
        let first_conn = fds.len();
        fds.extend(
            conns
                .iter()
                .map(|(_, c)| PollFd::new(c.stream().as_fd(), interest(c))),
        );
        let wait = graceful.wait(timers.wait(Instant::now()));
        match poll(&mut fds, timers::poll_timeout(wait)) {
            Ok(_) => {}
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        }
        let ready: Vec<PollFlags> = fds
            .iter()
            .map(|fd| fd.revents().unwrap_or(PollFlags::empty()))
            .collect();
        drop(fds); // the pollfds borrow the sockets; release them before changing `conns`

        for (key, &events) in keys.iter().zip(&ready[first_conn..]) {
            let conn = conns.get_mut(*key).expect("a key collected this turn");
            if service(conn, events) {
                // A deadline moves only when its connection is touched: an idle one costs nothing.
                if !events.is_empty() {
                    timers.set(*key, conn.deadline());
                }
            } else {
                conns.remove(*key); // dropping it closes the socket
                timers.remove(*key);
            }
        }
        for key in timers.fire("poll", Instant::now(), &mut conns, |c| c) {
            conns.remove(key);
        }
        if let Some(acceptor) = &mut acceptor
            && ready[1].contains(PollFlags::POLLIN)
        {
            acceptor.accept_all(|stream, _peer| {
                if let Some(conn) = conn::open("poll", &mut new_conn, stream) {
                    let deadline = conn.deadline();
                    timers.set(conns.insert(conn), deadline);
                }
                Ok(())
            })?;
        }
    }
}

/// What to ask `poll` about for one connection: read while there is room, write while there is
/// something to write.
fn interest(conn: &impl Connection) -> PollFlags {
    let mut events = PollFlags::empty();
    if conn.wants_read() {
        events |= PollFlags::POLLIN;
    }
    if conn.wants_write() {
        events |= PollFlags::POLLOUT;
    }
    events
}

/// Handles one connection's events; returns false when it is finished or broken (it is then
/// dropped, which closes the socket). Level-triggered: what a turn leaves unread is reported
/// again on the next.
fn service(conn: &mut impl Connection, ready: PollFlags) -> bool {
    // BEGIN SOLUTION: io-poll-service
    // POLLHUP/POLLERR come without being asked for; a read then reports EOF or the error.
    let readable = PollFlags::POLLIN | PollFlags::POLLHUP | PollFlags::POLLERR;
    let result = if ready.intersects(readable) {
        conn.on_readable(READ_BUDGET).map(drop)
    } else if ready.contains(PollFlags::POLLOUT) {
        conn.on_writable()
    } else {
        Ok(())
    };
    match result {
        Ok(()) => !conn.is_finished(),
        Err(e) => {
            conn::log_broken("poll", &e);
            false
        }
    }
    // END SOLUTION
}
