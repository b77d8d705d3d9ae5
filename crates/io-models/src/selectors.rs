//! A portable event loop on the `polling` crate — the Rust counterpart of Python's `selectors`.
//!
//! ```text
//!   Python (the course this workspace re-teaches)      Rust (this module)
//!   sel = selectors.DefaultSelector()                  poller = Poller::new()            epoll, kqueue, IOCP…
//!   sel.register(conn, EVENT_READ, callback)           poller.add(&conn, Event::readable(key))
//!   for key, mask in sel.select():                     poller.wait(&mut events, None)
//!       key.data(key.fileobj, mask)                    conns[event.key].on_readable() / on_writable()
//!   sel.modify(conn, EVENT_READ | EVENT_WRITE)         poller.modify(&conn, Event::new(key, r, w))
//! ```
//!
//! `polling` picks the best multiplexer of the platform (epoll on Linux, kqueue on the BSDs and
//! macOS, …) behind one small API, the way `selectors.DefaultSelector` does. Each registration
//! carries a `key` (a `usize`); the loop keeps its connections in a [`Slab`] under the same keys,
//! and each connection is a state machine (a [`Connection`]: [`EchoConn`] for the echo server)
//! with its own output buffer — the part of a real server that `select`/`poll` examples often
//! leave out.
//!
//! Back-pressure: a client that sends much and reads little fills its connection's output buffer.
//! Once that is over [`netkit::echo::MAX_PENDING`], [`Connection::wants_read`] is false and we stop
//! asking for readability: the data stays in the kernel, the kernel's receive buffer fills, TCP
//! tells the client to stop, and the client's `send` blocks. Memory stays bounded, and every
//! other client is served meanwhile. (`EchoConn` would refuse to read past the bound anyway; what
//! the loop adds is not *asking*: a readable socket we will not read is reported again on every
//! wait — a busy spin. The back-pressure test measures it: ~4 ms of server CPU while a client
//! sits blocked for half a second, ~1 s if the loop keeps asking.)
//!
//! The pitfall: `polling` registrations are **oneshot**. After an event is delivered the source
//! is disarmed, and the loop hears nothing more about it until it re-arms it with `modify` — forget
//! that and the connection silently stalls after its first event. (The upside: re-arming is also
//! where the interest is updated, so it is never stale.) And `add` is `unsafe`: a source must be
//! `delete`d from the poller before it is closed — on some platforms the registration outlives
//! the descriptor, and a reused descriptor number would receive a stranger's events. The loop
//! keeps that promise on every path, including `Drop`.

use std::io;
use std::net::TcpListener;
use std::time::Instant;

use netkit::accept::Acceptor;
use netkit::conn::{self, Connection, NewConn, READ_BUDGET};
use netkit::echo::EchoConn;
use netkit::graceful::{Graceful, Turn};
use netkit::{Slab, Stop, Timers};
use polling::{Event, Events, Poller};

/// The listener's key.
const LISTENER: usize = 0;
/// The stop descriptor's key.
const STOP: usize = 1;
/// Connection `k` of the slab is registered under key `FIRST_CONN + k`.
const FIRST_CONN: usize = 2;

/// Serves echo to every client from one thread with the `polling` crate until `stop` is
/// requested.
pub fn run(listener: TcpListener, stop: &Stop) -> io::Result<()> {
    run_with(listener, stop, EchoConn::new)
}

/// [`run`] for any protocol: the loop drives each `new_conn(stream)` (see [the entry
/// points](crate#two-entry-points-one-loop)); at the stop it stops accepting and finishes the
/// busy connections, within the stop's grace period ([`netkit::graceful`]).
pub fn run_with(listener: TcpListener, stop: &Stop, new_conn: impl NewConn) -> io::Result<()> {
    let mut event_loop = EventLoop::new(listener, stop, new_conn)?;
    let mut events = Events::new();
    let mut graceful = Graceful::new("selectors", stop);
    loop {
        event_loop.conns.next_turn();
        match graceful.turn(&event_loop.conns, |c| c) {
            Turn::Serve => {}
            Turn::Drain(idle) => event_loop.wind_down(idle)?,
            Turn::Over => return Ok(()),
        }
        events.clear();
        // Until an event, or the earliest connection's deadline. Retries EINTR itself.
        let timeout = graceful.wait(event_loop.timers.wait(Instant::now()));
        event_loop.poller.wait(&mut events, timeout)?;
        for event in events.iter() {
            match event.key {
                LISTENER => event_loop.accept_all()?,
                STOP => {} // the next turn looks at `stop`
                key => event_loop.service(key - FIRST_CONN, event),
            }
        }
        event_loop.expire();
    }
}

/// The poller, the listener, and every open connection under its key.
struct EventLoop<'s, C: Connection, F> {
    poller: Poller,
    /// `None` once stopping: the listener is deregistered and closed.
    acceptor: Option<Acceptor>,
    stop: &'s Stop,
    /// Open connections; connection `k` is registered under key `FIRST_CONN + k`.
    conns: Slab<C>,
    /// Each connection's deadline, under its slot.
    timers: Timers,
    new_conn: F,
}

