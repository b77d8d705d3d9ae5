//! The listening side of an io_uring server, the same whatever the protocol: the multishot
//! accept, the poll on the stop descriptor, and at stop the accept's cancellation.
//!
//! ```text
//!   in flight from the start:  ACCEPT (multishot) on the listener      — one completion per client
//!                              POLL_ADD(POLLIN) on the stop descriptor — completes once: stop
//!   at stop:                   ASYNC_CANCEL of the accept; the listener is closed
//! ```
//!
//! The loop of every protocol (`serve`) keeps one of these, and hands it the completions tagged
//! [`Op::Accept`] and [`Op::Stop`]. What happens to the connections at the stop is the drain's
//! (`drain`).
//!
//! The pitfall is the multishot accept's end: a completion without `IORING_CQE_F_MORE` means
//! the kernel disarmed it (an error, or a full completion queue), and a server that does not
//! re-arm it silently stops accepting.

use std::io;
use std::net::{TcpListener, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, RawFd};

use io_uring::opcode::{AcceptMulti, AsyncCancel, AsyncCancel2, PollAdd};
use io_uring::types::{CancelBuilder, Fd};
use netkit::Stop;
use netkit::accept::{Acceptor, is_out_of_descriptors};

use super::op::Op;
use super::ring::{Completion, Ring};

/// The listener of a completion loop.
#[derive(Debug)]
pub struct Listening {
    /// The listener and its reserve descriptor; `None` once the stop arrived (closed, so a
    /// newcomer is refused at once).
    acceptor: Option<Acceptor>,
}

impl Listening {
    /// Makes `listener` ready for the multishot accept (non-blocking, with the acceptor's
    /// reserve descriptor for `EMFILE`).
    pub fn new(listener: TcpListener) -> io::Result<Listening> {
        Ok(Listening {
            acceptor: Some(Acceptor::new(listener)?),
        })
    }

    /// Pushes the two operations in flight from the start: the multishot accept and the poll
    /// on `stop`'s descriptor, which allocates nothing when the stop comes.
    pub fn arm(&mut self, ring: &mut Ring, stop: &Stop) -> io::Result<()> {
        self.arm_accept(ring)?;
        let watch = PollAdd::new(Fd(stop.fd().as_raw_fd()), libc::POLLIN as u32);
        // SAFETY: a poll carries no buffer; the kernel holds its own reference to the file.
        unsafe { ring.push(&watch.build().user_data(Op::Stop.user_data())) }
    }

    fn arm_accept(&mut self, ring: &mut Ring) -> io::Result<()> {
        let Some(acceptor) = &self.acceptor else {
            return Ok(()); // stopping: nothing more is accepted
        };
        let accept = AcceptMulti::new(Fd(acceptor.listener().as_raw_fd())).build();
        // SAFETY: a multishot accept carries no buffer (no peer address is asked for).
        unsafe { ring.push(&accept.user_data(Op::Accept.user_data())) }
    }

    /// An [`Op::Accept`] completion: the connections to adopt (none while stopping: dropping
    /// them closes them). Out of descriptors, the acceptor's reserve makes room to accept and
    /// close the waiting client; a multishot accept that ended is re-armed.
    pub fn on_accept(
        &mut self,
        ring: &mut Ring,
        completion: Completion,
    ) -> io::Result<Vec<TcpStream>> {
        let mut accepted = Vec::new();
        match completion.into_result() {
            Ok(fd) => {
                // SAFETY: the kernel just made this descriptor for us; nothing else owns it.
                accepted.push(unsafe { TcpStream::from_raw_fd(fd as RawFd) });
            }
            Err(e) if is_out_of_descriptors(&e) => {
                if let Some(acceptor) = &mut self.acceptor {
                    acceptor.accept_all(|stream, _peer| {
                        accepted.push(stream);
                        Ok(())
                    })?;
                }
            }
            Err(e) if is_transient(&e) => {}
            Err(e) => return Err(e),
        }
        if self.acceptor.is_none() {
            accepted.clear(); // accepted just before the stop: closed
        } else if !completion.more {
            self.arm_accept(ring)?; // the multishot accept ended: one more
        }
        Ok(accepted)
    }

    /// The [`Op::Stop`] completion: cancels the accept and closes the listener. (The accept in
    /// flight holds the kernel's own reference to the listening socket, so the socket closes
    /// when the cancellation completes, one `io_uring_enter` later.)
    pub fn stop(&mut self, ring: &mut Ring) -> io::Result<()> {
        self.acceptor = None;
        cancel_own(ring, Op::Accept)
    }
}

/// Pushes the cancellation of `op`, one of the loop's own operations; it completes as
/// [`Op::CancelLoop`] (with `-ENOENT` if `op` had completed already).
pub fn cancel_own(ring: &mut Ring, op: Op) -> io::Result<()> {
    let cancel = AsyncCancel::new(op.user_data()).build();
    // SAFETY: a cancellation carries no buffer.
    unsafe { ring.push(&cancel.user_data(Op::CancelLoop.user_data())) }
}

/// Pushes the cancellation of every operation in flight on `fd`, the socket of connection
/// `key`; the cancellation itself completes as [`Op::Cancel`]`(key)`, so the caller counts it
/// in flight on the connection.
pub fn cancel_socket(ring: &mut Ring, fd: Fd, key: usize) -> io::Result<()> {
    let cancel = AsyncCancel2::new(CancelBuilder::fd(fd).all()).build();
    // SAFETY: a cancellation carries no buffer.
    unsafe { ring.push(&cancel.user_data(Op::Cancel(key).user_data())) }
}

/// Accept errors that concern one connection, or none: skip them.
fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::ECANCELED | libc::ECONNABORTED | libc::EINTR | libc::EAGAIN)
    )
}
