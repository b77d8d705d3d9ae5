//! The event loop that drives every connection of one loadgen process.
//!
//! One thread, one epoll instance (through `polling`, level-triggered), non-blocking sockets,
//! and a small state machine per connection:
//!
//! ```text
//!   Connecting ──writable, SO_ERROR = 0──▶ Open ──begin_request──▶ Exchanging ──all S bytes
//!       │                                  ▲  │ (idle: stays Open)     │        echoed back──┐
//!       └─ error / timeout ─▶ closed       │  └─ readable: EOF/data ─▶ closed (error)        │
//!                                          └───────────── no more requests to start ◀───────┘
//! ```
//!
//! This file is the loop and the connecting; `engine/traffic.rs` is the request/response part.
//!
//! Why it is never the bottleneck: a connection costs nothing while it waits; a connect is one
//! `socket`, `bind` and `connect` and one `epoll_ctl`; connects are started in bounded batches
//! (`connect_batch` in flight), so the server's listen backlog is not overrun and a refused or
//! slow server does not pile up thousands of half-open sockets.
//!
//! Stopping: the engine watches a [`netkit::Stop`] like every server of the workspace — its
//! descriptor is registered with the poller beside the sockets, so Ctrl-C (or the parent's
//! `stop`) wakes a wait at once, and every phase checks the flag between turns. (`polling`
//! retries `epoll_wait` after `EINTR`, so a bare flag set by a signal handler would go unseen
//! until the wait ended.)

use std::collections::VecDeque;
use std::io::{self, ErrorKind};
use std::net::{SocketAddr, TcpStream};
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::{Duration, Instant};

use netkit::Slab;
use polling::{Event, Events, PollMode, Poller};

use crate::failure::{self, Failure};
use crate::limits::{self, FdLimit, PortRange};
use crate::report::Tally;
use crate::socket::{self, Connecting};
use crate::stats;

mod traffic;

use traffic::payload_for;

/// When a run of requests ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Stop {
    /// After this many requests in total (over all connections) have completed.
    Requests(u64),
    /// After this long; requests still in flight then are not counted (`unfinished`).
    Duration(Duration),
}

/// What one engine (one process) does.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Settings {
    /// The server.
    pub addr: SocketAddr,
    /// Connections that send requests.
    pub active: u64,
    /// Connections that are only held open.
    pub idle: u64,
    /// Bytes per request (and per echo).
    pub size: usize,
    /// Source addresses 127.0.0.1 ..= 127.0.0.`sources` (1: let the kernel choose).
    pub sources: usize,
    /// Global number of this process's first connection, so sources stay balanced over
    /// processes.
    pub first_index: u64,
    /// Most connects in flight at once.
    pub connect_batch: usize,
    /// A handshake not done after this long counts as `connect_timeout`.
    pub connect_timeout: Duration,
    /// An echo not complete after this long counts as `request_timeout`.
    pub request_timeout: Duration,
}

/// Longest single wait, so connect and request timeouts are checked when no event comes.
const MAX_WAIT: Duration = Duration::from_millis(100);
/// The poller key of the stop's descriptor: no slot of the slab ever has it (`polling` keeps
/// `usize::MAX` for its own `notify`).
const STOP_KEY: usize = usize::MAX - 1;
const SCRATCH: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Active,
    Idle,
}

/// A connection's state; see the diagram in the module docs.
#[derive(Debug, Clone, Copy)]
enum State {
    /// Handshake in progress: the socket turns writable when it is done.
    Connecting,
    /// Established and quiet: an idle connection, or an active one between requests. Readable
    /// here means the server closed it or sent bytes nobody asked for.
    Open,
    /// One request in flight: `written` of the payload sent, `read` bytes echoed and verified.
    Exchanging {
        started: Instant,
        written: usize,
        read: usize,
    },
}

#[derive(Debug)]
struct Conn {
    stream: TcpStream,
    /// Global connection number: picks the source address and seeds the payload.
    index: u64,
    role: Role,
    state: State,
    /// The interest registered with the poller, to call `epoll_ctl` only on change.
    interest: (bool, bool),
    /// The request bytes (active connections only); the first 8 carry the request number.
    payload: Vec<u8>,
    sequence: u64,
}

