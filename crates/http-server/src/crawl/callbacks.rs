//! Crawler, model 2: callbacks on one epoll loop — the Python course's non-blocking
//! `get_url`, grown into a crawler.
//!
//! One thread, N non-blocking sockets, one `epoll`. Each connection is a hand-written state
//! machine, and the state says which callback runs when its socket is ready:
//!
//! ```text
//!   Idle ──path──▶ Connecting ──writable: on_connected──▶ Sending ──writable: on_writable──┐
//!    ▲   (socket kept: straight to Sending)                                                │
//!    │                                                                   all sent          ▼
//!    └──── Done (page recorded) ◀── on_readable ── ReadingBody ◀── on_readable ── ReadingHead
//! ```
//!
//! It is fast and frugal — no thread per connection, no locks — and it hurts:
//!
//! - **State is smeared across callbacks.** What a blocking thread keeps in local variables
//!   (the request, how much of it went out, the half-read response, the deadline) must live in
//!   the `Conn` between events, and every callback starts by finding out where it was.
//! - **Error paths are everywhere.** `connect` can fail late (`SO_ERROR` on writable); a write
//!   can hit `EPIPE`; a read can see `ECONNRESET` or end early; each must fail the page, close
//!   the socket *and* take it out of epoll, and leave the connection ready for the next page.
//! - **Time is the loop's job.** No callback runs when nothing happens, so deadlines are
//!   checked by the loop: it sleeps until the earliest one and expires what is due.
//!
//! The same crawl with `.await` ([`super::tasks`]) reads like the blocking one
//! ([`super::threads`]), and the compiler writes this state machine.

use std::io::{self, ErrorKind, Read, Write};
use std::mem;
use std::net::TcpStream;
use std::time::Instant;

use loadgen::socket::{finish_connect, start_connect};
use netkit::Stop;
use nix::errno::Errno;
use nix::poll::PollTimeout;
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags};

use super::{Fetched, Frontier, Next, Options, Progress, Report, ResponseReader, Target};

/// The epoll key of the stop descriptor; connections are keyed by their index.
const STOP: u64 = u64::MAX;

/// Where a connection is; the state names the callback its next readiness event runs.
#[derive(Debug)]
enum State {
    /// No page: waiting for one (an open socket is watched for the server closing it).
    Idle,
    /// `connect` started; writable → `on_connected`.
    Connecting,
    /// The request is going out; writable → `on_writable`.
    Sending {
        /// The whole request.
        request: Vec<u8>,
        /// How much of it the kernel has taken.
        sent: usize,
    },
    /// Waiting for the head; readable → `on_readable`.
    ReadingHead(ResponseReader),
    /// The head is in, the body is coming; readable → `on_readable`.
    ReadingBody(ResponseReader),
}

/// One connection: what a blocking thread would keep on its stack, kept here between events.
#[derive(Debug)]
struct Conn {
    /// The socket, while open (kept between pages: keep-alive).
    stream: Option<TcpStream>,
    state: State,
    /// The page being fetched (meaningless while `Idle`).
    path: String,
    /// The page's deadline (meaningless while `Idle`).
    deadline: Instant,
    /// The socket served an earlier page: an early end means "stale", not "failed".
    reused: bool,
}

/// What a callback decided.
enum Step {
    /// Wait for the next event.
    Wait,
    /// The page is over.
    Done(Fetched),
}

/// The loop: epoll, the connections, the frontier.
struct Crawler<'a> {
    epoll: Epoll,
    conns: Vec<Conn>,
    frontier: Frontier,
    target: &'a Target,
    options: &'a Options,
}

