//! Model 3c — IO multiplexing with `epoll`, level-triggered (Linux only).
//!
//! ```text
//!   application                              kernel
//!   epoll_create1()            ────────────▶ an epoll instance: interest set + ready list
//!   epoll_ctl(ADD, fd, events) ────────────▶ remember fd (once per socket, not once per wait)
//!   epoll_wait()               ────────────▶ sleep until the ready list is non-empty ┐ blocked
//!          ◀────────────────────────────────  [(events, token), …] — only ready fds  ┘
//!   for each (events, token): accept / read / write
//!   epoll_ctl(MOD, fd, events) ────────────▶ only when what we want from fd changes
//! ```
//!
//! `select` and `poll` are stateless: every call hands the kernel the whole interest set, the
//! kernel checks every descriptor, and the program scans every result — O(n) per call for n
//! connections, even when one of them is active. epoll splits that in two. `epoll_ctl` tells the
//! kernel once what to watch; the kernel keeps that interest set, and a socket that becomes
//! ready puts itself on the instance's ready list (a callback in the socket's wait queue).
//! `epoll_wait` then just takes entries off the ready list: O(ready), however many idle
//! connections there are. That is why epoll's latency stays flat at 10,000 idle connections
//! while poll's grows (the chapter's benchmark measures it).
//!
//! Each registration carries a `u64` token of our choosing; here it is the connection's key in
//! a slab (a `Vec` of slots with a free list), so an event leads straight to its connection
//! without a search.
//!
//! **Level-triggered** (the default) means `epoll_wait` reports a descriptor for as long as it
//! is ready — exactly like `poll`. Leaving bytes unread is therefore safe: they are reported
//! again on the next turn. That lets each connection read a bounded budget per event, so a
//! client that sends without pause cannot starve the others.
//!
//! The pitfall is the same as poll's, made worse by the kernel's memory: the interest is
//! *sticky*. Register `EPOLLOUT` on a socket with nothing to write and every `epoll_wait` returns
//! at once (a socket is almost always writable) — a busy loop. So interest follows the
//! connection's state (`EPOLLOUT` only while output is pending, `EPOLLIN` only while the output
//! buffer has room), and we call `epoll_ctl(MOD)` only when that changes, not on every event.
//! The next lesson, [`epoll_edge`](crate::epoll_edge), shows the other trigger mode.

use std::io;
use std::net::TcpListener;
use std::os::fd::{AsFd, BorrowedFd};
use std::sync::atomic::{AtomicBool, Ordering};

use netkit::accept::Acceptor;
use netkit::echo::EchoConn;
use nix::errno::Errno;
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};

/// How much one connection may read per event. Level-triggered: the rest is reported again.
const READ_BUDGET: usize = 64 * 1024;
/// How many events one `epoll_wait` may return.
const MAX_EVENTS: usize = 256;
/// The token of the listening socket.
const LISTENER: u64 = u64::MAX;
/// The token of the optional waker (see [`run_with_waker`]).
const WAKER: u64 = u64::MAX - 1;

/// One registered connection and the interest the kernel currently holds for it.
#[derive(Debug)]
struct Client {
    conn: EchoConn,
    /// What we last told `epoll_ctl`; compared after each event to skip needless `MOD` calls.
    interest: EpollFlags,
}

/// Serves every client from one thread with level-triggered epoll until `stop` is set.
pub fn run(listener: TcpListener, stop: &AtomicBool) -> io::Result<()> {
    run_with_waker(listener, stop, None)
}

