//! The completion loop itself, the same for every protocol: enter the ring, reap, and send each
//! completion where its `user_data` says — the listening side, or a connection of the protocol.
//!
//! ```text
//!   loop: while stopping: the drain's turn (close the idle; when over, cut the rest)
//!         io_uring_enter(submit everything queued, wait for ≥ 1 completion)
//!         for each completion: user_data ─▶ Accept: adopt the clients   Stop: cancel the accept
//!                                           Force, Grace: the drain's   (operation, key): the
//!                                           protocol's connection `key`
//!   until nothing is in flight
//! ```
//!
//! The echo server and the HTTP server's `uring` backend are both a [`Protocol`]: a ring, their
//! connections in a slab, and what a completion means to one of them. The loop ends only when
//! the ring has nothing in flight, so it never returns while the kernel may still use a buffer.

use std::io;
use std::net::{TcpListener, TcpStream};

use netkit::{Slab, Stop};

use super::drain::Drain;
use super::listen::Listening;
use super::op::Op;
use super::ring::{Completion, Ring};

/// A protocol's side of the completion loop: the ring, and its connections.
pub trait Protocol {
    /// The ring the loop enters.
    fn ring(&mut self) -> &mut Ring;
    /// Called once per turn, before the wait (a freed slab key is reused only from then on).
    fn next_turn(&mut self);
    /// A new client: make its connection and submit its first operations.
    fn adopt(&mut self, stream: TcpStream) -> io::Result<()>;
    /// An operation naming connection `key` completed.
    fn complete(&mut self, key: usize, op: Op, completion: Completion) -> io::Result<()>;
    /// Stopping, once per turn: close the idle connections (cancel their operations, submit
    /// nothing new for them) and say how many are still busy — those are served on.
    fn close_idle(&mut self) -> io::Result<usize>;
    /// The drain is over (nothing busy, the grace period passed, or the stop forced): cancel
    /// every connection's operations and submit nothing new; each connection is freed once
    /// nothing naming it is in flight.
    fn cut(&mut self) -> io::Result<()>;
}

/// Serves `protocol` on `listener` from one thread until `stop`; then drains (see `drain`)
/// and returns once nothing is in flight on its ring. `model` names the loop in log lines.
pub fn serve(
    listener: TcpListener,
    stop: &Stop,
    model: &str,
    protocol: &mut impl Protocol,
) -> io::Result<()> {
    let mut listening = Listening::new(listener)?;
    listening.arm(protocol.ring(), stop)?;
    let mut drain = Drain::new(model, stop);
    let mut completions = Vec::new();
    while protocol.ring().in_flight() > 0 {
        protocol.next_turn();
        drain.turn(protocol)?;
        protocol.ring().submit(1)?;
        protocol.ring().reap(&mut completions);
        for completion in completions.drain(..) {
            dispatch(&mut listening, &mut drain, protocol, completion)?;
        }
    }
    Ok(())
}

/// What a completion is about, from its `user_data`, and who acts on it.
fn dispatch(
    listening: &mut Listening,
    drain: &mut Drain,
    protocol: &mut impl Protocol,
    completion: Completion,
) -> io::Result<()> {
    match Op::from_user_data(completion.user_data) {
        Some(Op::Accept) => {
            let accepted = listening.on_accept(protocol.ring(), completion)?;
            accepted.into_iter().try_for_each(|s| protocol.adopt(s))
        }
        Some(Op::Stop) => {
            drain.begin();
            listening.stop(protocol.ring())
        }
        Some(op @ (Op::Force | Op::Grace)) => {
            drain.completed(op);
            Ok(())
        }
        Some(Op::CancelLoop) => Ok(()),
        Some(op) => match op.connection() {
            Some(key) => protocol.complete(key, op, completion),
            None => unreachable!("every other operation names a connection"),
        },
        None => Err(io::Error::other(format!(
            "uring: a completion no submission asked for (user_data {:#x})",
            completion.user_data
        ))),
    }
}

/// What a protocol's `Drop` does with its connections when the loop ended on an error: with
/// operations still in flight on `ring`, the connections are leaked (the kernel may still use
/// their buffers; closing the ring cancels the operations). With none, no buffer is the
/// kernel's, whatever a connection still counts (the error may have left completions
/// unhandled): `release` tells each so, and they are freed.
pub fn abandon<C>(ring: &Ring, conns: &mut Slab<C>, mut release: impl FnMut(&mut C)) {
    if ring.in_flight() > 0 {
        std::mem::forget(std::mem::take(conns));
        return;
    }
    for key in conns.keys() {
        if let Some(conn) = conns.get_mut(key) {
            release(conn);
        }
    }
}
