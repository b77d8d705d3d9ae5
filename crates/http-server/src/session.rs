//! One connection's conversation, without the socket: bytes in, responses out, in order.
//!
//! **What.** A [`Session`] is what a server keeps per connection. The driver — a blocking thread,
//! or an event loop — gives it whatever it read ([`Session::receive`]) and asks for the next
//! thing to do ([`Session::next`]): send this response, read more, or stop. Pipelined requests
//! (several in one read) come out one at a time, in order; the driver asks for input only when
//! the session has nothing left to answer, so a client that pipelines a thousand requests never
//! makes the server hold a thousand responses (or open files) at once.
//!
//! **Bodies.** This server serves files, so a body on a request is never *used*, but it must
//! never be read as the next request either. A body of up to [`MAX_DISCARD`] bytes with a
//! `Content-Length` is read and thrown away; a larger one gets 413, a chunked one 411, and a
//! body announced with `Expect: 100-continue` (which the client may never send) closes the
//! connection after the answer — in each case the connection is closed, because the server no
//! longer knows where the next request would start.
//!
//! **The pitfall.** A server that answers a request and then parses its body as the next
//! request can be made to answer requests nobody sent (the smuggling of [`crate::framing`]).

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::SystemTime;

use crate::access_log;
use crate::framing::BodyLength;
use crate::request::{HeadParser, Progress, RequestHead};
use crate::resolve::Root;
use crate::response::{Reply, Response, respond};
use crate::status::Status;

/// The largest request body read and discarded; a larger one gets 413 and the connection closed.
pub const MAX_DISCARD: u64 = 64 * 1024;

/// What answers one complete request: [`respond`] unless a caller wants otherwise (a test
/// server with one deliberate fault, a backend with a status page).
pub type Planner = fn(&Root, &RequestHead, &Reply) -> Response;

/// What the driver should do next.
#[derive(Debug)]
pub enum Next {
    /// Send this response; then, if `close` is set, close the connection.
    Send(Response),
    /// Nothing to answer until more bytes arrive.
    NeedInput,
    /// The conversation is over: close the connection.
    Done,
}

/// The state of one connection (see the module docs).
#[derive(Debug)]
pub struct Session {
    root: Arc<Root>,
    planner: Planner,
    parser: HeadParser,
    /// Bytes received but not yet given to the parser (the start of pipelined requests).
    input: Vec<u8>,
    /// Body bytes still to be thrown away before the next request begins.
    discard: u64,
    /// Set once a response that closes the connection has been handed out.
    finished: bool,
    /// The client, when each response is written to the [access log](crate::access_log).
    logged_for: Option<IpAddr>,
    /// This connection's place in a server's count of open connections, given back on drop.
    _ticket: Option<Ticket>,
}

/// One open connection counted against a server's bound: the count goes down when the ticket
/// (kept in the connection's session) is dropped, however the connection ends.
#[derive(Debug)]
pub struct Ticket(Arc<AtomicUsize>);

impl Ticket {
    /// Counts one more open connection in `open`.
    pub fn take(open: &Arc<AtomicUsize>) -> Ticket {
        open.fetch_add(1, Ordering::Relaxed);
        Ticket(Arc::clone(open))
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Session {
    /// A new connection's session, serving files beneath `root`.
    pub fn new(root: Arc<Root>) -> Session {
        Session::with_planner(root, respond)
    }

    /// A session whose requests are answered by `planner` instead of [`respond`].
    pub fn with_planner(root: Arc<Root>, planner: Planner) -> Session {
        Session {
            root,
            planner,
            parser: HeadParser::new(),
            input: Vec::new(),
            discard: 0,
            finished: false,
            logged_for: None,
            _ticket: None,
        }
    }

    /// The same session, holding `ticket` until the connection ends.
    pub fn counted(mut self, ticket: Ticket) -> Session {
        self._ticket = Some(ticket);
        self
    }

    /// The same session, writing an access-log line for each response it hands out.
    pub fn logged_for(mut self, client: IpAddr) -> Session {
        self.logged_for = Some(client);
        self
    }

    /// Writes the access-log line of `response`, if this session logs.
    fn log(&self, request: Option<&RequestHead>, response: &Response, now: SystemTime) {
        if let Some(client) = self.logged_for {
            access_log::write(&access_log::line(client, request, response, now));
        }
    }

    /// Takes bytes read from the connection.
    pub fn receive(&mut self, bytes: &[u8]) {
        self.input.extend_from_slice(bytes);
    }

    /// True while a request is under way (part of a head or of a body has arrived): a timeout
    /// now earns a 408; between requests it just closes an idle connection.
    pub fn mid_request(&self) -> bool {
        self.parser.started() || self.discard > 0 || !self.input.is_empty()
    }

    /// True once the connection should close (after sending what `next` handed out).
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// The next thing to do; `now` dates the response.
    pub fn next(&mut self, now: SystemTime) -> Next {
        if self.finished {
            return Next::Done;
        }
        let skipped = self.discard.min(self.input.len() as u64);
        self.input.drain(..skipped as usize);
        self.discard -= skipped;
        if self.discard > 0 {
            return Next::NeedInput;
        }
        match self.parser.feed(&self.input) {
            Ok(Progress::NeedMore) => {
                self.input.clear();
                Next::NeedInput
            }
            Ok(Progress::Complete { head, used }) => {
                self.input.drain(..used);
                self.parser = HeadParser::new();
                let response = self.answer(&head, now);
                self.finished = response.close;
                self.log(Some(&head), &response, now);
                Next::Send(response)
            }
            Err(error) => {
                self.finished = true;
                let reply = Reply::closing(now);
                let response = reply.error(error.status, error.reason, vec![]);
                self.log(None, &response, now);
                Next::Send(response)
            }
        }
    }

    /// The driver's timeout fired: a 408 if a request was under way, else nothing; either way
    /// the conversation is over.
    pub fn timed_out(&mut self, now: SystemTime) -> Option<Response> {
        let mid_request = self.mid_request();
        self.finished = true;
        let response = mid_request.then(|| {
            let reply = Reply::closing(now);
            reply.error(
                Status::RequestTimeout,
                "the request did not arrive in time",
                vec![],
            )
        });
        if let Some(response) = &response {
            self.log(None, response, now);
        }
        response
    }

    /// Answers a complete head, deciding what happens to its body first.
    fn answer(&mut self, head: &RequestHead, now: SystemTime) -> Response {
        let mut reply = Reply::to(head, now);
        let expects_continue = head
            .field("expect")
            .is_some_and(|v| v.eq_ignore_ascii_case(b"100-continue"));
        let refusal = match head.body {
            BodyLength::None => None,
            BodyLength::Chunked => Some((Status::LengthRequired, "a chunked request body")),
            BodyLength::Bytes(n) if n > MAX_DISCARD => {
                Some((Status::ContentTooLarge, "a request body over 64 KiB"))
            }
            BodyLength::Bytes(_) if expects_continue => {
                // The client waits for a go-ahead that never comes: it may or may not send the
                // body, so nothing after this answer can be trusted to be a request.
                reply.close = true;
                None
            }
            BodyLength::Bytes(n) => {
                self.discard = n;
                None
            }
        };
        match refusal {
            Some((status, reason)) => {
                reply.close = true;
                reply.error(status, reason, vec![])
            }
            None => (self.planner)(&self.root, head, &reply),
        }
    }
}
