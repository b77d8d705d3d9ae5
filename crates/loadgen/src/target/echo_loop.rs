//! One worker of `echo_target`: an event loop that accepts, echoes, and never spins.
//!
//! Level-triggered readiness through `polling`, one `read` per wake-up (bytes still waiting wake
//! the loop again), and per-connection write buffers:
//!
//! - **back-pressure**: bytes read are echoed at once; what the socket does not take waits in the
//!   connection's `pending` buffer, and while that holds [`HIGH_WATER`] bytes the connection is
//!   not read, so a client that does not read its echoes cannot make the server buffer without
//!   bound;
//! - **`EMFILE` in accept** must not spin: a level-triggered listener stays readable while the
//!   connection waits in the backlog, so retrying at once is a 100% CPU loop. Accepting pauses
//!   for [`ACCEPT_PAUSE`] instead, and the backlog holds the clients meanwhile;
//! - **half-close**: end of stream from the client means "no more requests", not "gone": the
//!   pending echo is still written, then the connection closed.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use polling::{Event, Events, PollMode, Poller};

use crate::limits;

/// How long accepting pauses after `EMFILE`/`ENFILE`/`ENOMEM`.
pub const ACCEPT_PAUSE: Duration = Duration::from_millis(100);
/// A connection with this many unsent echo bytes is not read until they drain.
const HIGH_WATER: usize = 256 * 1024;
const LISTENER: usize = 0;
const SIGNALS: usize = 1;
const FIRST_CONN: usize = 2;

/// One connection: the socket, echo bytes not yet sent, whether the client finished sending.
#[derive(Debug)]
struct Client {
    stream: TcpStream,
    /// Bytes read but not yet written back; `pending[sent..]` remain.
    pending: Vec<u8>,
    sent: usize,
    /// The client shut down its writing side: once `pending` drains, close.
    eof: bool,
    interest: (bool, bool),
}

impl Client {
    fn unsent(&self) -> usize {
        self.pending.len() - self.sent
    }
}

/// One worker's event loop: accepts and echoes on `listener` until `stop` is set (checked after
/// every wake-up) or `signals` (see [`super::run`]) turns readable.
///
/// In-process tests pass `harness::serve`'s stop flag; the harness connects once after setting
/// it, which wakes the loop.
pub fn serve(
    listener: TcpListener,
    stop: &AtomicBool,
    signals: Option<UnixStream>,
) -> io::Result<()> {
    EchoLoop::new(listener, signals)?.run(stop)
}

/// A worker's listener, its connections, and the poller watching them.
///
/// Made before `listening on` is printed, so every descriptor the loop needs (epoll, its
/// eventfd and timerfd) exists by then, and a test's descriptor baseline does not race it.
#[derive(Debug)]
pub struct EchoLoop {
    poller: Poller,
    listener: TcpListener,
    signals: Option<UnixStream>,
    /// Slab of connections; slot `i` is poller key `i + FIRST_CONN`.
    clients: Vec<Option<Client>>,
    free: Vec<usize>,
    scratch: Vec<u8>,
    /// Set while accepting is paused after `EMFILE` & co.
    accept_paused_until: Option<Instant>,
    last_pause_report: Option<Instant>,
}

impl EchoLoop {
    /// Registers `listener` (and the signal pipe, if any) with a new poller.
    pub fn new(listener: TcpListener, signals: Option<UnixStream>) -> io::Result<EchoLoop> {
        listener.set_nonblocking(true)?;
        let poller = Poller::new()?;
        // SAFETY: `listener` and `signals` are moved into the returned `EchoLoop`, whose `Drop`
        // deletes them from the poller before they are closed.
        unsafe {
            poller.add_with_mode(&listener, Event::readable(LISTENER), PollMode::Level)?;
        }
        if let Some(signals) = &signals {
            // SAFETY: as above.
            unsafe {
                poller.add_with_mode(signals, Event::readable(SIGNALS), PollMode::Level)?;
            }
        }
        Ok(EchoLoop {
            poller,
            listener,
            signals,
            clients: Vec::new(),
            free: Vec::new(),
            scratch: vec![0; 64 * 1024],
            accept_paused_until: None,
            last_pause_report: None,
        })
    }

