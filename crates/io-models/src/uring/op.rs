//! What a completion is about: the `user_data` a submission carries in and its completion
//! carries back.
//!
//! A readiness loop gets back a token per *descriptor* (epoll's `u64`), and finds out what to
//! do by looking at the connection. A completion loop gets back a token per *operation*, and
//! a connection may have several kinds in flight: so the token names both, the operation in its
//! low bits and the connection's slab key above them.
//!
//! ```text
//!   user_data:  [ connection key (61 bits) | kind (3 bits) ]
//! ```

/// One operation of the echo loop, as its `user_data` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// The multishot accept on the listener.
    Accept,
    /// The poll on the stop descriptor: its completion means "stop".
    Stop,
    /// The cancellation of the multishot accept, at shutdown.
    CancelAccept,
    /// A receive into the buffer of the connection with this key.
    Recv(usize),
    /// A send from the buffer of the connection with this key.
    Send(usize),
    /// The cancellation of what is in flight on the connection with this key, at shutdown.
    Cancel(usize),
}

const KIND_BITS: u32 = 3;
const KIND_MASK: u64 = (1 << KIND_BITS) - 1;
const ACCEPT: u64 = 0;
const STOP: u64 = 1;
const CANCEL_ACCEPT: u64 = 2;
const RECV: u64 = 3;
const SEND: u64 = 4;
const CANCEL: u64 = 5;

impl Op {
    /// The `user_data` that names this operation.
    pub fn user_data(self) -> u64 {
        let (key, kind) = match self {
            Op::Accept => (0, ACCEPT),
            Op::Stop => (0, STOP),
            Op::CancelAccept => (0, CANCEL_ACCEPT),
            Op::Recv(key) => (key, RECV),
            Op::Send(key) => (key, SEND),
            Op::Cancel(key) => (key, CANCEL),
        };
        (key as u64) << KIND_BITS | kind
    }

    /// The operation a completion's `user_data` names (`None`: no submission of ours says so).
    pub fn from_user_data(user_data: u64) -> Option<Op> {
        let key = (user_data >> KIND_BITS) as usize;
        match user_data & KIND_MASK {
            ACCEPT => Some(Op::Accept),
            STOP => Some(Op::Stop),
            CANCEL_ACCEPT => Some(Op::CancelAccept),
            RECV => Some(Op::Recv(key)),
            SEND => Some(Op::Send(key)),
            CANCEL => Some(Op::Cancel(key)),
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
            Op::CancelAccept,
            Op::Recv(0),
            Op::Cancel(3),
            Op::Send(0),
            Op::Recv(12_345),
            Op::Send(usize::MAX >> 3),
        ];
        for op in ops {
            assert_eq!(Op::from_user_data(op.user_data()), Some(op));
        }
        assert_eq!(Op::from_user_data(7), None);
    }
}
