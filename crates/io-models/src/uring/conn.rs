//! One echo connection of the completion loop: its socket, the buffer the kernel receives into
//! and sends from, and how many operations naming it are in flight.
//!
//! **The buffer-ownership rule.** From the moment a receive is submitted until its completion
//! is reaped, the kernel may write into the buffer; for a send, read from it. So the buffer
//! cannot live on the stack of the function that submitted (that function returns long before
//! the completion), and it cannot be freed, moved or reused while an operation on it is in
//! flight. It lives here, in the connection, on the heap (a `Box` never moves its contents),
//! and the connection is freed only when [`Conn::in_flight`] is zero. A connection dropped too
//! soon leaks its buffer rather than free memory under the kernel, and panics to say so.
//!
//! **Back-pressure for free.** One buffer, one operation at a time: receive, send it all back
//! (re-submitting the rest after a short send), receive again. A client that never reads makes
//! its send wait in the kernel, so nothing more is received from it: its memory here is one
//! buffer, however much it sends.

use std::io;
use std::net::{Shutdown, TcpStream};
use std::os::fd::AsRawFd;

use io_uring::{opcode, squeue, types};
use netkit::conn::log_broken;

use super::op::Op;

/// The size of a connection's buffer: the most it holds, however much its peer sends.
pub const BUFFER: usize = 16 * 1024;

/// A connection's state between completions.
#[derive(Debug)]
pub struct Conn {
    stream: TcpStream,
    /// What the kernel receives into and sends from: owned here, never moved while in flight.
    buf: Box<[u8]>,
    /// `buf[sent..filled]` is received and not yet sent back.
    filled: usize,
    sent: usize,
    /// Operations submitted that name this connection and have not completed: its receive or
    /// send, and at shutdown its cancellation. Freeing the connection is safe only at zero.
    pub in_flight: u32,
    /// Nothing new will be submitted: the peer is done, the connection broke, or the server
    /// stops. Freed once nothing is in flight.
    pub closing: bool,
}

impl Conn {
    /// A connection with an empty buffer and nothing in flight.
    pub fn new(stream: TcpStream) -> Conn {
        Conn {
            stream,
            buf: vec![0; BUFFER].into_boxed_slice(),
            filled: 0,
            sent: 0,
            in_flight: 0,
            closing: false,
        }
    }

    /// The socket's descriptor, for submissions about it.
    pub fn fd(&self) -> types::Fd {
        types::Fd(self.stream.as_raw_fd())
    }

    /// The operation to submit next: send what waits, else receive. The entry points into
    /// `self.buf`; the caller submits it with `key` in its `user_data` and counts it in flight.
    pub fn next_op(&mut self, key: usize) -> squeue::Entry {
        if self.sent < self.filled {
            let unsent = &self.buf[self.sent..self.filled];
            // MSG_NOSIGNAL: a peer that reset gives EPIPE in the completion, not a SIGPIPE.
            opcode::Send::new(self.fd(), unsent.as_ptr(), unsent.len() as u32)
                .flags(libc::MSG_NOSIGNAL)
                .build()
                .user_data(Op::Send(key).user_data())
        } else {
            let len = self.buf.len() as u32;
            opcode::Recv::new(self.fd(), self.buf.as_mut_ptr(), len)
                .build()
                .user_data(Op::Recv(key).user_data())
        }
    }

    /// A receive completed: `n` bytes to echo, or the peer's FIN (0), or an error.
    pub fn on_received(&mut self, result: io::Result<u32>) {
        match result {
            Ok(0) => {
                // Everything received was sent back (one operation at a time): close our side.
                let _ = self.stream.shutdown(Shutdown::Write);
                self.closing = true;
            }
            Ok(n) => {
                self.filled = n as usize;
                self.sent = 0;
            }
            Err(e) => self.broke(&e),
        }
    }

    /// A send completed: `n` bytes went out — maybe fewer than asked (a short send: the rest is
    /// submitted next), or an error.
    pub fn on_sent(&mut self, result: io::Result<u32>) {
        match result {
            Ok(0) => self.broke(&io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                self.sent += n as usize;
                if self.sent == self.filled {
                    (self.sent, self.filled) = (0, 0);
                }
            }
            Err(e) => self.broke(&e),
        }
    }

    fn broke(&mut self, e: &io::Error) {
        if e.raw_os_error() != Some(libc::ECANCELED) {
            log_broken("uring", e);
        }
        self.closing = true;
    }
}

impl Drop for Conn {
    /// The safety net of the ownership rule: a connection freed with an operation in flight
    /// leaks its buffer (the kernel may still write into it) and panics to say so.
    fn drop(&mut self) {
        if self.in_flight > 0 {
            std::mem::forget(std::mem::take(&mut self.buf));
            if !std::thread::panicking() {
                panic!(
                    "uring: a connection was freed with {} operation(s) in flight; its buffer \
                     is leaked, since the kernel may still use it",
                    self.in_flight
                );
            }
        }
    }
}
