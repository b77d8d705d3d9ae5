//! Model 3d — epoll, edge-triggered (`EPOLLET`, Linux only): drain to `EAGAIN`, or stall.
//!
//! ```text
//!   bytes in the socket:   0 ──▶ 64 KiB ──(read 16 KiB)──▶ 48 KiB ─────────────────▶ 48 KiB …
//!   level-triggered:           ready        ready              ready, ready, ready, …
//!   edge-triggered:            ready ◀── one report per *change* (new bytes arrived); then silence
//! ```
//!
//! Level-triggered epoll ([`epoll_level`](crate::epoll_level)) reports a socket on every
//! `epoll_wait` for as long as it is readable. Edge-triggered epoll reports it when its state
//! *changes* — new bytes arrive, buffer space frees up — and then not again until the next
//! change. Each socket is registered once, for everything (`EPOLLIN | EPOLLOUT | EPOLLRDHUP |
//! EPOLLET`), and never modified: there is no `EPOLL_CTL_MOD` per state change, and no wake-up
//! for a socket that is merely still ready. That is why high-performance servers (nginx,
//! tokio's mio) use it.
//!
//! The price is a rule: **on every event, read until `EAGAIN`**. The classic bug reads once per
//! event: a client sends 64 KiB in one go, the server reads 16 KiB, and goes back to
//! `epoll_wait` for the next edge — which never comes, because no *new* bytes arrive: the client
//! is waiting for its echo. The remaining 48 KiB sit in the kernel until the client sends
//! again. [`Drain::OncePerEvent`] keeps that bug so a test can show the stall.
//!
//! The rule collides with fairness: a client that sends without pause never lets a read end in
//! `EAGAIN`, so "drain until `EAGAIN`" would serve it forever and starve everyone else. So each
//! connection gets a read budget per turn, and one that spends it (or fills its output buffer)
//! before `EAGAIN` is put on a **still-ready list**. The kernel will not report it again, so the
//! loop must remember it: while the list is non-empty, `epoll_wait` is called with a zero timeout
//! (collect new events, do not sleep) and the listed connections get another turn after the new
//! events are handled. Every connection progresses; none waits for an edge that is not coming.
//!
//! The pitfall in one sentence: with edge triggering, *you* are responsible for remembering
//! which sockets still have work — every path that stops reading before `EAGAIN` must lead back
//! to a read without waiting for the kernel.

use std::io;
use std::net::TcpListener;
use std::time::Instant;

use netkit::accept::Acceptor;
use netkit::conn::{self, Connection, NewConn, READ_BUDGET, ReadStop};
use netkit::echo::EchoConn;
use netkit::graceful::{Graceful, Turn};
use netkit::{Slab, Stop, Timers, timers};
use nix::errno::Errno;
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};

/// What one `read(2)` of a connection takes, so this budget is one read.
pub const ONE_READ: usize = netkit::conn::CHUNK;
/// How many events one `epoll_wait` may return.
const MAX_EVENTS: usize = 256;
/// The token of the listening socket.
const LISTENER: u64 = u64::MAX;
/// The token of the stop descriptor, readable once a stop is requested.
const STOP: u64 = u64::MAX - 1;

/// How a connection reads when epoll reports it readable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Drain {
    /// Correct: read until `EAGAIN`, or until the budget is spent and then come back by itself.
    #[default]
    UntilEagain,
    /// The classic edge-triggered bug: one `read` per event, then wait for the next edge.
    OncePerEvent,
}

/// How to run the edge-triggered server.
#[derive(Debug, Clone, Copy)]
pub struct Config {
    /// Drain correctly, or reproduce the bug.
    pub drain: Drain,
    /// Bytes one connection may read per turn (with [`Drain::UntilEagain`]).
    pub read_budget: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            drain: Drain::UntilEagain,
            read_budget: READ_BUDGET,
        }
    }
}

/// One connection. It is registered once; what it needs next is tracked here, not in epoll.
#[derive(Debug)]
struct Client<C> {
    conn: C,
    /// The kernel may still hold bytes we stopped reading before `EAGAIN` (budget spent, or
    /// output buffer full). Edge-triggered epoll will not report them again: we must come back.
    unread: bool,
    /// The connection is on the still-ready list (so it is there at most once).
    queued: bool,
}

/// What a connection needs after its turn.
#[derive(Debug, PartialEq, Eq)]
enum After {
    /// Nothing until epoll reports the next edge.
    Wait,
    /// Another turn without waiting: it still has unread bytes and room for them.
    Again,
    /// Finished or broken: deregister and close it.
    Close,
}

