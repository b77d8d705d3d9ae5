//! The backends: one HTTP session, driven by every concurrency model of the workspace.
//!
//! **What.** [`serve`] runs the server with the [`Model`] asked for. Nothing here is a server
//! loop: each model *is* the loop its own chapter teaches, given the one thing that differs —
//! what to do with a connection.
//!
//! | model | the loop | what it runs per connection |
//! | --- | --- | --- |
//! | `select`, `poll` | `io_models::select`, `io_models::poll` | an [`HttpConn`] (a [`netkit::Connection`]) |
//! | `epoll` | `io_models::epoll_edge`: edge-triggered, as production servers run it | an [`HttpConn`] |
//! | `async` | `io_models::reactor`: a task per connection on a hand-made reactor | an [`HttpConn`], driven as a task |
//! | `uring` | [`crate::uring`]: completions, on io-models' ring, accept and stop pieces | a [`UringConn`](crate::uring::conn::UringConn): owned buffers, counted in flight |
//! | `threads` | `multithread::per_thread_server::spawn_per_connection` | [`serve_connection`](crate::serve_connection), blocking |
//! | `pool` | `multithread::per_thread_server::pooled_with` | [`serve_connection`](crate::serve_connection), blocking |
//! | `prefork` | `multiprocess::per_process_server::prefork_with` | [`serve_connection`](crate::serve_connection), blocking, in a worker process |
//!
//! The event loops drive the non-blocking [`HttpConn`]: it tells the loop what it waits for,
//! and its deadline (header, idle, write timeouts) is kept by the loop's timers. The blocking
//! models run the same [`Session`] through [`serve_connection`](crate::serve_connection), where a socket timeout bounds
//! every wait. So the protocol is written once, and every model serves it byte for byte the same
//! — the conformance suite runs over all eight. io_uring is the exception that proves the
//! rule: a completion loop cannot drive a readiness-shaped [`HttpConn`], so `uring` drives the
//! same [`Session`] through a connection type of its own.
//!
//! The pitfall is the bound each model puts on clients, which differs: an event loop holds a
//! connection for the cost of its buffers; a thread per connection for a thread; a pool serves
//! `workers` at once and queues the rest; prefork serves one per worker process. A slow client
//! costs each model something different — which is what the chapter measures. So every model
//! also counts its open connections against [`Site::max_connections`]: a connection over the
//! bound still gets its request read (within the header timeout), and is answered
//! `503 Service Unavailable` with `Retry-After` and closed — a client learns to come back,
//! instead of waiting on a server that will never get to it — and the shedding is logged, at
//! most once a second.
//!
//! **A graceful stop**, the same on every model: Ctrl-C (or [`Stop::stop`]) closes the listener
//! at once — a new client is refused — closes the connections waiting between requests, and
//! lets every response in flight go out to its last byte; the server returns when the last one
//! is done, or when the stop's [grace period](Stop::grace) is over (what is cut then is logged),
//! or at once on a second Ctrl-C. The event loops learn which connections are between requests
//! from [`HttpConn`]'s [`is_idle`](netkit::Connection::is_idle) ([`netkit::graceful`]), the
//! completion loop from [`UringConn::is_idle`](crate::uring::conn::UringConn::is_idle)
//! (`io_models::uring`'s drain: the second stop and the grace period are operations in
//! flight); the blocking models shut down only the read side of their connections, so a thread waiting for
//! the next request reads EOF while a thread writing finishes
//! ([`multithread::connections`], [`multiprocess::prefork_stop`]). A client that never reads
//! its response is bounded twice: by the write timeout, and by the grace period.

use std::fmt;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use netkit::Stop;
use netkit::shed::Shedder;

use crate::blocking::{Limits, drive};
use crate::head::RequestHead;
use crate::nonblocking::HttpConn;
use crate::resolve::Root;
use crate::response::{Reply, Response};
use crate::session::{Session, Ticket};
use crate::status::Status;

/// A concurrency model the server can run with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Model {
    /// One thread, `select(2)`.
    Select,
    /// One thread, `poll(2)`.
    Poll,
    /// One thread, edge-triggered `epoll(7)`.
    Epoll,
    /// One thread, an async task per connection on the hand-made reactor.
    Async,
    /// One thread, io_uring: submissions and completions (Linux 5.19 or newer).
    Uring,
    /// A thread per connection.
    Threads,
    /// A fixed pool of threads.
    Pool,
    /// A fixed set of worker processes, forked before the first client.
    Prefork,
}

