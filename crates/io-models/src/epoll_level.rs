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
//! a [`Slab`], so an event leads straight to its connection without a search.
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
use std::os::fd::AsFd;
use std::time::Instant;

use netkit::accept::Acceptor;
use netkit::conn::{self, Connection, NewConn, READ_BUDGET};
use netkit::echo::EchoConn;
use netkit::graceful::{Graceful, Turn};
use netkit::{Slab, Stop, Timers, timers};
use nix::errno::Errno;
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags};

/// How many events one `epoll_wait` may return.
const MAX_EVENTS: usize = 256;
/// The token of the listening socket.
const LISTENER: u64 = u64::MAX;
/// The token of the stop descriptor, readable once a stop is requested.
const STOP: u64 = u64::MAX - 1;

/// Serves echo to every client from one thread with level-triggered epoll until `stop` is
/// requested.
pub fn run(listener: TcpListener, stop: &Stop) -> io::Result<()> {
    run_with(listener, stop, EchoConn::new)
}

/// [`run`] for any protocol: the loop drives each `new_conn(stream)` (see [the entry
/// points](crate#two-entry-points-one-loop)); at the stop it stops accepting and finishes the
/// busy connections, within the stop's grace period ([`netkit::graceful`]).
pub fn run_with(listener: TcpListener, stop: &Stop, new_conn: impl NewConn) -> io::Result<()> {
    let mut event_loop = EventLoop::new(listener, stop, new_conn)?;
    let mut events = vec![EpollEvent::empty(); MAX_EVENTS];
    let mut graceful = Graceful::new("epoll_level", stop);
    loop {
        event_loop.clients.next_turn();
        match graceful.turn(&event_loop.clients, |c| &c.conn) {
            Turn::Serve => {}
            Turn::Drain(idle) => event_loop.wind_down(stop, idle)?,
            Turn::Over => return Ok(()),
        }
        // Sleep until an event, or until the earliest connection's deadline.
        let wait = graceful.wait(event_loop.timers.wait(Instant::now()));
        let timeout = timers::poll_timeout(wait);
        let ready = match event_loop.epoll.wait(&mut events, timeout) {
            Ok(n) => n,
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        };
        for event in &events[..ready] {
            match event.data() {
                LISTENER => event_loop.accept()?,
                STOP => {} // the next turn looks at `stop`
                token => event_loop.service(token as usize, event.events())?,
            }
        }
        event_loop.expire()?;
    }
}

/// Stopping ([`netkit::graceful`]): takes the listener out of `epoll` and closes it, and trades the
/// stop descriptor — readable for good now, it would wake every wait at once — for the force
/// descriptor, under the same token. Does nothing once done.
pub(crate) fn stop_accepting(
    epoll: &Epoll,
    acceptor: &mut Option<Acceptor>,
    stop: &Stop,
    token: u64,
) -> io::Result<()> {
    if let Some(acceptor) = acceptor.take() {
        epoll.delete(acceptor.listener())?;
        epoll.delete(stop.fd())?;
        epoll.add(stop.force_fd(), EpollEvent::new(EpollFlags::EPOLLIN, token))?;
    }
    Ok(())
}

/// One registered connection and the interest the kernel currently holds for it.
#[derive(Debug)]
struct Client<C> {
    conn: C,
    /// What we last told `epoll_ctl`; compared after each event to skip needless `MOD` calls.
    interest: EpollFlags,
}

/// The epoll instance, the listener, and every connection under its token.
struct EventLoop<C, F> {
    epoll: Epoll,
    /// `None` once stopping: the listener is deregistered and closed.
    acceptor: Option<Acceptor>,
    /// A connection's token is its key here.
    clients: Slab<Client<C>>,
    /// Each connection's deadline, under its token.
    timers: Timers,
    new_conn: F,
}

