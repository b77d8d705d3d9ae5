//! The crawler: this chapter's client, three ways.
//!
//! `crawl http://127.0.0.1:8080/ --model threads|callbacks|async --conns N` fetches a site
//! breadth-first: it starts at one page, follows every `href` that stays on the same host and
//! port, fetches each page once, and reports pages, bytes, errors and pages per second. Each of
//! its N connections is kept alive, one request after another (no pipelining), and opened again
//! when the server closes it.
//!
//! The shared pieces are written once: [`links`] (which `href`s, and where they lead),
//! [`response`] (reading one HTTP/1.1 response, sans-IO) and [`frontier`] (the breadth-first
//! bookkeeping). What differs is how a connection *waits* — and that is the lesson:
//!
//! | model | module | waits by |
//! | --- | --- | --- |
//! | `threads` | [`threads`] | blocking in `read`, one thread per connection; the frontier behind a mutex |
//! | `callbacks` | [`callbacks`] | one thread, one epoll loop; each connection a hand-written state machine moved on by readiness callbacks |
//! | `async` | [`tasks`] | `.await`, one task per connection on io-models' reactor: the state machine written by the compiler |
//!
//! Bounds: at most `max_pages` paths, a `timeout` for each request (connect to last byte), a
//! `max_body` for each response. A failure is the failure of one page — counted, reported,
//! and the connection closed — never of the crawl.

pub mod callbacks;
pub mod frontier;
pub mod links;
pub mod response;
pub mod tasks;
pub mod threads;

use std::fmt;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::str::FromStr;
use std::time::Duration;

use indicatif::ProgressBar;
use netkit::Stop;

pub use frontier::{Fetched, Frontier, Next, Outcome, Report};
pub use response::{Progress, Response, ResponseReader};

/// How the crawler waits for its connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Model {
    /// A thread per connection, blocking.
    Threads,
    /// One epoll loop and a state machine per connection.
    Callbacks,
    /// A task per connection on io-models' reactor.
    Async,
}

impl Model {
    /// Every model.
    pub const ALL: [Model; 3] = [Model::Threads, Model::Callbacks, Model::Async];

    /// Its name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Model::Threads => "threads",
            Model::Callbacks => "callbacks",
            Model::Async => "async",
        }
    }
}

impl FromStr for Model {
    type Err = String;

    fn from_str(name: &str) -> Result<Model, String> {
        crate::backends::named(&Model::ALL, Model::name, name)
    }
}

impl fmt::Display for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The crawl's bounds and knobs.
#[derive(Debug, Clone)]
pub struct Options {
    /// Connections at once.
    pub conns: usize,
    /// At most this many pages are fetched.
    pub max_pages: usize,
    /// One request, from connect (if needed) to the last byte of the answer.
    pub timeout: Duration,
    /// A longer body is refused.
    pub max_body: usize,
    /// Advanced once per fetched page (hidden by default).
    pub progress: ProgressBar,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            conns: 4,
            max_pages: 10_000,
            timeout: Duration::from_secs(10),
            max_body: 16 << 20,
            progress: ProgressBar::hidden(),
        }
    }
}

/// Where the crawl goes: the server's address and the `host:port` links must name.
#[derive(Debug, Clone)]
pub struct Target {
    /// The server.
    pub addr: SocketAddr,
    /// `host:port`, lowercase: the `Host` field, and the only host whose links are followed.
    pub authority: String,
    /// The first page's path.
    pub start: String,
}

impl Target {
    /// Parses `http://host[:port][/path]` and looks the host up.
    pub fn parse(url: &str) -> io::Result<Target> {
        let invalid = |why: String| io::Error::new(io::ErrorKind::InvalidInput, why);
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| invalid(format!("{url:?} is not an http:// URL")))?;
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let host = rest[..end].to_ascii_lowercase();
        if host.is_empty() {
            return Err(invalid(format!("{url:?} has no host")));
        }
        let authority = if host
            .rsplit_once(':')
            .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
        {
            host
        } else {
            format!("{host}:80")
        };
        let addr = authority
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| invalid(format!("{authority} has no address")))?;
        let start = links::resolve(&authority, "/", &rest[end..]).unwrap_or_else(|| "/".into());
        Ok(Target {
            addr,
            authority,
            start,
        })
    }

    /// The request for `path`: a GET that keeps the connection alive.
    pub fn request(&self, path: &str) -> Vec<u8> {
        format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nUser-Agent: concurrency-labs-crawl\r\nAccept: */*\r\n\r\n",
            self.authority
        )
        .into_bytes()
    }
}

/// Crawls `target` with `model` until every page is fetched, `max_pages` is reached, or
/// `stop` is requested (then the pages fetched so far are reported).
pub fn crawl(model: Model, target: &Target, options: &Options, stop: &Stop) -> io::Result<Report> {
    match model {
        Model::Threads => threads::crawl(target, options, stop),
        Model::Callbacks => callbacks::crawl(target, options, stop),
        Model::Async => tasks::crawl(target, options, stop),
    }
}

/// A failed read or write, as the sentence the report gives.
fn failed(what: &str, e: &io::Error) -> Fetched {
    Fetched::Failed(match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => "timed out".to_string(),
        _ => format!("{what}: {e}"),
    })
}

/// Reading the rest of a response hit end of stream: a stale keep-alive connection if nothing
/// had arrived on a reused one, otherwise a failure.
fn ended(reader: &ResponseReader, reused: bool) -> Fetched {
    if reused && reader.is_untouched() {
        Fetched::Stale
    } else {
        Fetched::Failed("the server closed the connection before the response was complete".into())
    }
}
