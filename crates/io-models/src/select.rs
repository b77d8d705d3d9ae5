//! Model 3a — IO multiplexing with `select(2)`: the original "wait on many sockets at once".
//!
//! ```text
//!   application                               kernel
//!   build read set {listener, c1, c2}
//!   build write set {c2}      (only who has output waiting)
//!   select(nfds, &read, &write) ─────────▶  check every fd below nfds ┐ blocked (on select,
//!                                           wait until one is ready   ┘  not on read)
//!           ◀──────────────────────────────  sets overwritten: only the ready fds are left
//!   for each fd still in a set: accept / read / write   (they no longer block)
//!   …and build both sets again from scratch for the next call
//! ```
//!
//! An `fd_set` is a bitmap of `FD_SETSIZE` = 1024 bits, and `select` *overwrites* it with the
//! result, so the sets are rebuilt before every call from what each connection wants: read
//! while its output buffer has room, write while it has output waiting (a socket is almost
//! always writable, so asking for it always would make the loop spin). Like `poll`, `select` is
//! level-triggered: data left unread is reported again next time, so each connection reads at
//! most `READ_BUDGET` bytes per turn and a flooding client cannot starve the others.
//!
//! | | select | poll | epoll |
//! | --- | --- | --- | --- |
//! | how many fds | below `FD_SETSIZE` (1024) | no limit | no limit |
//! | interest set | rebuilt, copied in every call | copied in every call | kept in the kernel |
//! | cost per call | O(highest fd) | O(number of fds) | O(1) per ready fd |
//! | triggering | level only | level only | level or edge |
//! | platforms | everywhere (POSIX, Windows) | Linux, Unix | Linux only |
//!
//! The pitfall is the 1024 ceiling. It is a limit on the descriptor's *number*, not on how many
//! you watch: once a process has 1024 files open, the next accepted socket is fd 1024, and in C
//! `FD_SET(1024, &set)` silently writes past the end of the bitmap — memory corruption, not an
//! error. (nix's `FdSet::insert` panics instead, which would take the whole server down.) This
//! server checks every accepted descriptor first and turns one it cannot watch away with a
//! one-line explanation ([`refuse_unwatchable`]), logs it, and keeps serving everyone else. The
//! way past the ceiling is `poll` or `epoll`, the next lessons.

use std::io::{self, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::time::{Duration, Instant};

use netkit::accept::Acceptor;
use netkit::conn::{self, Connection, NewConn, READ_BUDGET};
use netkit::echo::EchoConn;
use netkit::graceful::Graceful;
use netkit::{Slab, Stop, Timers};
use nix::errno::Errno;
use nix::sys::select::{FD_SETSIZE, FdSet, select};
use nix::sys::time::{TimeVal, TimeValLike};

/// What a client whose descriptor is over the ceiling is told before we hang up.
pub const REFUSAL: &str =
    "server full: this select(2) server can only watch descriptors below 1024\n";

/// Serves echo to every client from one thread with `select(2)` until `stop` is requested.
pub fn run(listener: TcpListener, stop: &Stop) -> io::Result<()> {
    run_with(listener, stop, EchoConn::new)
}

/// [`run`] for any protocol: the loop drives each `new_conn(stream)` (see [the entry
/// points](crate#two-entry-points-one-loop)); at the stop it stops accepting and finishes the
/// busy connections, within the stop's grace period ([`netkit::graceful`]).
pub fn run_with<N: NewConn>(listener: TcpListener, stop: &Stop, mut new_conn: N) -> io::Result<()> {
    check_watchable("the listener", listener.as_fd())?;
    check_watchable("the stop descriptor", stop.fd())?;
    check_watchable("the force descriptor", stop.force_fd())?;
    // `None` once stopping: dropping the acceptor closes the listener, so newcomers are refused.
    let mut acceptor = Some(Acceptor::new(listener)?);
    let mut conns: Slab<N::Conn> = Slab::new();
    let mut timers = Timers::new(); // connections' deadlines: the wait ends at the earliest
    let mut graceful = Graceful::new("select", stop);
    loop {
        conns.next_turn();
        if !graceful.carry_on(&mut acceptor, &mut conns, &mut timers) {
            return Ok(()); // stopped, and the drain is over
        }
        // select overwrote last turn's sets with its answer: build them again from scratch.
        let mut want_read = FdSet::new();
        let mut want_write = FdSet::new();
        if let Some(acceptor) = &acceptor {
            want_read.insert(acceptor.listener().as_fd());
        }
        want_read.insert(graceful.fd()); // readable once a stop (draining: a forced stop) is requested
        for (_, conn) in conns.iter() {
            watch(conn, &mut want_read, &mut want_write);
        }
        let timeout = graceful.wait(timers.wait(Instant::now()));
        if !wait_ready(&mut want_read, &mut want_write, timeout)? {
            continue; // EINTR: the sets say nothing
        }
        let ready: Vec<(usize, bool, bool)> = conns
            .iter()
            .map(|(key, c)| {
                let fd = c.stream().as_fd();
                (key, want_read.contains(fd), want_write.contains(fd))
            })
            .collect();
        // Last use of the sets: they borrow the sockets, and `conns` is about to change.
        let listener_ready = acceptor
            .as_ref()
            .is_some_and(|a| want_read.contains(a.listener().as_fd()));

        for (key, readable, writable) in ready {
            let conn = conns.get_mut(key).expect("a key collected this turn");
            if service(conn, readable, writable) {
                // A deadline moves only when its connection is touched: an idle one costs nothing.
                if readable || writable {
                    timers.set(key, conn.deadline());
                }
            } else {
                conns.remove(key); // dropping it closes the socket
                timers.remove(key);
            }
        }
        for key in timers.fire("select", Instant::now(), &mut conns, |c| c) {
            conns.remove(key);
        }
        if let Some(acceptor) = acceptor.as_mut().filter(|_| listener_ready) {
            acceptor.accept_all(|stream, peer| {
                if !fits_in_fd_set(stream.as_raw_fd()) {
                    eprintln!("select: refused {peer}: {}", over_limit(&stream));
                    refuse_unwatchable(stream);
                } else if let Some(conn) = conn::open("select", &mut new_conn, stream) {
                    let deadline = conn.deadline();
                    timers.set(conns.insert(conn), deadline);
                }
                Ok(())
            })?;
        }
    }
}

/// Refuses to start with a descriptor `select` cannot watch.
fn check_watchable(what: &str, fd: BorrowedFd<'_>) -> io::Result<()> {
    if fits_in_fd_set(fd.as_raw_fd()) {
        return Ok(());
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "select: {what} is fd {} (select needs < {FD_SETSIZE})",
            fd.as_raw_fd()
        ),
    ))
}