impl Model {
    /// Every model, in the order the chapters teach them.
    pub const ALL: [Model; 8] = [
        Model::Select,
        Model::Poll,
        Model::Epoll,
        Model::Async,
        Model::Uring,
        Model::Threads,
        Model::Pool,
        Model::Prefork,
    ];

    /// Its name on the command line (`--model NAME`).
    pub fn name(self) -> &'static str {
        match self {
            Model::Select => "select",
            Model::Poll => "poll",
            Model::Epoll => "epoll",
            Model::Async => "async",
            Model::Uring => "uring",
            Model::Threads => "threads",
            Model::Pool => "pool",
            Model::Prefork => "prefork",
        }
    }
}

impl fmt::Display for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Model {
    type Err = String;

    fn from_str(name: &str) -> Result<Model, String> {
        named(&Model::ALL, Model::name, name)
    }
}

/// The one of `all` called `name` (by `name_of`), or a sentence that lists the names: the
/// `--model` of the server and of the crawler.
pub(crate) fn named<M: Copy>(
    all: &[M],
    name_of: fn(M) -> &'static str,
    name: &str,
) -> Result<M, String> {
    all.iter()
        .copied()
        .find(|&m| name_of(m) == name)
        .ok_or_else(|| {
            let names: Vec<&str> = all.iter().map(|&m| name_of(m)).collect();
            format!(
                "no model named {name:?}; choose one of {}",
                names.join(", ")
            )
        })
}

/// What is served, and how: the same for every model.
#[derive(Debug, Clone)]
pub struct Site {
    /// The directory served.
    pub root: Arc<Root>,
    /// The time bounds of each connection.
    pub limits: Limits,
    /// Write a Common Log Format line per response to standard output.
    pub access_log: bool,
    /// Threads of the pool, processes of prefork.
    pub workers: usize,
    /// Connections served at once (per process); more are answered 503.
    pub max_connections: usize,
}

impl Site {
    /// Serves `root` with the default limits, no access log, 4 workers and at most 10,000
    /// connections at once.
    pub fn new(root: Arc<Root>) -> Site {
        Site {
            root,
            limits: Limits::default(),
            access_log: false,
            workers: 4,
            max_connections: 10_000,
        }
    }
}

/// A [`Site`] being served: what every connection of one server (one process) shares.
#[derive(Debug)]
pub struct Serving {
    site: Site,
    /// Connections open now.
    open: Arc<AtomicUsize>,
    /// Logs the 503s, rate-limited.
    shed: Mutex<Shedder>,
}

impl Serving {
    /// Nothing open yet.
    pub fn new(site: Site) -> Serving {
        Serving {
            site,
            open: Arc::new(AtomicUsize::new(0)),
            shed: Mutex::new(Shedder::new("http", b"")),
        }
    }

    /// A new connection's session, counted: it serves the site (logged if the site logs), or —
    /// over the bound — answers 503 to whatever it is asked.
    pub(crate) fn session(&self, stream: &TcpStream) -> Session {
        let peer = stream.peer_addr().ok();
        let ticket = Ticket::take(&self.open);
        let root = Arc::clone(&self.site.root);
        let session = if self.open.load(Ordering::Relaxed) > self.site.max_connections {
            self.log_shedding(peer);
            Session::with_planner(root, busy)
        } else {
            Session::new(root)
        };
        let session = session.counted(ticket);
        match peer {
            Some(peer) if self.site.access_log => session.logged_for(peer.ip()),
            _ => session,
        }
    }

