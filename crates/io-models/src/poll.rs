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
use std::sync::atomic::{AtomicBool, Ordering};

use netkit::accept::Acceptor;
use netkit::echo::EchoConn;
use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

/// How much one connection may read per turn of the loop, so one busy client cannot hold up
/// the others. Level-triggered: anything left is reported again on the next turn.
const READ_BUDGET: usize = 64 * 1024;

/// Serves every client from one thread with `poll(2)` until `stop` is set.
pub fn run(listener: TcpListener, stop: &AtomicBool) -> io::Result<()> {
    let mut acceptor = Acceptor::new(listener)?;
    let mut conns: Vec<EchoConn> = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        // Rebuilt every turn: entry 0 is the listener, entry i + 1 is conns[i].
        let mut fds = Vec::with_capacity(conns.len() + 1);
        fds.push(PollFd::new(acceptor.listener().as_fd(), PollFlags::POLLIN));
        fds.extend(
            conns
                .iter()
                .map(|c| PollFd::new(c.stream().as_fd(), interest(c))),
        );
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) => {}
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        }
        let ready: Vec<PollFlags> = fds
            .iter()
            .map(|fd| fd.revents().unwrap_or(PollFlags::empty()))
            .collect();
        drop(fds); // the pollfds borrow the sockets; release them before changing `conns`

        let mut index = 1;
        conns.retain_mut(|conn| {
            let keep = service(conn, ready[index]);
            index += 1;
            keep
        });
        if ready[0].contains(PollFlags::POLLIN) {
            acceptor.accept_all(|stream, _peer| {
                conns.push(EchoConn::new(stream)?);
                Ok(())
            })?;
        }
    }
    Ok(())
}

/// What to ask `poll` about for one connection: read while there is room, write while there is
/// something to write.
fn interest(conn: &EchoConn) -> PollFlags {
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
/// dropped, which closes the socket).
fn service(conn: &mut EchoConn, ready: PollFlags) -> bool {
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
            eprintln!("poll: closing a broken connection: {e}");
            false
        }
    }
    // END SOLUTION
}