/// [`run`], also woken up when `waker` (an `eventfd`, say) becomes readable.
///
/// A server is normally stopped by setting `stop` and connecting once to its listener. That
/// connection cannot reach a particular process when several share the port with
/// `SO_REUSEPORT` (the kernel picks one), so such a worker is woken through its own `waker`.
pub fn run_with_waker(
    listener: TcpListener,
    stop: &AtomicBool,
    waker: Option<BorrowedFd<'_>>,
) -> io::Result<()> {
    let mut acceptor = Acceptor::new(listener)?;
    let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)?;
    epoll.add(
        acceptor.listener(),
        EpollEvent::new(EpollFlags::EPOLLIN, LISTENER),
    )?;
    if let Some(waker) = waker {
        epoll.add(waker, EpollEvent::new(EpollFlags::EPOLLIN, WAKER))?;
    }
    // The slab: a connection's token is its index here; freed slots are reused.
    let mut clients: Vec<Option<Client>> = Vec::new();
    let mut free: Vec<usize> = Vec::new();
    let mut events = vec![EpollEvent::empty(); MAX_EVENTS];

    while !stop.load(Ordering::SeqCst) {
        let ready = match epoll.wait(&mut events, EpollTimeout::NONE) {
            Ok(n) => n,
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        };
        for event in &events[..ready] {
            match event.data() {
                LISTENER => {
                    acceptor.accept_all(|stream, _peer| {
                        let conn = EchoConn::new(stream)?;
                        let interest = interest(&conn);
                        let key = free.pop().unwrap_or(clients.len());
                        let registration = EpollEvent::new(interest, key as u64);
                        if let Err(e) = epoll.add(conn.stream(), registration) {
                            // e.g. ENOSPC: over fs.epoll.max_user_watches. Drop this client.
                            eprintln!("epoll_level: cannot watch a new connection: {e}");
                            free.push(key);
                            return Ok(());
                        }
                        let client = Some(Client { conn, interest });
                        match clients.get_mut(key) {
                            Some(slot) => *slot = client,
                            None => clients.push(client),
                        }
                        Ok(())
                    })?;
                }
                WAKER => {} // the loop condition looks at `stop`
                token => {
                    let key = token as usize;
                    let Some(client) = clients.get_mut(key).and_then(Option::as_mut) else {
                        continue;
                    };
                    if !service(&epoll, token, client, event.events())? {
                        // Deregister, then close. (Closing alone would also remove it, as long
                        // as no duplicate of the descriptor is open — explicit is clearer.)
                        epoll.delete(client.conn.stream())?;
                        clients[key] = None;
                        free.push(key);
                    }
                }
            }
        }
    }
    Ok(())
}

/// What to ask epoll about for one connection: read while there is room, write while there is
/// something to write. (`EPOLLERR` and `EPOLLHUP` are always reported; a peer's FIN shows up
/// as `EPOLLIN`, with `read` returning 0.)
fn interest(conn: &EchoConn) -> EpollFlags {
    let mut events = EpollFlags::empty();
    if conn.wants_read() {
        events |= EpollFlags::EPOLLIN;
    }
    if conn.wants_write() {
        events |= EpollFlags::EPOLLOUT;
    }
    events
}

/// Handles one connection's events and updates its interest if it changed. Returns false when
/// the connection is finished or broken. An `Err` is an epoll failure, not a client's.
fn service(epoll: &Epoll, token: u64, client: &mut Client, ready: EpollFlags) -> io::Result<bool> {
    // EPOLLHUP/EPOLLERR come without being asked for; a read then reports EOF or the error.
    let readable = EpollFlags::EPOLLIN | EpollFlags::EPOLLHUP | EpollFlags::EPOLLERR;
    let conn = &mut client.conn;
    // At most READ_BUDGET bytes now; level-triggered epoll reports the rest next turn.
    let result = if ready.intersects(readable) {
        conn.on_readable(READ_BUDGET).map(drop)
    } else if ready.contains(EpollFlags::EPOLLOUT) {
        conn.on_writable()
    } else {
        Ok(())
    };
    if let Err(e) = result {
        eprintln!("epoll_level: closing a broken connection: {e}");
        return Ok(false);
    }
    if conn.is_finished() {
        return Ok(false);
    }
    let wanted = interest(conn);
    if wanted != client.interest {
        epoll.modify(conn.stream().as_fd(), &mut EpollEvent::new(wanted, token))?;
        client.interest = wanted;
    }
    Ok(true)
}
