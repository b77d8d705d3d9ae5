//! Chapter: an HTTP/1.1 static file server, written once as a sans-IO core that every
//! concurrency model drives.
//!
//! Read the lessons in this order; each builds on the one before:
//!
//! | module | the idea |
//! | --- | --- |
//! | [`head`] | what a parsed request is: version, fields, the head, the error that refuses one |
//! | [`request`] | the incremental request-head parser: bytes in → a head, "need more", or the status to answer |
//! | [`framing`] | what the fields mean for the body and the connection; refusing request smuggling |
//! | [`resolve`] | from a request path to an open file, never outside the root (`openat2` + `RESOLVE_BENEATH`) |
//! | [`listing`] | a directory listing, names percent-encoded in links and HTML-escaped in text |
//! | [`conditional`] | 304, 206 and 416: `If-None-Match`, `If-Modified-Since`, `Range`, `If-Range` in the RFC's order |
//! | [`response`] | the response planner: a head as bytes and a body plan (bytes, or a file range for `sendfile`) |
//! | [`session`] | one connection's conversation without the socket: pipelining in order, bodies discarded or refused, 408 |
//! | [`blocking`] | the blocking driver `serve_connection`: a thread per connection, `sendfile(2)`, timeouts, a lingering close |
//! | [`nonblocking`] | `HttpConn`, the same session driven by an event loop: readable/writable/timeout, `EAGAIN` everywhere, back-pressure |
//! | [`uring`] | the same session on io_uring: completions, owned buffers, file reads then sends, a timer per connection |
//! | [`backends`] | the same session over every concurrency model: io-models' loops, the thread pool, prefork |
//! | [`access_log`] | one Common Log Format line per response |
//! | [`status`] | the status codes this server sends |
//! | [`crawl`] | the client: a breadth-first crawler over keep-alive connections — threads, callbacks on epoll, async tasks |
//!
//! Nothing in the core touches a socket: it takes bytes and gives back bytes and plans, so it is
//! tested without a network, and a blocking thread, a `select` loop or an `epoll` reactor can
//! all drive the same code.

pub mod access_log;
pub mod backends;
pub mod blocking;
pub mod conditional;
pub mod crawl;
pub mod framing;
pub mod head;
pub mod listing;
pub mod nonblocking;
pub mod request;
pub mod resolve;
pub mod response;
pub mod session;
pub mod status;
pub mod uring;

pub use backends::{Model, Site, serve};
pub use blocking::{Limits, serve_connection};
pub use request::{HeadParser, ParseError, Progress, RequestHead, Version};
pub use resolve::Root;
pub use response::{Body, Response, respond};
pub use status::Status;