    /// Serves until `stop` is set or a signal arrives on the signal pipe; then closes every
    /// connection.
    pub fn run(&mut self, stop: &AtomicBool) -> io::Result<()> {
        let mut events = Events::new();
        'serving: while !stop.load(Ordering::SeqCst) {
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
                self.poller.modify_with_mode(
                    &self.listener,
                    Event::readable(LISTENER),
                    PollMode::Level,
                )?;
            }
            for event in events.iter() {
                match event.key {
                    LISTENER => self.accept_all()?,
                    SIGNALS => break 'serving,
                    key => self.on_client(key - FIRST_CONN, event.readable, event.writable),
                }
            }
        }
        self.close_all();
        Ok(())
    }

    fn accept_all(&mut self) -> io::Result<()> {
        loop {
            match self.listener.accept() {
                Ok((stream, _)) => self.add(stream),
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
                // Interrupted, or the client gave up before we accepted: next one.
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::Interrupted | ErrorKind::ConnectionAborted
                    ) => {}
                Err(e) => return self.pause_accepting(&e),
            }
        }
    }

    /// Out of descriptors or memory (or anything unexpected): stop watching the listener for
    /// [`ACCEPT_PAUSE`] instead of retrying in a tight loop.
    fn pause_accepting(&mut self, e: &io::Error) -> io::Result<()> {
        let now = Instant::now();
        self.accept_paused_until = Some(now + ACCEPT_PAUSE);
        self.poller
            .modify_with_mode(&self.listener, Event::none(LISTENER), PollMode::Level)?;
        if self
            .last_pause_report
            .is_none_or(|t| now.duration_since(t) > Duration::from_secs(1))
        {
            self.last_pause_report = Some(now);
            let errno = e.raw_os_error().map(Errno::from_raw);
            let open = self.clients.iter().flatten().count();
            let limit = limits::fd_limit().map(|l| l.soft).unwrap_or(0);
            eprintln!(
                "echo_target {}: accept failed ({errno:?}) with {open} connections open \
                 (RLIMIT_NOFILE soft {limit}); not accepting for {ACCEPT_PAUSE:?}",
                std::process::id()
            );
        }
        Ok(())
    }

    fn add(&mut self, stream: TcpStream) {
        if stream.set_nonblocking(true).is_err() {
            return;
        }
        let slot = self.free.pop().unwrap_or_else(|| {
            self.clients.push(None);
            self.clients.len() - 1
        });
        // SAFETY: the stream is stored in `clients[slot]`; `close` and `close_all` delete it
        // from the poller before dropping it.
        let added = unsafe {
            self.poller
                .add_with_mode(&stream, Event::readable(slot + FIRST_CONN), PollMode::Level)
        };
        if added.is_err() {
            self.free.push(slot);
            return; // dropping the stream closes the connection
        }
        self.clients[slot] = Some(Client {
            stream,
            pending: Vec::new(),
            sent: 0,
            eof: false,
            interest: (true, false),
        });
    }

    fn on_client(&mut self, slot: usize, readable: bool, writable: bool) {
        let Some(client) = self.clients.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        let ok = (!writable || flush(client))
            && (!readable
                || client.eof
                || client.unsent() >= HIGH_WATER
                || echo(client, &mut self.scratch));
        if !ok || (client.eof && client.unsent() == 0) {
            return self.close(slot);
        }
        let want = (
            !client.eof && client.unsent() < HIGH_WATER,
            client.unsent() > 0,
        );
        if want != client.interest {
            let event = Event::new(slot + FIRST_CONN, want.0, want.1);
            if self
                .poller
                .modify_with_mode(&client.stream, event, PollMode::Level)
                .is_err()
            {
                return self.close(slot);
            }
            client.interest = want;
        }
    }

    fn close(&mut self, slot: usize) {
        if let Some(client) = self.clients[slot].take() {
            let _ = self.poller.delete(&client.stream);
            self.free.push(slot);
        }
    }

    fn close_all(&mut self) {
        for slot in 0..self.clients.len() {
            self.close(slot);
        }
    }
}

impl Drop for EchoLoop {
    fn drop(&mut self) {
        // The poller's contract: every source is deleted before it is closed.
        self.close_all();
        let _ = self.poller.delete(&self.listener);
        if let Some(signals) = &self.signals {
            let _ = self.poller.delete(signals);
        }
    }
}

/// Reads what the client sent and echoes it; what the socket does not take is kept in
/// `pending`. One `read` per wake-up: the poller is level-triggered, so bytes still waiting
/// wake us again, and a second `read` would usually just return `EAGAIN`. False when the
/// connection failed (reset, …) and must be closed.
fn echo(client: &mut Client, scratch: &mut [u8]) -> bool {
    let n = loop {
        match client.stream.read(scratch) {
            Ok(n) => break n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock => return true,
            Err(_) => return false,
        }
    };
    if n == 0 {
        client.eof = true;
        return true;
    }
    if client.unsent() > 0 {
        if client.sent >= HIGH_WATER {
            // Drop the already-sent prefix so the buffer cannot grow without bound.
            client.pending.drain(..client.sent);
            client.sent = 0;
        }
        client.pending.extend_from_slice(&scratch[..n]); // behind what waits: order kept
        return true;
    }
    client.pending.clear();
    client.sent = 0;
    let mut written = 0;
    while written < n {
        match client.stream.write(&scratch[written..n]) {
            Ok(m) => written += m,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(_) => return false,
        }
    }
    client.pending.extend_from_slice(&scratch[written..n]);
    true
}

/// Writes pending echo bytes until done or the socket is full. False on a write error.
fn flush(client: &mut Client) -> bool {
    while client.unsent() > 0 {
        match client.stream.write(&client.pending[client.sent..]) {
            Ok(n) => client.sent += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock => return true,
            Err(_) => return false,
        }
    }
    client.pending.clear();
    client.sent = 0;
    true
}