/// Serves echo to every client from one thread with edge-triggered epoll until `stop` is
/// requested.
pub fn run(listener: TcpListener, stop: &Stop) -> io::Result<()> {
    run_configured(listener, stop, Config::default(), EchoConn::new)
}

/// [`run`] for any protocol: the loop drives each `new_conn(stream)` (see [the entry
/// points](crate#two-entry-points-one-loop)); at the stop it stops accepting and finishes the
/// busy connections, within the stop's grace period ([`netkit::graceful`]).
pub fn run_with(listener: TcpListener, stop: &Stop, new_conn: impl NewConn) -> io::Result<()> {
    run_configured(listener, stop, Config::default(), new_conn)
}

/// [`run_with`] with a [`Config`]: the drain mode (correct or buggy) and the budget.
pub fn run_configured<C: Connection>(
    listener: TcpListener,
    stop: &Stop,
    config: Config,
    new_conn: impl NewConn<Conn = C>,
) -> io::Result<()> {
    let mut event_loop = EventLoop::new(listener, stop, config, new_conn)?;
    let mut events = vec![EpollEvent::empty(); MAX_EVENTS];
    let mut graceful = Graceful::new("epoll_edge", stop);
    loop {
        event_loop.clients.next_turn();
        match graceful.turn(&event_loop.clients, |c| &c.conn) {
            Turn::Serve => {}
            Turn::Drain(idle) => event_loop.wind_down(stop, idle)?,
            Turn::Over => return Ok(()),
        }
        // Someone still has work: only collect new events, do not sleep. Else sleep until an
        // event, or until the earliest connection's deadline.
        let timeout = if event_loop.still_ready.is_empty() {
            timers::poll_timeout(graceful.wait(event_loop.timers.wait(Instant::now())))
        } else {
            EpollTimeout::ZERO
        };
        let ready = match event_loop.epoll.wait(&mut events, timeout) {
            Ok(n) => n,
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        };
        let leftovers = std::mem::take(&mut event_loop.still_ready);
        for event in &events[..ready] {
            match event.data() {
                LISTENER => event_loop.accept()?, // edge-triggered too: accepts until EAGAIN
                STOP => {}                        // the next turn looks at `stop`
                token => event_loop.turn(token as usize, event.events())?,
            }
        }
        // The connections that had bytes left last turn: no event will announce them.
        for key in leftovers {
            if let Some(client) = event_loop.clients.get_mut(key) {
                client.queued = false;
                event_loop.turn(key, EpollFlags::empty())?;
            }
        }
        event_loop.expire()?;
    }
}

/// The epoll instance, the listener, every connection under its token, and the still-ready list.
struct EventLoop<C, F> {
    epoll: Epoll,
    /// `None` once stopping: the listener is deregistered and closed.
    acceptor: Option<Acceptor>,
    /// A connection's token is its key here.
    clients: Slab<Client<C>>,
    /// Connections that stopped reading before `EAGAIN`: they get a turn without an event.
    still_ready: Vec<usize>,
    /// Each connection's deadline, under its token.
    timers: Timers,
    config: Config,
    new_conn: F,
}