/// The event loop and every connection of this process.
#[derive(Debug)]
pub struct Engine {
    settings: Settings,
    poller: Arc<Poller>,
    /// Ends every phase; its descriptor is registered with the poller under [`STOP_KEY`].
    stop: Arc<netkit::Stop>,
    events: Events,
    /// `(key, readable, writable)` of the events being handled.
    ready: Vec<(usize, bool, bool)>,
    /// Slab of connections; a connection's slot number is its poller key.
    slots: Slab<Conn>,
    /// Connections started so far (successfully or not), of `active + idle`.
    started: u64,
    in_flight: usize,
    /// `(slot, index, when)` of connects in start order, i.e. deadline order.
    connect_deadlines: VecDeque<(usize, u64, Instant)>,
    /// Set when a local limit (descriptors, ports, memory) makes every further connect futile.
    stop_opening: bool,
    /// Connections open or opening.
    open: u64,
    /// Requests started (for `Stop::Requests`).
    issued: u64,
    request_limit: u64,
    request_deadline: Option<Instant>,
    exchanging: u64,
    fd: FdLimit,
    ports: PortRange,
    scratch: Vec<u8>,
    tally: Tally,
    /// This thread's CPU time when the engine was made.
    cpu_start: f64,
}

impl Engine {
    /// An engine with nothing connected yet, that ends its phases when `stop` is requested.
    pub fn new(settings: Settings, stop: Arc<netkit::Stop>) -> io::Result<Engine> {
        let tally = Tally::new(settings.active, settings.idle);
        let poller = Arc::new(Poller::new()?);
        // SAFETY: the engine holds `stop` (and so its descriptor) until `Drop for Engine`
        // deletes the descriptor from the poller. Level-triggered: once stopped, every wait
        // returns at once.
        unsafe {
            poller.add_with_mode(&stop.fd(), Event::readable(STOP_KEY), PollMode::Level)?;
        }
        Ok(Engine {
            poller,
            stop,
            events: Events::with_capacity(NonZeroUsize::new(4096).expect("non-zero")),
            ready: Vec::new(),
            slots: Slab::new(),
            started: 0,
            in_flight: 0,
            connect_deadlines: VecDeque::new(),
            stop_opening: false,
            open: 0,
            issued: 0,
            request_limit: 0,
            request_deadline: None,
            exchanging: 0,
            fd: limits::fd_limit()?,
            ports: limits::port_range(),
            scratch: vec![0; SCRATCH],
            tally,
            cpu_start: stats::thread_cpu_secs(),
            settings,
        })
    }

    /// The poller, for another thread to [`Poller::notify`] when it sets a flag a
    /// [`hold`](Engine::hold) waits for (a stop needs none: the engine watches the stop).
    pub fn waker(&self) -> Arc<Poller> {
        Arc::clone(&self.poller)
    }

    /// Connections whose handshake completed (some may have failed or closed since).
    pub fn established(&self) -> u64 {
        self.tally.active_established + self.tally.idle_established
    }

    /// Connections established and open now (not counting those still connecting).
    pub fn open_established(&self) -> u64 {
        self.open - self.in_flight as u64
    }

    /// What happened so far.
    pub fn tally(&self) -> &Tally {
        &self.tally
    }

    /// What happened so far, with the connections never attempted and those still open
    /// counted, and the CPU time this engine's thread used. The connections stay open until the
    /// engine is dropped.
    pub fn snapshot(&self) -> Tally {
        let mut tally = self.tally.clone();
        tally.not_attempted = self.total() - self.started;
        tally.open_at_end = self.open;
        tally.cpu_secs = stats::thread_cpu_secs() - self.cpu_start;
        tally
    }

    fn total(&self) -> u64 {
        self.settings.active + self.settings.idle
    }