/// Crawls with `options.conns` connections on one thread.
pub fn crawl(target: &Target, options: &Options, stop: &Stop) -> io::Result<Report> {
    let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)?;
    epoll.add(stop.fd(), EpollEvent::new(EpollFlags::EPOLLIN, STOP))?;
    let idle = || Conn {
        stream: None,
        state: State::Idle,
        path: String::new(),
        deadline: Instant::now(),
        reused: false,
    };
    let mut crawler = Crawler {
        epoll,
        conns: (0..options.conns.max(1)).map(|_| idle()).collect(),
        frontier: Frontier::new(
            &target.authority,
            &target.start,
            options.max_pages,
            options.progress.clone(),
        ),
        target,
        options,
    };
    let mut events = vec![EpollEvent::empty(); 64];
    while !stop.is_stopped() && crawler.hand_out() {
        let ready = match crawler.epoll.wait(&mut events, crawler.next_timeout()) {
            Ok(n) => n,
            Err(Errno::EINTR) => 0,
            Err(e) => return Err(e.into()),
        };
        for event in &events[..ready] {
            if event.data() != STOP {
                crawler.on_event(event.data() as usize);
            }
        }
        let now = Instant::now();
        if crawler.earliest().is_some_and(|due| due <= now) {
            crawler.expire(now);
        }
    }
    Ok(crawler.frontier.report())
}