impl<'s, C: Connection, F: NewConn<Conn = C>> EventLoop<'s, C, F> {
    fn new(listener: TcpListener, stop: &'s Stop, new_conn: F) -> io::Result<Self> {
        let poller = Poller::new()?;
        let acceptor = Acceptor::new(listener)?;
        // SAFETY: the listener is deleted from the poller in `wind_down` before it is dropped
        // there, or in `Drop for EventLoop`, which runs before the acceptor is dropped.
        unsafe { poller.add(acceptor.listener(), Event::readable(LISTENER))? };
        // SAFETY: deleted in the same `Drop`, while the borrowed `Stop` is still alive.
        unsafe { poller.add(&stop.fd(), Event::readable(STOP))? };
        Ok(EventLoop {
            poller,
            acceptor: Some(acceptor),
            stop,
            conns: Slab::new(),
            timers: Timers::new(),
            new_conn,
        })
    }

    /// Accepts every waiting connection and registers it for what it wants; then re-arms the
    /// listener.
    fn accept_all(&mut self) -> io::Result<()> {
        let Some(acceptor) = self.acceptor.as_mut() else {
            return Ok(()); // stopping: an event from before the listener was closed
        };
        conn::accept_each("selectors", acceptor, &mut self.new_conn, |conn| {
            let key = FIRST_CONN + self.conns.vacant_key();
            let interest = Event::new(key, conn.wants_read(), conn.wants_write());
            // SAFETY: a connection is deleted from the poller before it is dropped: in
            // `close` when it ends, and in `Drop for EventLoop` for the rest.
            unsafe { self.poller.add(conn.stream(), interest)? };
            let deadline = conn.deadline();
            self.timers.set(self.conns.insert(conn), deadline);
            Ok(())
        })?;
        // Oneshot: the listener was disarmed when its event was delivered.
        self.poller
            .modify(acceptor.listener(), Event::readable(LISTENER))
    }

    /// Stopping: takes the listener out of the poller and closes it, trades the stop descriptor
    /// (readable for good now) for the force descriptor, and closes the `idle` connections.
    fn wind_down(&mut self, idle: Vec<usize>) -> io::Result<()> {
        if let Some(acceptor) = self.acceptor.take() {
            self.poller.delete(acceptor.listener())?;
            self.poller.delete(self.stop.fd())?;
            // SAFETY: deleted in `Drop for EventLoop`, while the borrowed `Stop` is still alive.
            unsafe {
                self.poller
                    .add(&self.stop.force_fd(), Event::readable(STOP))?
            };
        }
        for slot in idle {
            self.close(slot);
        }
        Ok(())
    }

    /// Handles one connection's event, then re-arms it — or closes it if it is done or broken.
    fn service(&mut self, slot: usize, event: Event) {
        let Some(conn) = self.conns.get_mut(slot) else {
            return; // closed earlier in this batch
        };
        let result = if event.readable {
            // Also flushes what it read, so a readable+writable event needs nothing more. What it
            // leaves unread is reported again as soon as the connection is re-armed.
            conn.on_readable(READ_BUDGET).map(drop)
        } else if event.writable {
            conn.on_writable()
        } else {
            Ok(())
        };
        self.settle(slot, result);
    }

    /// Tells every connection whose deadline has passed, then re-arms or closes it.
    fn expire(&mut self) {
        for slot in self.timers.expired(Instant::now()) {
            if let Some(conn) = self.conns.get_mut(slot) {
                let result = conn.on_timeout();
                self.settle(slot, result);
            }
        }
    }

    /// After a connection's turn: re-arms it for what it wants now and records its deadline —
    /// or closes it if it is done or broken.
    fn settle(&mut self, slot: usize, result: io::Result<()>) {
        let Some(conn) = self.conns.get_mut(slot) else {
            return;
        };
        let result = result.and_then(|()| {
            if conn.is_finished() {
                Ok(false)
            } else {
                rearm(&self.poller, FIRST_CONN + slot, conn).map(|()| true)
            }
        });
        match result {
            Ok(true) => self.timers.set(slot, conn.deadline()),
            Ok(false) => self.close(slot),
            Err(e) => {
                conn::log_broken("selectors", &e);
                self.close(slot);
            }
        }
    }

    /// Deregisters a connection, then drops it (which closes the socket) — in that order.
    fn close(&mut self, slot: usize) {
        self.timers.remove(slot);
        if let Some(conn) = self.conns.remove(slot)
            && let Err(e) = self.poller.delete(conn.stream())
        {
            eprintln!("selectors: deregistering connection {slot}: {e}");
        }
    }
}

/// Asks to hear about this connection again, for what its state wants now: readability while
/// its output buffer has room (back-pressure), writability while it has output waiting.
fn rearm(poller: &Poller, key: usize, conn: &impl Connection) -> io::Result<()> {
    // BEGIN SOLUTION: io-selectors-rearm
    let interest = Event::new(key, conn.wants_read(), conn.wants_write());
    poller.modify(conn.stream(), interest)
    // END SOLUTION
}

impl<C: Connection, F> Drop for EventLoop<'_, C, F> {
    fn drop(&mut self) {
        // Keep `add`'s promise on every way out of `run`, errors included.
        for (_, conn) in self.conns.iter() {
            let _ = self.poller.delete(conn.stream());
        }
        match &self.acceptor {
            Some(acceptor) => {
                let _ = self.poller.delete(acceptor.listener());
                let _ = self.poller.delete(self.stop.fd());
            }
            None => {
                let _ = self.poller.delete(self.stop.force_fd());
            }
        }
    }
}
