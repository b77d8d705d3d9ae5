//! The `uring` backend: the same [`Session`](crate::session::Session), driven by completions.
//!
//! **What.** Every other event-loop backend hands io-models' loops an
//! [`HttpConn`](crate::nonblocking::HttpConn), a [`netkit::Connection`] that reads and writes
//! when the loop says the socket is *ready*. io_uring is completion-shaped: the program submits
//! the receive, the send, the file read, and is told when each is *done*. So this backend is
//! a [`Protocol`] of io-models' completion loop ([`serve`]: the multishot accept, the stop poll
//! and its cancellations, one `io_uring_enter` per turn, dispatch by `user_data`), on its
//! [`Ring`] (a full submission queue is submitted, not panicked on) and [`Op`] tags, with a
//! connection type of its own, [`conn::UringConn`], that owns its buffers and counts what is in
//! flight.
//!
//! ```text
//!   loop: io_uring_enter(submit everything queued, wait for ≥ 1 completion)
//!         for each completion: user_data ─▶ accept | stop | (operation, connection)
//!                              the connection acts on the result and submits what follows
//! ```
//!
//! **The body: file reads into the connection's buffer, then sends.** A file is read with
//! `IORING_OP_READ` into the connection's output buffer, right behind the head, and sent from
//! there: a small file goes out with its head in one send. The read is itself a completion —
//! a file that is not in the page cache does not stall the loop, which no readiness model can
//! say (`epoll` always calls a file ready). The cost is one copy through this process, which
//! `sendfile` avoids: it shows on large files. Not `splice` (file → pipe → socket): it needs a
//! pipe, two more descriptors, per connection (30,000 at 10,000 connections), and io_uring hands
//! every splice to a kernel worker thread. Not registered buffers: they save the kernel pinning
//! a buffer per operation, a gain for large direct IO, at the price of a shared buffer pool.
//!
//! **Bounds**, as in every model: [`Site::max_connections`](crate::Site) with the same 503
//! (the session of [`Serving`] decides), the header, idle, write and linger deadlines on one
//! `IORING_OP_TIMEOUT` per connection, and one socket operation at a time per connection, so a
//! client that never reads holds two fixed buffers, however much it sends.
//!
//! **The pitfall** is the one of the io-models lesson: a buffer the kernel may still write is
//! freed only after its completion. A connection that finishes cancels its receive or send and
//! removes its timer, and is freed when nothing naming it is in flight; at stop every connection
//! does that, and the loop returns only when the ring has nothing in flight.

pub mod conn;

use std::io;
use std::net::{TcpListener, TcpStream};

use io_models::uring::{Completion, Op, Protocol, Ring, abandon, serve};
use netkit::{Slab, Stop};

use crate::backends::Serving;
use conn::UringConn;

/// Submission queue slots: a full queue is submitted to make room, so this is speed, not a bound.
const ENTRIES: u32 = 1024;

/// Serves `serving`'s site on `listener` from one thread with io_uring until `stop`; then
/// drains (the idle closed, the busy served on for at most the grace period) and returns once
/// nothing is in flight.
pub fn run(listener: TcpListener, stop: &Stop, serving: &Serving) -> io::Result<()> {
    let mut http = HttpLoop {
        ring: Ring::new(ENTRIES)?,
        conns: Slab::new(),
        serving,
    };
    serve(listener, stop, "uring", &mut http)
}

/// The ring and every connection under its key; the loop is io-models' [`serve`].
struct HttpLoop<'a> {
    ring: Ring,
    conns: Slab<UringConn>,
    serving: &'a Serving,
}

impl Protocol for HttpLoop<'_> {
    fn ring(&mut self) -> &mut Ring {
        &mut self.ring
    }

    fn next_turn(&mut self) {
        self.conns.next_turn();
    }

    /// A new client: its session (counted, logged, or a 503 over the bound), its first
    /// receive and its timer.
    fn adopt(&mut self, stream: TcpStream) -> io::Result<()> {
        let session = self.serving.session(&stream);
        let conn = match UringConn::new(stream, session, self.serving.limits()) {
            Ok(conn) => conn,
            Err(e) => {
                eprintln!("uring: cannot set up a new connection: {e}; closed it");
                return Ok(());
            }
        };
        let key = self.conns.insert(conn);
        let conn = self.conns.get_mut(key).expect("just inserted");
        conn.advance(key, &mut self.ring)
    }

    /// The connection acts on the completion; a finished one with nothing in flight is freed.
    fn complete(&mut self, key: usize, op: Op, completion: Completion) -> io::Result<()> {
        let Some(conn) = self.conns.get_mut(key) else {
            return Err(io::Error::other(format!(
                "uring: a completion ({op:?}) for a connection already freed"
            )));
        };
        conn.complete(key, op, completion.into_result(), &mut self.ring)?;
        if conn.is_done() {
            self.conns.remove(key);
        }
        Ok(())
    }

    /// Stopping: a connection waiting between requests is closed (its receive cancelled, its
    /// timer removed); one with a response or a request under way is busy, and served on.
    fn close_idle(&mut self) -> io::Result<usize> {
        let mut busy = 0;
        for key in self.conns.keys() {
            let conn = self.conns.get_mut(key).expect("a key just listed");
            if conn.is_idle() {
                self.finish(key)?;
            } else if !conn.is_finished() {
                busy += 1;
            }
        }
        Ok(busy)
    }

    /// Every connection cancels what it has in flight and removes its timer.
    fn cut(&mut self) -> io::Result<()> {
        (self.conns.keys().into_iter()).try_for_each(|key| self.finish(key))
    }
}

impl HttpLoop<'_> {
    /// Connection `key` finishes now: it cancels what it has in flight and removes its timer,
    /// and is freed at once when nothing naming it is in flight.
    fn finish(&mut self, key: usize) -> io::Result<()> {
        let conn = self.conns.get_mut(key).expect("a live key");
        conn.stop(key, &mut self.ring)?;
        if conn.is_done() {
            self.conns.remove(key);
        }
        Ok(())
    }
}

impl Drop for HttpLoop<'_> {
    /// After an error: the connections are leaked while anything is in flight (see [`abandon`]).
    fn drop(&mut self) {
        abandon(&self.ring, &mut self.conns, UringConn::release);
    }
}
