//! What a completion is about: the `user_data` a submission carries in and its completion
//! carries back. The echo loop and the HTTP server's `uring` backend share these tags.
//!
//! A readiness loop gets back a token per *descriptor* (epoll's `u64`), and finds out what to
//! do by looking at the connection. A completion loop gets back a token per *operation*, and
//! a connection may have several kinds in flight: so the token names both, the operation in its
//! low bits and the connection's slab key above them.
//!
//! ```text
//!   user_data:  [ connection key (61 bits) | kind (3 bits) ]
//!   kind 0, LOOP: the loop's own operations (the accept, the stop's polls, the grace timer),
//!                 numbered in the bits above it instead of a key
//! ```

/// One operation of a completion loop, as its `user_data` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// The multishot accept on the listener.
    Accept,
    /// The poll on the stop descriptor: its completion means "stop".
    Stop,
    /// The poll on the force descriptor, while draining: its completion means "cut now".
    Force,
    /// The timer of the grace period, while draining: its completion means "time is up".
    Grace,
    /// The cancellation of one of the loop's own operations (the accept at the stop; the force
    /// poll and the grace timer when the drain is over): only counted.
    CancelLoop,
    /// A receive into the buffer of the connection with this key.
    Recv(usize),
    /// A send from the buffer of the connection with this key.
    Send(usize),
    /// The cancellation of what is in flight on the connection with this key (at shutdown, or
    /// when it closes), or an update of its timer: only counted.
    Cancel(usize),
    /// A read of a file into the buffer of the connection with this key (a response's body).
    Read(usize),
    /// The timer of the connection with this key (`IORING_OP_TIMEOUT`): its deadline may
    /// have passed.
    Timeout(usize),
}

const KIND_BITS: u32 = 3;
const KIND_MASK: u64 = (1 << KIND_BITS) - 1;
const LOOP: u64 = 0;
const RECV: u64 = 1;
const SEND: u64 = 2;
const CANCEL: u64 = 3;
const READ: u64 = 4;
const TIMEOUT: u64 = 5;
/// The loop's own operations, numbered (kind [`LOOP`]).
const LOOP_OPS: [Op; 5] = [Op::Accept, Op::Stop, Op::Force, Op::Grace, Op::CancelLoop];

impl Op {
    /// The `user_data` that names this operation.
    pub fn user_data(self) -> u64 {
        let (key, kind) = match self {
            Op::Recv(key) => (key, RECV),
            Op::Send(key) => (key, SEND),
            Op::Cancel(key) => (key, CANCEL),
            Op::Read(key) => (key, READ),
            Op::Timeout(key) => (key, TIMEOUT),
            own => (LOOP_OPS.iter().position(|&op| op == own).unwrap(), LOOP),
        };
        (key as u64) << KIND_BITS | kind
    }

    /// The key of the connection this operation is about (`None`: one of the loop's own).
    pub fn connection(self) -> Option<usize> {
        match self {
            Op::Recv(key) | Op::Send(key) | Op::Cancel(key) | Op::Read(key) | Op::Timeout(key) => {
                Some(key)
            }
            Op::Accept | Op::Stop | Op::Force | Op::Grace | Op::CancelLoop => None,
        }
    }

    /// The operation a completion's `user_data` names (`None`: no submission of ours says so).
    pub fn from_user_data(user_data: u64) -> Option<Op> {
        let key = (user_data >> KIND_BITS) as usize;
        match user_data & KIND_MASK {
            LOOP => LOOP_OPS.get(key).copied(),
            RECV => Some(Op::Recv(key)),
            SEND => Some(Op::Send(key)),
            CANCEL => Some(Op::Cancel(key)),
            READ => Some(Op::Read(key)),
            TIMEOUT => Some(Op::Timeout(key)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Op;

    #[test]
    fn every_operation_comes_back_as_itself() {
        let ops = [
            Op::Accept,
            Op::Stop,
            Op::Force,
            Op::Grace,
            Op::CancelLoop,
            Op::Recv(0),
            Op::Cancel(3),
            Op::Send(0),
            Op::Recv(12_345),
            Op::Send(usize::MAX >> 3),
            Op::Read(9),
            Op::Timeout(1),
        ];
        for op in ops {
            assert_eq!(Op::from_user_data(op.user_data()), Some(op));
        }
    }

    #[test]
    fn a_user_data_no_submission_made_is_none() {
        assert_eq!(
            Op::from_user_data(5 << 3),
            None,
            "a loop operation past the last"
        );
        assert_eq!(Op::from_user_data(7), None, "a kind nothing uses");
    }
}
