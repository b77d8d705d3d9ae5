//! One worker of `echo_target`: a level-triggered event loop (through `polling`) that hands each
//! ready socket to netkit — the listener to [`Acceptor`], a connection to its [`EchoConn`].
//!
//! What is left to the loop:
//!
//! - **interest follows the connection**: a connection is watched for reading while its
//!   `EchoConn` has room (back-pressure) and for writing only while echo bytes wait — a socket
//!   watched for writing with nothing to write wakes a level-triggered loop forever;
//! - **a read budget per wake-up**, so one client that never pauses cannot starve the others
//!   (level-triggered: what is left unread wakes the loop again);
//! - **at its descriptor limit the server keeps clients waiting, not turned away**: the acceptor
//!   is [`Acceptor::keep_queued`], so on `EMFILE` the connection stays in the backlog (where
//!   loadgen's `--server-pid` check sees it as "not accepted"). The listener stays readable
//!   meanwhile, so after that or any other accept error the loop stops watching it for
//!   [`ACCEPT_PAUSE`] rather than spin;
//! - **stopping**: the loop ends when the [`Stop`] is requested (its descriptor is registered).

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use netkit::accept::{Accepted, Acceptor};
use netkit::echo::EchoConn;
use netkit::{Connection, Slab, Stop};
use nix::errno::Errno;
use polling::{Event, Events, PollMode, Poller};

use crate::limits;

/// How long accepting pauses after an accept error (`EMFILE`, `ENOMEM`, …).
pub const ACCEPT_PAUSE: Duration = Duration::from_millis(100);
/// How much one connection may read per wake-up.
const READ_BUDGET: usize = 64 * 1024;
const LISTENER: usize = 0;
const STOP: usize = 1;
const FIRST_CONN: usize = 2;

/// One connection and what the poller is watching it for.
#[derive(Debug)]
struct Client {
    conn: EchoConn,
    /// The interest registered with the poller, (readable, writable); changed only when the
    /// connection wants something else.
    interest: (bool, bool),
}

/// Serves `listener` until `stop` is requested.
pub fn serve(listener: TcpListener, stop: Arc<Stop>) -> io::Result<()> {
    EchoLoop::new(listener, stop)?.run()
}

/// A worker's listener, its connections, and the poller watching them.
///
/// Made before `listening on` is printed, so every descriptor the loop needs (epoll, its
/// eventfd and timerfd) exists by then, and a test's descriptor baseline does not race it.
#[derive(Debug)]
pub struct EchoLoop {
    poller: Poller,
    acceptor: Acceptor,
    stop: Arc<Stop>,
    /// Connection `i` is poller key `i + FIRST_CONN`.
    clients: Slab<Client>,
    /// Set while accepting is paused after an accept error.
    accept_paused_until: Option<Instant>,
    last_pause_report: Option<Instant>,
}

impl EchoLoop {
    /// Registers `listener` and the stop's descriptor with a new poller.
    pub fn new(listener: TcpListener, stop: Arc<Stop>) -> io::Result<EchoLoop> {
        let acceptor = Acceptor::keep_queued(listener)?;
        let poller = Poller::new()?;
        // SAFETY: the listener (inside `acceptor`) and the stop are moved into the returned
        // `EchoLoop`, whose `Drop` deletes them from the poller before they are closed.
        unsafe {
            poller.add_with_mode(
                acceptor.listener(),
                Event::readable(LISTENER),
                PollMode::Level,
            )?;
        }
        // SAFETY: as above.
        unsafe {
            poller.add_with_mode(&stop.fd(), Event::readable(STOP), PollMode::Level)?;
        }
        Ok(EchoLoop {
            poller,
            acceptor,
            stop,
            clients: Slab::new(),
            accept_paused_until: None,
            last_pause_report: None,
        })
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.acceptor.listener().local_addr()
    }

    /// Serves until the stop is requested; then closes every connection.
    pub fn run(&mut self) -> io::Result<()> {
        let mut events = Events::new();
        while !self.stop.is_stopped() {
            self.clients.next_turn();
            let timeout = self
                .accept_paused_until
                .map(|t| t.saturating_duration_since(Instant::now()));
            events.clear();
            self.poller.wait(&mut events, timeout)?;
            if self
                .accept_paused_until
                .is_some_and(|t| Instant::now() >= t)
            {
                self.accept_paused_until = None;
                self.watch_listener(true)?;
            }
            for event in events.iter() {
                match event.key {
                    LISTENER => self.accept_all()?,
                    STOP => {} // the loop condition looks at the stop
                    key => self.on_client(key - FIRST_CONN, event.readable, event.writable),
                }
            }
        }
        self.close_all();
        Ok(())
    }

