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
//! The loop — enter the ring, reap, dispatch each completion by its `user_data` — is
//! [`serve`]'s, shared with the HTTP server's `uring` backend; this file is what echo does with
//! a client and with each completion. One `io_uring_enter` per turn both submits everything the previous turn queued (the replies
//! to a hundred clients go in one call) and waits for the next completions: that is the
//! batching. A submission queue that fills up in the middle of a turn is submitted to make
//! room (`Ring::push`), never a panic.
//!
//! **Stopping** watches [`Stop::fd`] with a `POLL_ADD` that is in flight from the start, so it
//! allocates nothing at stop time. Its completion starts the shutdown: the multishot accept is
//! cancelled and, since an echo connection is always idle (nothing it owes a client outlives
//! the next receive), every connection's operations too (`ASYNC_CANCEL`). The loop goes on
//! reaping until the ring has nothing in flight — each cancelled operation still completes,
//! with `-ECANCELED` — and only then returns and frees the buffers. A loop that returned at
//! once would free buffers the kernel may still write into.

use std::io;
use std::net::{TcpListener, TcpStream};

use netkit::{Slab, Stop};

use super::conn::Conn;
use super::listen::cancel_socket;
use super::op::Op;
use super::ring::{Completion, Ring, Stats};
use super::serve::{Protocol, abandon, serve};

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
    let mut echo = EchoLoop {
        ring: Ring::new(config.entries)?,
        conns: Slab::new(),
    };
    serve(listener, stop, "uring", &mut echo)?;
    Ok(echo.ring.stats())
}

/// The ring and every connection under its key; the loop is [`serve`]'s.
struct EchoLoop {
    ring: Ring,
    conns: Slab<Conn>,
}

impl Protocol for EchoLoop {
    fn ring(&mut self) -> &mut Ring {
        &mut self.ring
    }

    fn next_turn(&mut self) {
        self.conns.next_turn();
    }

    fn adopt(&mut self, stream: TcpStream) -> io::Result<()> {
        let key = self.conns.insert(Conn::new(stream));
        self.submit_next(key)
    }

    fn complete(&mut self, key: usize, op: Op, completion: Completion) -> io::Result<()> {
        self.complete_echo(key, op, completion)
    }

    /// An echo connection is always idle: every one is closed at once.
    fn close_idle(&mut self) -> io::Result<usize> {
        self.begin_shutdown().map(|()| 0)
    }

    fn cut(&mut self) -> io::Result<()> {
        self.begin_shutdown()
    }
}

impl EchoLoop {
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
    fn complete_echo(&mut self, key: usize, op: Op, completion: Completion) -> io::Result<()> {
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

    /// The stop arrived: cancel every connection's operations (the accept's cancellation is
    /// out), submit nothing new. The loop ends when the last cancelled operation has completed.
    fn begin_shutdown(&mut self) -> io::Result<()> {
        for key in self.conns.keys() {
            let conn = self.conns.get_mut(key).expect("a key just listed");
            if conn.closing {
                continue; // cancelled already
            }
            conn.closing = true;
            conn.in_flight += 1;
            cancel_socket(&mut self.ring, conn.fd(), key)?;
        }
        Ok(())
    }
}

impl Drop for EchoLoop {
    /// After an error: the connections are leaked while anything is in flight (see [`abandon`]).
    fn drop(&mut self) {
        abandon(&self.ring, &mut self.conns, |conn| conn.in_flight = 0);
    }
}
