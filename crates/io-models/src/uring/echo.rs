//! The echo server on io_uring: every accept, receive and send is a submission tagged with what
//! it is and whose, and every one of them ends in a completion.
//!
//! ```text
//!   in flight, always:  ACCEPT (multishot) on the listener   — one completion per client
//!                       POLL_ADD(POLLIN) on the stop descriptor — completes once: stop
//!   per connection:     RECV into its buffer ─▶ SEND from it (again after a short send) ─▶ RECV …
//!
//!   loop: io_uring_enter(submit everything queued, wait for ≥ 1 completion)
//!         for each completion: user_data ─▶ (operation, connection) ─▶ next submission
//! ```
//!
//! One `io_uring_enter` per turn both submits everything the previous turn queued (the replies
//! to a hundred clients go in one call) and waits for the next completions: that is the
//! batching. A submission queue that fills up in the middle of a turn is submitted to make
//! room (`Ring::push`), never a panic.
//!
//! **Stopping** watches [`Stop::fd`] with a `POLL_ADD` that is in flight from the start, so it
//! allocates nothing at stop time. Its completion starts the shutdown: the multishot accept and
//! every connection's operations are cancelled (`ASYNC_CANCEL`), the loop goes on reaping until
//! the ring has nothing in flight — each cancelled operation still completes, with
//! `-ECANCELED` — and only then returns and frees the buffers. A loop that returned at once
//! would free buffers the kernel may still write into.

use std::io;
use std::net::{TcpListener, TcpStream};

use netkit::{Slab, Stop};

use super::conn::Conn;
use super::listen::{Listening, cancel_socket};
use super::op::Op;
use super::ring::{Completion, Ring, Stats};

/// How the echo loop sets up its ring.
#[derive(Debug, Clone, Copy)]
pub struct Config {
    /// Submission queue slots. Small values are legal, only slower: a full queue is submitted.
    pub entries: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config { entries: 256 }
    }
}

/// Serves echo to every client from one thread with io_uring until `stop` is requested.
pub fn run(listener: TcpListener, stop: &Stop) -> io::Result<()> {
    run_configured(listener, stop, Config::default()).map(drop)
}

/// [`run`] with a chosen ring size; returns what the ring did, once nothing is in flight.
pub fn run_configured(listener: TcpListener, stop: &Stop, config: Config) -> io::Result<Stats> {
    let mut server = EchoLoop::new(listener, config)?;
    server.listening.arm(&mut server.ring, stop)?;
    let mut completions = Vec::new();
    while server.ring.in_flight() > 0 {
        server.conns.next_turn();
        server.ring.submit(1)?;
        server.ring.reap(&mut completions);
        for completion in completions.drain(..) {
            server.dispatch(completion)?;
        }
    }
    Ok(server.ring.stats())
}

/// The ring, the listener, and every connection under its key.
struct EchoLoop {
    ring: Ring,
    listening: Listening,
    conns: Slab<Conn>,
}

impl EchoLoop {
    fn new(listener: TcpListener, config: Config) -> io::Result<EchoLoop> {
        Ok(EchoLoop {
            ring: Ring::new(config.entries)?,
            listening: Listening::new(listener)?,
            conns: Slab::new(),
        })
    }

    /// What a completion is about, from its `user_data`, and what follows from it.
    fn dispatch(&mut self, completion: Completion) -> io::Result<()> {
        match Op::from_user_data(completion.user_data) {
            Some(Op::Accept) => {
                let accepted = self.listening.on_accept(&mut self.ring, completion)?;
                accepted.into_iter().try_for_each(|s| self.adopt(s))
            }
            Some(Op::Stop) => self.begin_shutdown(),
            Some(Op::CancelAccept) => Ok(()),
            Some(op @ (Op::Recv(key) | Op::Send(key) | Op::Cancel(key))) => {
                self.complete(key, op, completion)
            }
            Some(Op::Read(_) | Op::Timeout(_)) | None => Err(io::Error::other(format!(
                "uring: a completion no submission of this loop asked for (user_data {:#x})",
                completion.user_data
            ))),
        }
    }

    fn adopt(&mut self, stream: TcpStream) -> io::Result<()> {
        let key = self.conns.insert(Conn::new(stream));
        self.submit_next(key)
    }

    /// Submits the connection's next operation and counts it in flight.
    fn submit_next(&mut self, key: usize) -> io::Result<()> {
        let conn = self.conns.get_mut(key).expect("a live connection");
        let entry = conn.next_op(key);
        conn.in_flight += 1;
        // SAFETY: the entry points into `conn`'s boxed buffer, which does not move when the
        // slab does. The connection is freed only when its `in_flight` is back to zero, that
        // is after this operation's completion — and `Conn`'s drop leaks the buffer otherwise.
        unsafe { self.ring.push(&entry) }
    }

    /// An operation naming connection `key` completed: count it, let the connection act on the
    /// result, then free the connection or submit its next operation.
    fn complete(&mut self, key: usize, op: Op, completion: Completion) -> io::Result<()> {
        let Some(conn) = self.conns.get_mut(key) else {
            return Err(io::Error::other(format!(
                "uring: a completion ({op:?}) for a connection already freed"
            )));
        };
        // BEGIN SOLUTION: io-uring-in-flight
        conn.in_flight -= 1;
        let result = completion.into_result();
        match op {
            Op::Recv(_) => conn.on_received(result),
            Op::Send(_) => conn.on_sent(result),
            _ => {} // a cancellation: only counted
        }
        if !conn.closing {
            return self.submit_next(key);
        }
        // At shutdown a cancelled receive and its cancellation both complete, in either order:
        // the buffer may be freed after the last of them, not the first.
        if conn.in_flight == 0 {
            self.conns.remove(key);
        }
        Ok(())
        // END SOLUTION
    }

    /// The stop arrived: cancel the accept and every connection's operations, submit nothing
    /// new. The loop ends when the last cancelled operation has completed.
    fn begin_shutdown(&mut self) -> io::Result<()> {
        self.listening.stop(&mut self.ring)?;
        for key in self.conns.keys() {
            let conn = self.conns.get_mut(key).expect("a key just listed");
            conn.closing = true;
            conn.in_flight += 1;
            cancel_socket(&mut self.ring, conn.fd(), key)?;
        }
        Ok(())
    }
}

impl Drop for EchoLoop {
    /// An error ended the loop with operations in flight: their buffers must not be freed (the
    /// kernel may still use them), so the connections are leaked; closing the ring cancels the
    /// operations. With nothing in flight on the ring no buffer is the kernel's, whatever a
    /// connection still counts (the error may have left completions unhandled): they are freed.
    fn drop(&mut self) {
        if self.ring.in_flight() > 0 {
            std::mem::forget(std::mem::take(&mut self.conns));
            return;
        }
        for key in self.conns.keys() {
            if let Some(conn) = self.conns.get_mut(key) {
                conn.in_flight = 0;
            }
        }
    }
}
