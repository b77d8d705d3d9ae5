//! Chapter: an HTTP/1.1 static file server, written once as a sans-IO core that every
//! concurrency model drives.
//!
//! Read the lessons in this order; each builds on the one before:
//!
//! | module | the idea |
//! | --- | --- |
//! | [`request`] | the incremental request-head parser: bytes in → a head, "need more", or the status to answer |
//! | [`framing`] | what the fields mean for the body and the connection; refusing request smuggling |
//! | [`status`] | the status codes this server sends |
//!
//! Nothing in the core touches a socket: it takes bytes and gives back bytes and plans, so it is
//! tested without a network, and a blocking thread, a `select` loop or an `epoll` reactor can
//! all drive the same code.

pub mod framing;
pub mod request;
pub mod status;

pub use request::{HeadParser, ParseError, Progress, RequestHead, Version};
pub use status::Status;
