//! The listening side of an io_uring server, the same whatever the protocol: the multishot
//! accept, the poll on the stop descriptor, and at stop the accept's cancellation.
//!
//! ```text
//!   in flight from the start:  ACCEPT (multishot) on the listener      — one completion per client
//!                              POLL_ADD(POLLIN) on the stop descriptor — completes once: stop
//!   at stop:                   ASYNC_CANCEL of the accept; the listener is closed at its end
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
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, RawFd};

use io_uring::opcode::{AcceptMulti, AsyncCancel, AsyncCancel2, PollAdd};
use io_uring::types::{CancelBuilder, Fd};
use netkit::Stop;
use netkit::accept::{Acceptor, is_out_of_descriptors};

use super::op::Op;
use super::ring::{Completion, Ring};

/// The listener of a completion loop.
#[derive(Debug)]
pub struct Listening {
    /// The listener and its reserve descriptor; `None` once the accept's last completion after
    /// the stop has come in (the listener is closed then: a newcomer is refused).
    acceptor: Option<Acceptor>,
    /// The stop arrived: the accept is being cancelled, nothing more is accepted.
    stopping: bool,
}

impl Listening {
    /// Makes `listener` ready for the multishot accept (non-blocking, with the acceptor's
    /// reserve descriptor for `EMFILE`).
    pub fn new(listener: TcpListener) -> io::Result<Listening> {
        Ok(Listening {
            acceptor: Some(Acceptor::new(listener)?),
            stopping: false,
        })
    }

    /// Pushes the two operations in flight from the start: the multishot accept and the poll
    /// on `stop`'s descriptor, which allocates nothing when the stop comes.
    pub fn arm(&mut self, ring: &mut Ring, stop: &Stop) -> io::Result<()> {
        self.arm_accept(ring)?;
        watch(ring, stop.fd(), Op::Stop)
    }

    fn arm_accept(&mut self, ring: &mut Ring) -> io::Result<()> {
        let Some(acceptor) = &self.acceptor else {
            return Ok(()); // the listener is closed
        };
        let accept = AcceptMulti::new(Fd(acceptor.listener().as_raw_fd())).build();
        // SAFETY: a multishot accept carries no buffer (no peer address is asked for).
        unsafe { ring.push(&accept.user_data(Op::Accept.user_data())) }
    }

    /// An [`Op::Accept`] completion: the connections to adopt. Out of descriptors, the
    /// acceptor's reserve makes room to accept and close the waiting client; a multishot accept
    /// that ended is re-armed. While stopping, nothing is adopted (a client accepted just
    /// before the stop is closed), no error ends the server, and the accept's last completion
    /// closes the listener.
    pub fn on_accept(
        &mut self,
        ring: &mut Ring,
        completion: Completion,
    ) -> io::Result<Vec<TcpStream>> {
        let mut accepted = Vec::new();
        let result = completion.into_result();
        if let Ok(fd) = result {
            // SAFETY: the kernel just made this descriptor for us; nothing else owns it.
            accepted.push(unsafe { TcpStream::from_raw_fd(fd as RawFd) });
        }
        if self.stopping {
            // The pitfall: a re-arm queued in this turn before the stop's completion was
            // handled still names the listener's descriptor, so the listener is closed only
            // when the kernel says the accept is over — never while an entry may name it.
            if !completion.more {
                self.acceptor = None;
            }
            return Ok(Vec::new()); // dropping what was accepted closes it
        }
        match result {
            Ok(_) => {}
            Err(e) if is_out_of_descriptors(&e) => {
                let acceptor = self.acceptor.as_mut().expect("open until the stop");
                acceptor.accept_all(|stream, _peer| {
                    accepted.push(stream);
                    Ok(())
                })?;
            }
            Err(e) if is_transient(&e) => {}
            Err(e) => return Err(e),
        }
        if !completion.more {
            self.arm_accept(ring)?; // the multishot accept ended: one more
        }
        Ok(accepted)
    }

    /// The [`Op::Stop`] completion: cancels the accept. The listener is closed when the
    /// accept's last completion arrives (its cancellation's `-ECANCELED`, one `io_uring_enter`
    /// later); until then the kernel's accept still holds the listening socket, so a client
    /// that connects in that window is accepted and closed rather than refused.
    pub fn stop(&mut self, ring: &mut Ring) -> io::Result<()> {
        self.stopping = true;
        cancel_own(ring, Op::Accept)
    }
}

/// Pushes a `POLL_ADD(POLLIN)` on `fd` tagged `op`: one of the loop's own operations, which
/// completes once `fd` is readable (the stop's descriptor, or the force descriptor).
pub fn watch(ring: &mut Ring, fd: BorrowedFd<'_>, op: Op) -> io::Result<()> {
    let poll = PollAdd::new(Fd(fd.as_raw_fd()), libc::POLLIN as u32);
    // SAFETY: a poll carries no buffer; the kernel holds its own reference to the file.
    unsafe { ring.push(&poll.build().user_data(op.user_data())) }
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

#[cfg(test)]
mod tests {
    use std::io::ErrorKind;
    use std::net::{TcpListener, TcpStream};

    use netkit::Stop;

    use super::{Listening, cancel_own};
    use crate::uring::{Op, Ring};

    /// Handles `ring`'s completions as the loop would until nothing is in flight: the accept's
    /// go to `listening`, whose errors end the test.
    fn run_out(ring: &mut Ring, listening: &mut Listening) {
        let mut completions = Vec::new();
        for _turn in 0..16 {
            if ring.in_flight() == 0 {
                return;
            }
            ring.submit(1).unwrap();
            ring.reap(&mut completions);
            for completion in completions.drain(..) {
                if Op::from_user_data(completion.user_data) == Some(Op::Accept) {
                    let accepted = listening.on_accept(ring, completion).unwrap();
                    assert!(accepted.is_empty(), "nobody connected");
                }
            }
        }
        panic!("still {} operation(s) in flight", ring.in_flight());
    }

    /// A multishot accept that ends (any error ends one) is re-armed: an entry queued for the
    /// next `io_uring_enter`, naming the listener's descriptor. A stop handled in the same turn
    /// must not close that descriptor under the queued entry (the accept would fail with
    /// `EBADF`, or name whatever file took the number, and end the server).
    #[test]
    fn a_stop_right_after_a_re_arm_closes_the_listener_only_once_the_accept_is_over() {
        if !crate::uring::works_or_skip() {
            return;
        }
        let mut ring = Ring::new(8).unwrap();
        let stop = Stop::new().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let mut listening = Listening::new(listener).unwrap();
        listening.arm(&mut ring, &stop).unwrap();
        // End the multishot accept for real, and take its last completion.
        cancel_own(&mut ring, Op::Accept).unwrap();
        let mut completions = Vec::new();
        let is_accept =
            |c: &crate::uring::Completion| Op::from_user_data(c.user_data) == Some(Op::Accept);
        while !completions.iter().any(is_accept) {
            ring.submit(1).unwrap();
            ring.reap(&mut completions);
        }
        let ended = completions
            .into_iter()
            .find(is_accept)
            .expect("the accept's last completion");
        assert!(!ended.more);
        // One turn: the ended accept is re-armed (queued), then the stop is handled.
        assert!(listening.on_accept(&mut ring, ended).unwrap().is_empty());
        listening.stop(&mut ring).unwrap();
        stop.stop(); // the stop's own poll completes too
        run_out(&mut ring, &mut listening);
        let refused = TcpStream::connect(addr).expect_err("the listener is closed");
        assert_eq!(refused.kind(), ErrorKind::ConnectionRefused);
    }
}