impl Crawler<'_> {
    /// Gives each idle connection a page; false once nothing is in flight and nothing is left.
    /// A page can fail at once (a refused `connect`), leaving its connection idle again: it
    /// gets the next page at once too, or the loop would sleep with no socket to wake it.
    fn hand_out(&mut self) -> bool {
        for i in 0..self.conns.len() {
            while matches!(self.conns[i].state, State::Idle) {
                match self.frontier.take() {
                    Next::Fetch(path) => self.start(i, path),
                    Next::Wait => return true,
                    Next::Done => return false,
                }
            }
        }
        true
    }

    /// Starts fetching `path` on connection `i`: on its open socket, or on a new one.
    fn start(&mut self, i: usize, path: String) {
        let conn = &mut self.conns[i];
        conn.path = path;
        conn.deadline = Instant::now() + self.options.timeout;
        conn.reused = conn.stream.is_some();
        let watch = EpollEvent::new(EpollFlags::EPOLLOUT, i as u64);
        let armed = match &conn.stream {
            Some(stream) => {
                conn.state = State::Sending {
                    request: self.target.request(&conn.path),
                    sent: 0,
                };
                self.epoll.modify(stream, &mut { watch })
            }
            None => match start_connect(self.target.addr, None) {
                Ok(connecting) => {
                    conn.state = State::Connecting;
                    let stream = conn.stream.insert(connecting.stream);
                    self.epoll.add(&*stream, watch)
                }
                Err(e) => return self.done(i, super::failed("connect", &e)),
            },
        };
        if let Err(e) = armed {
            self.done(i, super::failed("epoll", &e.into()));
        }
    }

    /// Runs the callback that connection `i`'s state names.
    fn on_event(&mut self, i: usize) {
        let step = match self.conns[i].state {
            State::Connecting => self.on_connected(i),
            State::Sending { .. } => self.on_writable(i),
            State::ReadingHead(_) | State::ReadingBody(_) => self.on_readable(i),
            State::Idle => {
                // An idle keep-alive socket turned readable: the server closed it (or spoke out
                // of turn). Either way it is of no more use.
                self.close(i);
                return;
            }
        };
        if let Step::Done(fetched) = step {
            self.done(i, fetched);
        }
    }

    /// Writable after `connect`: did the handshake succeed? Then send at once.
    fn on_connected(&mut self, i: usize) -> Step {
        let conn = &mut self.conns[i];
        let Some(stream) = &conn.stream else {
            unreachable!("a connecting connection has a socket");
        };
        if let Err(e) = finish_connect(stream) {
            return Step::Done(super::failed("connect", &e));
        }
        self.frontier.opened();
        conn.state = State::Sending {
            request: self.target.request(&conn.path),
            sent: 0,
        };
        self.on_writable(i)
    }

    /// Writable: send what the kernel takes; once all is sent, wait for the answer.
    fn on_writable(&mut self, i: usize) -> Step {
        let conn = &mut self.conns[i];
        let (Some(stream), State::Sending { request, sent }) = (&mut conn.stream, &mut conn.state)
        else {
            unreachable!("on_writable runs in Sending, with a socket");
        };
        while *sent < request.len() {
            match stream.write(&request[*sent..]) {
                Ok(n) => *sent += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Step::Wait,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) if conn.reused => return Step::Done(Fetched::Stale),
                Err(e) => return Step::Done(super::failed("write", &e)),
            }
        }
        conn.state = State::ReadingHead(ResponseReader::new(self.options.max_body));
        let mut watch = EpollEvent::new(EpollFlags::EPOLLIN, i as u64);
        match self.epoll.modify(&*stream, &mut watch) {
            Ok(()) => Step::Wait,
            Err(e) => Step::Done(super::failed("epoll", &e.into())),
        }
    }

    /// Readable: feed what arrived to the response reader, and move on as far as it says.
    fn on_readable(&mut self, i: usize) -> Step {
        let conn = &mut self.conns[i];
        let Some(stream) = &mut conn.stream else {
            unreachable!("a reading connection has a socket");
        };
        let mut buf = [0u8; 16 * 1024];
        let (State::ReadingHead(reader) | State::ReadingBody(reader)) = &mut conn.state else {
            unreachable!("on_readable runs in ReadingHead or ReadingBody");
        };
        let n = match stream.read(&mut buf) {
            Ok(0) => return Step::Done(super::ended(reader, conn.reused)),
            Ok(n) => n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => {
                return Step::Wait;
            }
            Err(e) => {
                return Step::Done(match super::ended(reader, conn.reused) {
                    Fetched::Stale => Fetched::Stale,
                    _ => super::failed("read", &e),
                });
            }
        };
        let progress = reader.feed(&buf[..n]);
        match progress {
            Ok(Progress::Head) => Step::Wait,
            Ok(Progress::Body { .. }) => {
                // The head is in: from now on the bytes are body.
                conn.state = match mem::replace(&mut conn.state, State::Idle) {
                    State::ReadingHead(reader) => State::ReadingBody(reader),
                    reading => reading,
                };
                Step::Wait
            }
            Ok(Progress::Done(response)) => Step::Done(Fetched::Page(response)),
            Err(bad) => Step::Done(Fetched::Failed(bad.0)),
        }
    }

    /// The page on connection `i` is over: record it, and keep the socket only if it is
    /// clean for the next request.
    fn done(&mut self, i: usize, fetched: Fetched) {
        let keep = matches!(&fetched, Fetched::Page(response) if !response.head.close);
        let path = mem::take(&mut self.conns[i].path);
        self.frontier.finish(path, fetched);
        if !keep {
            return self.close(i);
        }
        let conn = &mut self.conns[i];
        conn.state = State::Idle;
        if let Some(stream) = &conn.stream {
            let mut watch = EpollEvent::new(EpollFlags::EPOLLIN, i as u64);
            if self.epoll.modify(stream, &mut watch).is_err() {
                self.close(i);
            }
        }
    }

    /// Closes connection `i`'s socket — out of epoll first — and makes it idle.
    fn close(&mut self, i: usize) {
        let conn = &mut self.conns[i];
        if let Some(stream) = conn.stream.take() {
            let _ = self.epoll.delete(&stream);
        }
        conn.state = State::Idle;
    }

    /// The earliest deadline of a busy connection.
    fn earliest(&self) -> Option<Instant> {
        let busy = self
            .conns
            .iter()
            .filter(|c| !matches!(c.state, State::Idle));
        busy.map(|c| c.deadline).min()
    }

    /// Until the earliest deadline; forever if no connection is busy.
    fn next_timeout(&self) -> PollTimeout {
        match self.earliest() {
            None => PollTimeout::NONE,
            Some(due) => {
                let ms = due
                    .saturating_duration_since(Instant::now())
                    .as_micros()
                    .div_ceil(1000);
                PollTimeout::try_from(ms.min(i32::MAX as u128) as i32).unwrap_or(PollTimeout::MAX)
            }
        }
    }

    /// Fails every busy page whose deadline has passed, closing its connection. The loop calls
    /// this only when the earliest deadline is due: no callback runs for a silent socket.
    fn expire(&mut self, now: Instant) {
        // BEGIN SOLUTION: crawl-callbacks-timeout
        for i in 0..self.conns.len() {
            let conn = &self.conns[i];
            if !matches!(conn.state, State::Idle) && conn.deadline <= now {
                self.done(i, Fetched::Failed("timed out".into()));
            }
        }
        // END SOLUTION
    }
}