impl<C: Connection, F: NewConn<Conn = C>> EventLoop<C, F> {
    fn new(listener: TcpListener, stop: &Stop, config: Config, new_conn: F) -> io::Result<Self> {
        let acceptor = Acceptor::new(listener)?;
        let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)?;
        let edge = EpollFlags::EPOLLIN | EpollFlags::EPOLLET;
        epoll.add(acceptor.listener(), EpollEvent::new(edge, LISTENER))?;
        // Level-triggered on purpose: once readable it stays so, and it is looked at only once.
        epoll.add(stop.fd(), EpollEvent::new(EpollFlags::EPOLLIN, STOP))?;
        Ok(EventLoop {
            epoll,
            acceptor: Some(acceptor),
            clients: Slab::new(),
            still_ready: Vec::new(),
            timers: Timers::new(),
            config,
            new_conn,
        })
    }

    /// Accepts every waiting connection and registers each once, for everything, edge-triggered.
    fn accept(&mut self) -> io::Result<()> {
        let everything = EpollFlags::EPOLLIN
            | EpollFlags::EPOLLOUT
            | EpollFlags::EPOLLRDHUP
            | EpollFlags::EPOLLET;
        let Some(acceptor) = self.acceptor.as_mut() else {
            return Ok(()); // stopping: an event from before the listener was closed
        };
        conn::accept_each("epoll_edge", acceptor, &mut self.new_conn, |conn| {
            let token = self.clients.vacant_key() as u64;
            self.epoll
                .add(conn.stream(), EpollEvent::new(everything, token))?;
            let deadline = conn.deadline();
            let client = Client {
                conn,
                unread: false,
                queued: false,
            };
            self.timers.set(self.clients.insert(client), deadline);
            Ok(())
        })
    }

    /// Stopping: no more accepting, and the `idle` connections closed.
    fn wind_down(&mut self, stop: &Stop, idle: Vec<usize>) -> io::Result<()> {
        crate::epoll_level::stop_accepting(&self.epoll, &mut self.acceptor, stop, STOP)?;
        idle.into_iter().try_for_each(|key| self.close(key))
    }

    /// One turn for one connection, then what it needs next: another turn, or a close.
    /// `ready` is what epoll reported (empty for a turn from the still-ready list).
    fn turn(&mut self, key: usize, ready: EpollFlags) -> io::Result<()> {
        let Some(client) = self.clients.get_mut(key) else {
            return Ok(()); // closed earlier in this batch
        };
        match service(client, ready, &self.config) {
            After::Wait => {}
            After::Again if client.queued => {}
            After::Again => {
                client.queued = true;
                self.still_ready.push(key);
            }
            After::Close => return self.close(key),
        }
        self.timers.set(key, client.conn.deadline());
        Ok(())
    }

    /// Tells every connection whose deadline has passed; closes those it finishes.
    fn expire(&mut self) -> io::Result<()> {
        let now = Instant::now();
        for key in self
            .timers
            .fire("epoll_edge", now, &mut self.clients, |c| &mut c.conn)
        {
            self.close(key)?;
        }
        Ok(())
    }

    /// Deregisters a connection, then drops it (which closes the socket).
    fn close(&mut self, key: usize) -> io::Result<()> {
        self.timers.remove(key);
        if let Some(client) = self.clients.remove(key) {
            self.epoll.delete(client.conn.stream())?;
        }
        Ok(())
    }
}

/// One turn for one connection: `ready` is what epoll reported (empty for a turn from the
/// still-ready list).
fn service<C: Connection>(client: &mut Client<C>, ready: EpollFlags, config: &Config) -> After {
    let result = match config.drain {
        Drain::UntilEagain => drain_until_eagain(client, ready, config.read_budget),
        Drain::OncePerEvent => read_once_per_event(client, ready),
    };
    match result {
        Ok(()) if client.conn.is_finished() => After::Close,
        // Only with room to read into: a client whose output buffer is full waits for the
        // EPOLLOUT edge that says its buffer drained (then `unread` brings it back here).
        Ok(()) if client.unread && client.conn.wants_read() => After::Again,
        Ok(()) => After::Wait,
        Err(e) => {
            conn::log_broken("epoll_edge", &e);
            After::Close
        }
    }
}

/// Readable, the peer's FIN (`EPOLLRDHUP`), a hang-up or an error: a `read` will tell which.
fn readable(ready: EpollFlags) -> bool {
    ready.intersects(
        EpollFlags::EPOLLIN | EpollFlags::EPOLLRDHUP | EpollFlags::EPOLLHUP | EpollFlags::EPOLLERR,
    )
}

/// Correct: read until `EAGAIN` — or until the budget is spent, and then remember that bytes
/// may be left, because edge-triggered epoll will not say so again.
fn drain_until_eagain<C: Connection>(
    client: &mut Client<C>,
    ready: EpollFlags,
    budget: usize,
) -> io::Result<()> {
    // BEGIN SOLUTION: io-epoll-et-drain
    if readable(ready) || client.unread {
        let stop = client.conn.on_readable(budget)?;
        // EAGAIN or EOF: nothing is left, and new bytes will raise a new edge. Budget spent or
        // output buffer full: bytes may be left, and nothing will announce them again.
        client.unread = matches!(stop, ReadStop::Budget | ReadStop::Full);
    }
    if ready.contains(EpollFlags::EPOLLOUT) {
        client.conn.on_writable()?;
    }
    Ok(())
    // END SOLUTION
}

/// The classic bug, kept so a test can show it: one `read` per event. Whatever that read left
/// in the kernel waits for an edge — new bytes from the client, who is waiting for us.
fn read_once_per_event<C: Connection>(client: &mut Client<C>, ready: EpollFlags) -> io::Result<()> {
    if readable(ready) {
        client.conn.on_readable(ONE_READ)?;
    }
    if ready.contains(EpollFlags::EPOLLOUT) {
        client.conn.on_writable()?;
    }
    Ok(())
}