/// One `select(2)` call: waits until a descriptor of either set is ready, or `timeout` has
/// passed (`None`: no timeout); the sets are left holding only the ready descriptors. False when
/// a signal interrupted the wait (`EINTR`): the sets then say nothing.
pub fn wait_ready<'fd>(
    want_read: &mut FdSet<'fd>,
    want_write: &mut FdSet<'fd>,
    timeout: Option<Duration>,
) -> io::Result<bool> {
    // select may change the timeout too (Linux writes the time left): a fresh one each call.
    let mut timeout = timeout.map(|d| {
        let micros = d.as_nanos().div_ceil(1_000); // rounded up: never a moment early
        TimeVal::microseconds(i64::try_from(micros).unwrap_or(i64::MAX))
    });
    // nfds = None: nix computes "highest fd in any set + 1", the kernel scans 0..nfds.
    match select(None, want_read, want_write, None, timeout.as_mut()) {
        Ok(_) => Ok(true),
        Err(Errno::EINTR) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Adds one connection to the sets it needs: read while there is room, write while there is
/// something to write.
fn watch<'fd>(conn: &'fd impl Connection, want_read: &mut FdSet<'fd>, want_write: &mut FdSet<'fd>) {
    // BEGIN SOLUTION: io-select-watch
    let fd = conn.stream().as_fd();
    if conn.wants_read() {
        want_read.insert(fd);
    }
    if conn.wants_write() {
        want_write.insert(fd);
    }
    // END SOLUTION
}

/// Handles one connection's readiness; returns false when it is finished or broken (it is then
/// dropped, which closes the socket).
fn service(conn: &mut impl Connection, readable: bool, writable: bool) -> bool {
    // A hang-up or an error shows up as "readable": the read then reports EOF or the error.
    let result = if readable {
        conn.on_readable(READ_BUDGET).map(drop)
    } else if writable {
        conn.on_writable()
    } else {
        Ok(())
    };
    conn::goes_on("select", conn, result)
}

/// True when `fd` can go in an `fd_set` (it is below `FD_SETSIZE`).
pub fn fits_in_fd_set(fd: RawFd) -> bool {
    usize::try_from(fd).is_ok_and(|fd| fd < FD_SETSIZE)
}

/// Tells a client we cannot watch its descriptor ([`REFUSAL`]) and hangs up.
///
/// The socket is fresh, so its send buffer is empty and one short non-blocking write goes
/// through; if it does not, the client still sees the connection close.
pub fn refuse_unwatchable(stream: TcpStream) {
    let _ = (&stream).write(REFUSAL.as_bytes());
    let _ = stream.shutdown(Shutdown::Write);
}

fn over_limit(stream: &TcpStream) -> String {
    format!(
        "its descriptor {} is not below FD_SETSIZE ({FD_SETSIZE})",
        stream.as_raw_fd()
    )
}
