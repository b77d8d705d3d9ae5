//! The graceful stop of a completion loop: stop accepting, close the idle connections, serve
//! the busy ones to their end — for at most the stop's grace period, or until a second stop.
//!
//! The steps are every event loop's ([`netkit::graceful`]); what differs is how the loop waits
//! for the end of them. A readiness loop sleeps in `epoll_wait` with a timeout and watches the
//! force descriptor. A completion loop waits for nothing but completions, so the second stop and
//! the end of the grace period become operations in flight like the others:
//!
//! ```text
//!   at the stop:          ASYNC_CANCEL of the accept (the listener is closed: `listen`)
//!   every turn, then:     the protocol closes what is idle; the drain is over when nothing is
//!                         busy, the grace period has passed, or the stop was forced
//!   while it is not:      POLL_ADD(POLLIN) on the force descriptor — completes: a second stop
//!                         TIMEOUT at the end of the grace period    — completes: time is up
//!   when it is over:      the protocol cuts what is left; ASYNC_CANCEL of the poll and the timer
//! ```
//!
//! **The pitfall**: the poll and the timer count in flight like any operation, and the loop
//! returns only when nothing is in flight. A drain that ends without cancelling them makes the
//! server wait out the rest of its grace period — and, for the poll, forever.

use std::io;

use io_uring::opcode::Timeout;
use io_uring::types::Timespec;
use netkit::Stop;
use netkit::graceful::Graceful;

use super::listen::{cancel_own, watch};
use super::op::Op;
use super::serve::Protocol;

/// Where a loop is in its stop.
#[derive(Debug)]
pub struct Drain<'s> {
    graceful: Graceful<'s>,
    stop: &'s Stop,
    state: State,
    /// The grace timer's duration, read by the kernel when the timeout is submitted.
    timespec: Box<Timespec>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// No stop yet.
    Serving,
    /// Stopped: busy connections are served on. Which of the force poll and the grace timer
    /// are in flight.
    Draining { poll: bool, timer: bool },
    /// The drain is over: every connection was told to finish.
    Over,
}

impl<'s> Drain<'s> {
    /// The drain of a loop stopped by `stop`; its log lines name `model`.
    pub fn new(model: &'s str, stop: &'s Stop) -> Drain<'s> {
        Drain {
            graceful: Graceful::new(model, stop),
            stop,
            state: State::Serving,
            timespec: Box::new(Timespec::new()),
        }
    }

    /// The stop's poll completed: the drain starts at the top of the next turn.
    pub fn begin(&mut self) {
        if self.state == State::Serving {
            self.state = State::Draining {
                poll: false,
                timer: false,
            };
        }
    }

    /// The force poll or the grace timer completed: it is no longer in flight. (Its effect,
    /// a forced stop or the end of the grace period, is seen by the next [`Drain::turn`].)
    pub fn completed(&mut self, op: Op) {
        if let State::Draining { poll, timer } = &mut self.state {
            match op {
                Op::Force => *poll = false,
                Op::Grace => *timer = false,
                _ => {}
            }
        }
    }

    /// At the top of every turn while draining: the protocol closes what is idle; then either
    /// the busy connections are waited for (with the poll and the timer in flight), or the
    /// drain is over and everything is cut.
    pub fn turn(&mut self, protocol: &mut impl Protocol) -> io::Result<()> {
        let State::Draining { poll, timer } = self.state else {
            return Ok(());
        };
        let busy = protocol.close_idle()?;
        if !self.graceful.goes_on(busy) {
            protocol.cut()?;
            if poll {
                cancel_own(protocol.ring(), Op::Force)?;
            }
            if timer {
                cancel_own(protocol.ring(), Op::Grace)?;
            }
            self.state = State::Over;
            return Ok(());
        }
        if !poll {
            watch(protocol.ring(), self.stop.force_fd(), Op::Force)?;
            self.state = State::Draining { poll: true, timer };
        }
        if !timer {
            // A timer that fired a hair before the grace period ends is armed again for the rest.
            let left = self.graceful.wait(None).unwrap_or_default();
            *self.timespec = Timespec::from(left);
            let entry = Timeout::new(&*self.timespec).build();
            // SAFETY: the timespec is boxed in `self`, which lives as long as the loop: the
            // kernel reads it when the timeout is submitted.
            unsafe {
                protocol
                    .ring()
                    .push(&entry.user_data(Op::Grace.user_data()))?
            };
            self.state = State::Draining {
                poll: true,
                timer: true,
            };
        }
        Ok(())
    }
}