    /// Opens every connection, at most `connect_batch` at a time; returns when each has
    /// connected or failed, when a local limit stops further connects, or on a stop.
    pub fn connect_all(&mut self) -> io::Result<()> {
        let began = Instant::now();
        loop {
            if self.stop.is_stopped() {
                self.tally.interrupted = true;
                break;
            }
            while !self.stop_opening
                && self.started < self.total()
                && self.in_flight < self.settings.connect_batch.max(1)
            {
                self.open_one();
            }
            if self.in_flight == 0 && (self.stop_opening || self.started == self.total()) {
                break;
            }
            self.expire_connects();
            let next = self.connect_deadlines.front().map(|&(_, _, at)| at);
            self.turn(next)?;
        }
        self.tally.connect_secs = began.elapsed().as_secs_f64();
        Ok(())
    }

    /// Keeps servicing the open connections (counting any the server drops) until `done()` is
    /// true, `until` passes, or a stop.
    pub fn hold(&mut self, until: Option<Instant>, done: &dyn Fn() -> bool) -> io::Result<()> {
        while !done() && !self.stop.is_stopped() && until.is_none_or(|t| Instant::now() < t) {
            self.turn(until)?;
        }
        Ok(())
    }

    /// One `epoll_wait` (at most until `deadline` and at most [`MAX_WAIT`]) and its events.
    fn turn(&mut self, deadline: Option<Instant>) -> io::Result<()> {
        let mut timeout = MAX_WAIT;
        if let Some(deadline) = deadline {
            timeout = timeout.min(deadline.saturating_duration_since(Instant::now()));
        }
        self.events.clear();
        self.slots.next_turn();
        self.poller.wait(&mut self.events, Some(timeout))?;
        // Copied out (into a reused buffer) because handling an event needs `&mut self`.
        let mut ready = std::mem::take(&mut self.ready);
        ready.extend(self.events.iter().map(|e| (e.key, e.readable, e.writable)));
        for &(slot, readable, writable) in &ready {
            self.on_event(slot, readable, writable);
        }
        ready.clear();
        self.ready = ready;
        Ok(())
    }

    fn on_event(&mut self, slot: usize, readable: bool, writable: bool) {
        let Some(conn) = self.slots.get(slot) else {
            return; // closed earlier in this batch of events
        };
        match conn.state {
            State::Connecting if readable || writable => match socket::finish_connect(&conn.stream)
            {
                Ok(()) => self.on_connected(slot),
                Err(e) => self.fail(slot, Failure::of(&e), Some(&e)),
            },
            State::Connecting => {}
            State::Open if readable => self.on_unexpected_input(slot),
            State::Open => {}
            State::Exchanging { .. } => self.exchange(slot, false, readable),
        }
    }

    /// Starts the next connection: its role, its source address, the non-blocking connect.
    fn open_one(&mut self) {
        let index = self.settings.first_index + self.started;
        // Idle connections first: in an echo run they are the background the traffic runs in.
        let role = if self.started < self.settings.idle {
            Role::Idle
        } else {
            Role::Active
        };
        self.started += 1;
        let source = socket::source_for(index, self.settings.sources);
        let Connecting { stream, done } = match socket::start_connect(self.settings.addr, source) {
            Ok(connecting) => connecting,
            Err(e) => {
                self.record_connect_failure(Failure::of(&e), Some(&e), source);
                return;
            }
        };
        let payload = match role {
            Role::Active => payload_for(index, self.settings.size),
            Role::Idle => Vec::new(),
        };
        let slot = self.slots.vacant_key();
        // Writable = the handshake finished (either way).
        let interest = (false, true);
        // SAFETY: the socket is owned by the connection stored in `slots[slot]`, and
        // `Engine::close` and `Drop for Engine` delete it from the poller before dropping it.
        let added = unsafe {
            self.poller.add_with_mode(
                &stream,
                Event::new(slot, interest.0, interest.1),
                PollMode::Level,
            )
        };
        if let Err(e) = added {
            self.record_connect_failure(Failure::of(&e), Some(&e), source);
            return;
        }
        self.slots.insert(Conn {
            stream,
            index,
            role,
            state: State::Connecting,
            interest,
            payload,
            sequence: 0,
        });
        self.open += 1;
        self.in_flight += 1;
        if done {
            self.on_connected(slot);
        } else {
            self.connect_deadlines.push_back((
                slot,
                index,
                Instant::now() + self.settings.connect_timeout,
            ));
        }
    }