    /// Says that connections are being refused — at most once a second, with how many.
    fn log_shedding(&self, peer: Option<SocketAddr>) {
        let why = format!(
            "{} connections open, the bound is {}; answering 503",
            self.open.load(Ordering::Relaxed),
            self.site.max_connections
        );
        let peer = peer.unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)));
        self.shed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .note(peer, why);
    }

    /// The time bounds of every connection.
    pub fn limits(&self) -> Limits {
        self.site.limits
    }

    /// The event loops' factory: an accepted socket becomes a non-blocking [`HttpConn`].
    pub fn connection(&self, stream: TcpStream) -> io::Result<HttpConn> {
        let session = self.session(&stream);
        HttpConn::with_session(stream, session, self.site.limits)
    }

    /// The blocking models' handler: serves one connection to its end.
    pub fn serve_blocking(&self, stream: TcpStream) -> io::Result<()> {
        let session = self.session(&stream);
        drive(stream, session, &self.site.limits)
    }
}

/// The planner of a connection over the bound: 503, try again in a second, and close.
fn busy(_: &Root, _: &RequestHead, reply: &Reply) -> Response {
    // BEGIN SOLUTION: http-shed-503
    let closing = Reply {
        close: true,
        ..*reply
    };
    let retry = vec![("Retry-After", "1".to_string())];
    closing.error(
        Status::ServiceUnavailable,
        "the server is at its connection limit; try again shortly",
        retry,
    )
    // END SOLUTION
}

/// How many accepted connections the pool holds while every worker is busy.
const POOL_QUEUE: usize = 64;

/// What the thread and process servers write to a client over their own bound (the pool's
/// workers and queue, the thread or worker-process count) before closing: a whole response,
/// since no request is read.
pub const BUSY_RESPONSE: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
Content-Type: text/plain; charset=utf-8\r\nContent-Length: 35\r\nRetry-After: 1\r\n\
Connection: close\r\n\r\nthe server is busy; try again soon\n";

/// Serves `site` on `listener` with `model` until `stop` is requested; then finishes the
/// responses in flight, for at most the stop's grace period (see the module docs).
pub fn serve(model: Model, listener: TcpListener, stop: &Stop, site: &Site) -> io::Result<()> {
    use io_models::{epoll_edge, poll, reactor, select};
    use multithread::per_thread_server::{self as threads, pooled_limited, report};
    let serving = Arc::new(Serving::new(site.clone()));
    let workers = site.workers;
    // The thread servers' own bound is a backstop above the site's: a connection between the
    // two gets a thread that reads its request and answers the session's 503.
    let thread_limits = threads::Limits {
        max_threads: site.max_connections.saturating_mul(2),
        busy: BUSY_RESPONSE,
        graceful: true,
    };
    match model {
        Model::Select => select::run_with(listener, stop, |s| serving.connection(s)),
        Model::Poll => poll::run_with(listener, stop, |s| serving.connection(s)),
        Model::Epoll => epoll_edge::run_with(listener, stop, |s| serving.connection(s)),
        Model::Async => reactor::run_with(listener, stop, move |s| serving.connection(s)),
        Model::Uring => crate::uring::run(listener, stop, &serving),
        Model::Threads => {
            let handle = |stream, _: &_| report("http", serving.serve_blocking(stream));
            threads::spawn_per_connection_limited(listener, stop, "http", &thread_limits, handle)
        }
        Model::Pool => {
            let handle = move |stream| report("http", serving.serve_blocking(stream));
            pooled_limited(listener, stop, workers, POOL_QUEUE, &thread_limits, handle)
        }
        Model::Prefork => {
            use multiprocess::per_process_server::prefork_limited;
            use multiprocess::server_limits::Limits;
            // The session keeps its own idle and header timeouts.
            let limits = Limits {
                idle_timeout: None,
                busy: BUSY_RESPONSE,
                graceful: true,
                ..Limits::default()
            };
            let handle = |stream: &mut TcpStream| serving.serve_blocking(stream.try_clone()?);
            prefork_limited(listener, stop, workers, &limits, handle)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_busy_response_says_its_own_length() {
        let text = std::str::from_utf8(BUSY_RESPONSE).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(
            head.contains(&format!("Content-Length: {}\r\n", body.len())),
            "{text}"
        );
    }

    #[test]
    fn a_model_is_found_by_its_name_and_a_wrong_name_lists_the_right_ones() {
        for model in Model::ALL {
            assert_eq!(model.name().parse::<Model>(), Ok(model));
        }
        assert_eq!(
            "fork".parse::<crate::crawl::Model>(),
            Err(r#"no model named "fork"; choose one of threads, callbacks, async"#.to_string())
        );
    }
}
