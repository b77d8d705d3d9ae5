//! The `uring` backend: the same [`Session`](crate::session::Session), driven by completions.
//!
//! **What.** Every other event-loop backend hands io-models' loops an
//! [`HttpConn`](crate::nonblocking::HttpConn), a [`netkit::Connection`] that reads and writes
//! when the loop says the socket is *ready*. io_uring is completion-shaped: the program submits
//! the receive, the send, the file read, and is told when each is *done*. So this backend is
//! its own loop, built from the pieces of io-models' `uring` lesson — [`Ring`] (submission with
//! a full queue submitted, not panicked on), [`Op`] (`user_data` naming the operation and the
//! connection), [`Listening`] (the multishot accept, the stop poll, their cancellation) — and a
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

use io_models::uring::{Completion, Listening, Op, Ring};
use netkit::{Slab, Stop};

use crate::backends::Serving;
use conn::UringConn;

/// Submission queue slots: a full queue is submitted to make room, so this is speed, not a bound.
const ENTRIES: u32 = 1024;

/// Serves `serving`'s site on `listener` from one thread with io_uring until `stop`, then
/// cancels everything in flight and returns once nothing is.
pub fn run(listener: TcpListener, stop: &Stop, serving: &Serving) -> io::Result<()> {
    let mut server = HttpLoop {
        ring: Ring::new(ENTRIES)?,
        listening: Listening::new(listener)?,
        conns: Slab::new(),
        serving,
    };
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
    Ok(())
}

/// The ring, the listener, and every connection under its key.
struct HttpLoop<'a> {
    ring: Ring,
    listening: Listening,
    conns: Slab<UringConn>,
    serving: &'a Serving,
}

impl HttpLoop<'_> {
    /// What a completion is about, from its `user_data`, and what follows from it.
    fn dispatch(&mut self, completion: Completion) -> io::Result<()> {
        let op = Op::from_user_data(completion.user_data);
        match op {
            Some(Op::Accept) => {
                let accepted = self.listening.on_accept(&mut self.ring, completion)?;
                accepted.into_iter().try_for_each(|s| self.adopt(s))
            }
            Some(Op::Stop) => self.begin_shutdown(),
            Some(Op::CancelAccept) => Ok(()),
            Some(
                op @ (Op::Recv(key)
                | Op::Send(key)
                | Op::Read(key)
                | Op::Timeout(key)
                | Op::Cancel(key)),
            ) => self.complete(key, op, completion),
            None => Err(io::Error::other(format!(
                "uring: a completion no submission asked for (user_data {:#x})",
                completion.user_data
            ))),
        }
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

    /// An operation naming connection `key` completed: the connection acts on it; a finished
    /// one with nothing in flight is freed.
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

    /// The stop arrived: no more accepts, and every connection cancels what it has in flight.
    fn begin_shutdown(&mut self) -> io::Result<()> {
        self.listening.stop(&mut self.ring)?;
        for key in self.conns.keys() {
            let conn = self.conns.get_mut(key).expect("a key just listed");
            conn.stop(key, &mut self.ring)?;
            if conn.is_done() {
                self.conns.remove(key);
            }
        }
        Ok(())
    }
}

impl Drop for HttpLoop<'_> {
    /// An error ended the loop with operations in flight: the connections (and their buffers)
    /// are leaked rather than freed under the kernel; closing the ring cancels the operations.
    fn drop(&mut self) {
        if self.ring.in_flight() > 0 {
            std::mem::forget(std::mem::take(&mut self.conns));
            return;
        }
        for key in self.conns.keys() {
            if let Some(conn) = self.conns.get_mut(key) {
                conn.release();
            }
        }
    }
}
