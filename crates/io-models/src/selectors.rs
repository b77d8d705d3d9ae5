//! A portable event loop on the `polling` crate — the Rust counterpart of Python's `selectors`.
//!
//! ```text
//!   Python (seed 000)                                  Rust (this module)
//!   sel = selectors.DefaultSelector()                  poller = Poller::new()            epoll, kqueue, IOCP…
//!   sel.register(conn, EVENT_READ, callback)           poller.add(&conn, Event::readable(key))
//!   for key, mask in sel.select():                     poller.wait(&mut events, None)
//!       key.data(key.fileobj, mask)                    conns[event.key].on_readable() / on_writable()
//!   sel.modify(conn, EVENT_READ | EVENT_WRITE)         poller.modify(&conn, Event::new(key, r, w))
//! ```
//!
//! `polling` picks the best multiplexer of the platform (epoll on Linux, kqueue on the BSDs and
//! macOS, …) behind one small API, the way `selectors.DefaultSelector` does. Each registration
//! carries a `key` (a `usize`); the loop keeps its connections in a map under the same keys, and
//! each connection is a state machine ([`EchoConn`]) with its own output buffer — the part of a
//! real server that `select`/`poll` examples often leave out.
//!
//! Back-pressure: a client that sends much and reads little fills its connection's output buffer.
//! Once that is over [`netkit::echo::MAX_PENDING`], [`EchoConn::wants_read`] is false and we stop
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

use std::collections::HashMap;
use std::io;
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};

use netkit::accept::Acceptor;
use netkit::echo::EchoConn;
use polling::{Event, Events, Poller};

/// The listener's key. Connections get keys from 1 up.
const LISTENER: usize = 0;

/// How much one connection may read per event, so one busy client cannot hold up the others.
/// What is left is reported again as soon as the connection is re-armed.
const READ_BUDGET: usize = 64 * 1024;

/// Serves every client from one thread with the `polling` crate until `stop` is set.
pub fn run(listener: TcpListener, stop: &AtomicBool) -> io::Result<()> {
    let mut event_loop = EventLoop::new(listener)?;
    let mut events = Events::new();
    while !stop.load(Ordering::SeqCst) {
        events.clear();
        event_loop.poller.wait(&mut events, None)?; // retries EINTR itself
        for event in events.iter() {
            if event.key == LISTENER {
                event_loop.accept_all()?;
            } else {
                event_loop.service(event);
            }
        }
    }
    Ok(())
}

/// The poller, the listener, and every open connection under its key.
struct EventLoop {
    poller: Poller,
    acceptor: Acceptor,
    /// Open connections by key; a connection's key is also its registration key in `poller`.
    conns: HashMap<usize, EchoConn>,
    /// The key the next connection gets. Never reused, so a late event cannot reach a newcomer.
    next_key: usize,
}

impl EventLoop {
    fn new(listener: TcpListener) -> io::Result<EventLoop> {
        let poller = Poller::new()?;
        let acceptor = Acceptor::new(listener)?;
        // SAFETY: the listener is deleted from the poller in `Drop for EventLoop`, which runs
        // before the acceptor (and its socket) is dropped.
        unsafe { poller.add(acceptor.listener(), Event::readable(LISTENER))? };
        Ok(EventLoop {
            poller,
            acceptor,
            conns: HashMap::new(),
            next_key: LISTENER + 1,
        })
    }

    /// Accepts every waiting connection and registers it for reading; then re-arms the listener.
    fn accept_all(&mut self) -> io::Result<()> {
        let EventLoop {
            poller,
            acceptor,
            conns,
            next_key,
        } = self;
        acceptor.accept_all(|stream, _peer| {
            let conn = EchoConn::new(stream)?;
            let key = *next_key;
            *next_key += 1;
            // SAFETY: a connection is deleted from the poller before it is dropped: in
            // `service` when it ends, and in `Drop for EventLoop` for the rest.
            unsafe { poller.add(conn.stream(), Event::readable(key))? };
            conns.insert(key, conn);
            Ok(())
        })?;
        // Oneshot: the listener was disarmed when its event was delivered.
        poller.modify(acceptor.listener(), Event::readable(LISTENER))
    }

    /// Handles one connection's event, then re-arms it — or closes it if it is done or broken.
    fn service(&mut self, event: Event) {
        let Some(conn) = self.conns.get_mut(&event.key) else {
            return; // closed earlier in this batch
        };
        let result = if event.readable {
            // Also flushes what it read, so a readable+writable event needs nothing more.
            conn.on_readable(READ_BUDGET).map(drop)
        } else if event.writable {
            conn.on_writable()
        } else {
            Ok(())
        };
        let result = result.and_then(|()| {
            if conn.is_finished() {
                Ok(false)
            } else {
                rearm(&self.poller, event.key, conn).map(|()| true)
            }
        });
        match result {
            Ok(true) => {}
            Ok(false) => self.close(event.key),
            Err(e) => {
                eprintln!("selectors: closing a broken connection: {e}");
                self.close(event.key);
            }
        }
    }

    /// Deregisters a connection, then drops it (which closes the socket) — in that order.
    fn close(&mut self, key: usize) {
        if let Some(conn) = self.conns.remove(&key)
            && let Err(e) = self.poller.delete(conn.stream())
        {
            eprintln!("selectors: deregistering connection {key}: {e}");
        }
    }
}

/// Asks to hear about this connection again, for what its state wants now: readability while
/// its output buffer has room (back-pressure), writability while it has output waiting.
fn rearm(poller: &Poller, key: usize, conn: &EchoConn) -> io::Result<()> {
    // BEGIN SOLUTION: io-selectors-rearm
    let interest = Event::new(key, conn.wants_read(), conn.wants_write());
    poller.modify(conn.stream(), interest)
    // END SOLUTION
}

impl Drop for EventLoop {
    fn drop(&mut self) {
        // Keep `add`'s promise on every way out of `run`, errors included.
        for conn in self.conns.values() {
            let _ = self.poller.delete(conn.stream());
        }
        let _ = self.poller.delete(self.acceptor.listener());
    }
}