impl<C: Connection, F: NewConn<Conn = C>> EventLoop<C, F> {
    /// Registers the listener and the stop descriptor with a new epoll instance: once each,
    /// for good.
    fn new(listener: TcpListener, stop: &Stop, new_conn: F) -> io::Result<Self> {
        let acceptor = Acceptor::new(listener)?;
        let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)?;
        epoll.add(
            acceptor.listener(),
            EpollEvent::new(EpollFlags::EPOLLIN, LISTENER),
        )?;
        epoll.add(stop.fd(), EpollEvent::new(EpollFlags::EPOLLIN, STOP))?;
        Ok(EventLoop {
            epoll,
            acceptor: Some(acceptor),
            clients: Slab::new(),
            timers: Timers::new(),
            new_conn,
        })
    }

    /// Accepts every waiting connection and registers each for what it wants, under its key.
    fn accept(&mut self) -> io::Result<()> {
        let Some(acceptor) = self.acceptor.as_mut() else {
            return Ok(()); // stopping: an event from before the listener was closed
        };
        conn::accept_each("epoll_level", acceptor, &mut self.new_conn, |conn| {
            let interest = interest(&conn);
            let key = self.clients.vacant_key();
            self.epoll
                .add(conn.stream(), EpollEvent::new(interest, key as u64))?;
            let deadline = conn.deadline();
            self.timers
                .set(self.clients.insert(Client { conn, interest }), deadline);
            Ok(())
        })
    }

    /// Stopping: no more accepting, and the `idle` connections closed.
    fn wind_down(&mut self, stop: &Stop, idle: Vec<usize>) -> io::Result<()> {
        stop_accepting(&self.epoll, &mut self.acceptor, stop, STOP)?;
        idle.into_iter().try_for_each(|key| self.close(key))
    }

    /// Handles one connection's events. An `Err` is an epoll failure, not a client's.
    fn service(&mut self, key: usize, ready: EpollFlags) -> io::Result<()> {
        let Some(client) = self.clients.get_mut(key) else {
            return Ok(());
        };
        let conn = &mut client.conn;
        // EPOLLHUP/EPOLLERR come without being asked for; a read then reports EOF or the error.
        let readable = EpollFlags::EPOLLIN | EpollFlags::EPOLLHUP | EpollFlags::EPOLLERR;
        // At most READ_BUDGET bytes now; level-triggered epoll reports the rest next turn.
        let result = if ready.intersects(readable) {
            conn.on_readable(READ_BUDGET).map(drop)
        } else if ready.contains(EpollFlags::EPOLLOUT) {
            conn.on_writable()
        } else {
            Ok(())
        };
        self.settle(key, result)
    }

    /// Tells every connection whose deadline has passed.
    fn expire(&mut self) -> io::Result<()> {
        for key in self.timers.expired(Instant::now()) {
            if let Some(client) = self.clients.get_mut(key) {
                let result = client.conn.on_timeout();
                self.settle(key, result)?;
            }
        }
        Ok(())
    }

    /// After a connection's turn: closes it when it is finished or broken, else updates its
    /// interest if it changed, and its deadline.
    fn settle(&mut self, key: usize, result: io::Result<()>) -> io::Result<()> {
        let Some(client) = self.clients.get_mut(key) else {
            return Ok(());
        };
        let conn = &mut client.conn;
        if let Err(e) = &result {
            conn::log_broken("epoll_level", e);
        }
        if result.is_err() || conn.is_finished() {
            return self.close(key);
        }
        let wanted = interest(conn);
        if wanted != client.interest {
            let mut event = EpollEvent::new(wanted, key as u64);
            self.epoll.modify(conn.stream().as_fd(), &mut event)?;
            client.interest = wanted;
        }
        self.timers.set(key, conn.deadline());
        Ok(())
    }

    /// Deregisters a connection, then drops it (which closes the socket). Closing alone would
    /// also remove it, as long as no duplicate of the descriptor is open — explicit is clearer.
    fn close(&mut self, key: usize) -> io::Result<()> {
        self.timers.remove(key);
        if let Some(client) = self.clients.remove(key) {
            self.epoll.delete(client.conn.stream())?;
        }
        Ok(())
    }
}

/// What to ask epoll about for one connection: read while there is room, write while there is
/// something to write. (`EPOLLERR` and `EPOLLHUP` are always reported; a peer's FIN shows up
/// as `EPOLLIN`, with `read` returning 0.)
fn interest(conn: &impl Connection) -> EpollFlags {
    let mut events = EpollFlags::empty();
    if conn.wants_read() {
        events |= EpollFlags::EPOLLIN;
    }
    if conn.wants_write() {
        events |= EpollFlags::EPOLLOUT;
    }
    events
}