    fn on_connected(&mut self, slot: usize) {
        self.in_flight -= 1;
        let conn = self
            .slots
            .get_mut(slot)
            .expect("connected slot holds a connection");
        conn.state = State::Open;
        match conn.role {
            Role::Active => {
                self.tally.active_established += 1;
                // Requests are written whole; never hold a small one back waiting for an ACK.
                let _ = conn.stream.set_nodelay(true);
            }
            Role::Idle => self.tally.idle_established += 1,
        }
        self.set_interest(slot, (true, false));
    }

    fn expire_connects(&mut self) {
        let now = Instant::now();
        while let Some(&(slot, index, at)) = self.connect_deadlines.front() {
            if at > now {
                break;
            }
            self.connect_deadlines.pop_front();
            let still_connecting = matches!(
                self.slots.get(slot),
                Some(c) if c.index == index && matches!(c.state, State::Connecting)
            );
            if still_connecting {
                self.fail(slot, Failure::ConnectTimeout, None);
            }
        }
    }

    fn set_interest(&mut self, slot: usize, interest: (bool, bool)) {
        let conn = self.slots.get_mut(slot).expect("slot holds a connection");
        if conn.interest == interest {
            return;
        }
        let event = Event::new(slot, interest.0, interest.1);
        match self
            .poller
            .modify_with_mode(&conn.stream, event, PollMode::Level)
        {
            Ok(()) => conn.interest = interest,
            Err(e) => self.fail(slot, Failure::of(&e), Some(&e)),
        }
    }

    /// Counts a failure of the connection in `slot` (under connect errors while it was still
    /// connecting), explains it if it is the first of its kind, and closes the connection.
    fn fail(&mut self, slot: usize, failure: Failure, error: Option<&io::Error>) {
        let conn = self
            .slots
            .get(slot)
            .expect("failing slot holds a connection");
        let source = socket::source_for(conn.index, self.settings.sources);
        if matches!(conn.state, State::Connecting) {
            self.record_connect_failure(failure, error, source);
        } else {
            *self.tally.errors.entry(failure).or_default() += 1;
            self.note(failure, error, source);
        }
        self.close(slot);
    }

    fn record_connect_failure(
        &mut self,
        failure: Failure,
        error: Option<&io::Error>,
        source: Option<std::net::Ipv4Addr>,
    ) {
        *self.tally.connect_errors.entry(failure).or_default() += 1;
        let text = self.note(failure, error, source);
        if failure.is_local_limit() && !self.stop_opening {
            self.stop_opening = true;
            self.tally.stopped_by = Some(text);
        }
    }

    /// The explanation of `failure`, written into the tally the first time it occurs.
    fn note(
        &mut self,
        failure: Failure,
        error: Option<&io::Error>,
        source: Option<std::net::Ipv4Addr>,
    ) -> String {
        let context = failure::Context {
            addr: self.settings.addr,
            fd: self.fd,
            ports: self.ports,
            sources: self.settings.sources,
            source,
            open_here: self.open,
        };
        self.tally
            .explanations
            .entry(failure)
            .or_insert_with(|| failure::explain(failure, error, &context))
            .clone()
    }

    fn close(&mut self, slot: usize) {
        let Some(conn) = self.slots.remove(slot) else {
            return;
        };
        let _ = self.poller.delete(&conn.stream);
        match conn.state {
            State::Connecting => self.in_flight -= 1,
            State::Exchanging { .. } => self.exchanging -= 1,
            State::Open => {}
        }
        if !matches!(conn.state, State::Connecting) {
            match conn.role {
                Role::Active => self.tally.active_lost += 1,
                Role::Idle => self.tally.idle_lost += 1,
            }
        }
        self.open -= 1;
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        // The poller's contract: every source is deleted before it is closed.
        for (_, conn) in self.slots.iter() {
            let _ = self.poller.delete(&conn.stream);
        }
        let _ = self.poller.delete(self.stop.fd());
    }
}

fn is_retry(e: &io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted)
}