    fn accept_all(&mut self) -> io::Result<()> {
        loop {
            match self.acceptor.accept() {
                Ok(Accepted::Connection(stream, _)) => self.add(stream),
                Ok(Accepted::Shed) => {}
                Ok(Accepted::Empty) => return Ok(()),
                Err(e) => return self.pause_accepting(&e),
            }
        }
    }

    /// Out of descriptors or memory (or anything unexpected): stop watching the listener for
    /// [`ACCEPT_PAUSE`]; the connection waits in the backlog meanwhile. Reported at most once
    /// a second.
    fn pause_accepting(&mut self, e: &io::Error) -> io::Result<()> {
        let now = Instant::now();
        self.accept_paused_until = Some(now + ACCEPT_PAUSE);
        self.watch_listener(false)?;
        if self
            .last_pause_report
            .is_none_or(|t| now.duration_since(t) > Duration::from_secs(1))
        {
            self.last_pause_report = Some(now);
            let errno = e.raw_os_error().map(Errno::from_raw);
            let open = self.clients.len();
            let limit = limits::fd_limit().map(|l| l.soft).unwrap_or(0);
            eprintln!(
                "echo_target {}: accept failed ({errno:?}) with {open} connections open \
                 (RLIMIT_NOFILE soft {limit}); not accepting for {ACCEPT_PAUSE:?}",
                std::process::id()
            );
        }
        Ok(())
    }

    fn watch_listener(&self, readable: bool) -> io::Result<()> {
        let event = Event::new(LISTENER, readable, false);
        self.poller
            .modify_with_mode(self.acceptor.listener(), event, PollMode::Level)
    }

    fn add(&mut self, stream: TcpStream) {
        let Ok(conn) = EchoConn::new(stream) else {
            return; // dropping the stream closes the connection
        };
        let slot = self.clients.vacant_key();
        let interest = (conn.wants_read(), conn.wants_write());
        let event = Event::new(slot + FIRST_CONN, interest.0, interest.1);
        // SAFETY: the stream is stored in `clients[slot]`; `close` and `close_all` delete it
        // from the poller before dropping it.
        let added = unsafe {
            self.poller
                .add_with_mode(conn.stream(), event, PollMode::Level)
        };
        if added.is_err() {
            return; // dropping `conn` closes the connection
        }
        self.clients.insert(Client { conn, interest });
    }

    /// Echoes what a ready connection allows, then closes it if it is finished or broken, or
    /// updates what the poller watches it for.
    fn on_client(&mut self, slot: usize, readable: bool, writable: bool) {
        let Some(client) = self.clients.get_mut(slot) else {
            return;
        };
        let conn = &mut client.conn;
        let mut result = Ok(());
        if writable {
            result = conn.on_writable();
        }
        if result.is_ok() && readable && conn.wants_read() {
            result = conn.on_readable(READ_BUDGET).map(drop);
        }
        if result.is_err() || conn.is_finished() {
            return self.close(slot); // a reset or a finished echo: either way, done
        }
        let want = (conn.wants_read(), conn.wants_write());
        if want != client.interest {
            let event = Event::new(slot + FIRST_CONN, want.0, want.1);
            if self
                .poller
                .modify_with_mode(conn.stream(), event, PollMode::Level)
                .is_err()
            {
                return self.close(slot);
            }
            client.interest = want;
        }
    }

    fn close(&mut self, slot: usize) {
        if let Some(client) = self.clients.remove(slot) {
            let _ = self.poller.delete(client.conn.stream());
        }
    }

    fn close_all(&mut self) {
        for slot in self.clients.keys() {
            self.close(slot);
        }
    }
}

impl Drop for EchoLoop {
    fn drop(&mut self) {
        // The poller's contract: every source is deleted before it is closed.
        self.close_all();
        let _ = self.poller.delete(self.acceptor.listener());
        let _ = self.poller.delete(self.stop.fd());
    }
}
