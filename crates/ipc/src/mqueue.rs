//! POSIX message queues: messages with priorities, kept by the kernel under a name.
//!
//! Where a pipe carries bytes, a message queue carries **messages**: each `mq_send` is received
//! whole by one `mq_receive`, never merged or split, so there is no framing to write. Each
//! message has a **priority**; a receive always takes the oldest message of the highest
//! priority. The queue has two limits fixed at creation ([`Attr`]): at most `maxmsg` messages,
//! each at most `msgsize` bytes — and system-wide ceilings on both ([`Limits`], from
//! `/proc/sys/fs/mqueue`). A send to a full queue blocks (or fails with `EAGAIN` when the queue
//! is non-blocking), as a receive from an empty one does.
//!
//! Pitfalls:
//! - **A message over `msgsize` is refused** with `EMSGSIZE`; [`MessageQueue::send`] says which
//!   limit it broke. And a receive buffer *smaller* than `msgsize` is refused too, even for a
//!   short message — so [`MessageQueue::receive`] always asks with `msgsize` bytes.
//! - **The name outlives every process** (queues live in the kernel until `mq_unlink` or a
//!   reboot, whether or not `/dev/mqueue` is mounted to show them). [`MessageQueue::create`]
//!   picks a unique name and unlinks it when the creator drops the queue; [`MessageQueue::open`]
//!   (a peer) never unlinks. Reopening an unlinked name fails with `ENOENT` ([`exists`]).
//!   A creator killed with SIGKILL unlinks nothing: the next `mq_recv` removes what a killed
//!   one left, where `/dev/mqueue` lists the queues ([`crate::stale`]).
//! - `mq_receive` is restarted after a signal handler (`SA_RESTART`), so a receiver that must
//!   notice Ctrl-C waits with a timeout ([`MessageQueue::receive_timeout`]).

use std::io::{self, ErrorKind};
use std::time::Duration;

use nix::errno::Errno;
use nix::mqueue::{
    MQ_OFlag, MqAttr, MqdT, mq_close, mq_getattr, mq_open, mq_receive, mq_remove_nonblock, mq_send,
    mq_set_nonblock, mq_timedreceive, mq_unlink,
};
use nix::sys::stat::Mode;
use nix::sys::time::TimeSpec;
use nix::time::ClockId;

use crate::retry_eintr;

/// A queue's attributes (`mq_getattr`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attr {
    /// The most messages it holds.
    pub maxmsg: usize,
    /// The largest message it takes, in bytes.
    pub msgsize: usize,
    /// Messages in it now.
    pub curmsgs: usize,
    /// Whether sends and receives fail with `EAGAIN` instead of waiting.
    pub nonblocking: bool,
}

/// The system's ceilings, from `/proc/sys/fs/mqueue` (root may exceed the first two).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `msg_max`: the largest `maxmsg` an unprivileged process may ask for.
    pub msg_max: usize,
    /// `msgsize_max`: the largest `msgsize` an unprivileged process may ask for.
    pub msgsize_max: usize,
    /// `queues_max`: how many queues may exist.
    pub queues_max: usize,
}

impl Limits {
    /// Reads the three files.
    pub fn of_system() -> io::Result<Limits> {
        let read = |name: &str| -> io::Result<usize> {
            let path = format!("/proc/sys/fs/mqueue/{name}");
            std::fs::read_to_string(&path)?
                .trim()
                .parse()
                .map_err(|e| io::Error::new(ErrorKind::InvalidData, format!("{path}: {e}")))
        };
        Ok(Limits {
            msg_max: read("msg_max")?,
            msgsize_max: read("msgsize_max")?,
            queues_max: read("queues_max")?,
        })
    }
}

/// An open message queue; the creator's handle unlinks the name on drop.
#[derive(Debug)]
pub struct MessageQueue {
    name: String,
    mqd: Option<MqdT>,
    owner: bool,
    msgsize: usize,
}

impl MessageQueue {
    /// Creates a queue with a unique name, for `maxmsg` messages of up to `msgsize` bytes.
    pub fn create(maxmsg: usize, msgsize: usize) -> io::Result<MessageQueue> {
        MessageQueue::create_named(&format!("/{}", crate::unique_name("mq")), maxmsg, msgsize)
    }

    /// Creates the queue `name` (`/something`); fails if it exists.
    pub fn create_named(name: &str, maxmsg: usize, msgsize: usize) -> io::Result<MessageQueue> {
        let attr = MqAttr::new(0, maxmsg as _, msgsize as _, 0);
        let flags = MQ_OFlag::O_CREAT | MQ_OFlag::O_EXCL | MQ_OFlag::O_RDWR | MQ_OFlag::O_CLOEXEC;
        let mqd = mq_open(name, flags, Mode::S_IRUSR | Mode::S_IWUSR, Some(&attr)).map_err(
            |e| {
                let why = match e {
                    Errno::EINVAL | Errno::EMFILE => {
                        " (over /proc/sys/fs/mqueue/msg_max or msgsize_max, or the per-user RLIMIT_MSGQUEUE?)"
                    }
                    _ => "",
                };
                io::Error::new(
                    io::Error::from(e).kind(),
                    format!("mq_open {name} (maxmsg {maxmsg}, msgsize {msgsize}): {e}{why}"),
                )
            },
        )?;
        MessageQueue::wrap(name, mqd, true)
    }

    /// Opens an existing queue by name (a peer); this handle never unlinks it.
    pub fn open(name: &str) -> io::Result<MessageQueue> {
        let mqd = mq_open(
            name,
            MQ_OFlag::O_RDWR | MQ_OFlag::O_CLOEXEC,
            Mode::empty(),
            None,
        )
        .map_err(|e| io::Error::new(io::Error::from(e).kind(), format!("mq_open {name}: {e}")))?;
        MessageQueue::wrap(name, mqd, false)
    }

    fn wrap(name: &str, mqd: MqdT, owner: bool) -> io::Result<MessageQueue> {
        let msgsize = mq_getattr(&mqd)?.msgsize() as usize;
        Ok(MessageQueue {
            name: name.to_string(),
            mqd: Some(mqd),
            owner,
            msgsize,
        })
    }

    fn mqd(&self) -> &MqdT {
        self.mqd.as_ref().expect("open until dropped")
    }

    /// Its name (`/labs-mq-…`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its attributes now.
    pub fn attr(&self) -> io::Result<Attr> {
        let attr = mq_getattr(self.mqd())?;
        Ok(Attr {
            maxmsg: attr.maxmsg() as usize,
            msgsize: attr.msgsize() as usize,
            curmsgs: attr.curmsgs() as usize,
            nonblocking: attr.flags() & libc::O_NONBLOCK as libc::c_long != 0,
        })
    }

    /// Makes sends and receives fail with `WouldBlock` instead of waiting (or wait again).
    pub fn set_nonblocking(&self, on: bool) -> io::Result<()> {
        if on {
            mq_set_nonblock(self.mqd())?;
        } else {
            mq_remove_nonblock(self.mqd())?;
        }
        Ok(())
    }

    /// Sends one message with `priority` (higher is received first). A message over the
    /// queue's `msgsize` is an `InvalidInput` error that names the limit.
    pub fn send(&self, message: &[u8], priority: u32) -> io::Result<()> {
        retry_eintr(|| mq_send(self.mqd(), message, priority)).map_err(|e| match e {
            Errno::EMSGSIZE => io::Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "a {}-byte message is over the {}-byte msgsize of {} (EMSGSIZE)",
                    message.len(),
                    self.msgsize,
                    self.name
                ),
            ),
            other => other.into(),
        })
    }

    /// Receives the oldest message of the highest priority: `(bytes, priority)`.
    pub fn receive(&self) -> io::Result<(Vec<u8>, u32)> {
        let mut buf = vec![0u8; self.msgsize];
        let mut priority = 0;
        let n = retry_eintr(|| mq_receive(self.mqd(), &mut buf, &mut priority))?;
        buf.truncate(n);
        Ok((buf, priority))
    }

    /// Receives into `buf` (at least `msgsize` bytes); returns the length and priority.
    pub fn receive_into(&self, buf: &mut [u8]) -> io::Result<(usize, u32)> {
        let mut priority = 0;
        let n = retry_eintr(|| mq_receive(self.mqd(), buf, &mut priority))?;
        Ok((n, priority))
    }

    /// Like [`receive`](Self::receive), but `Ok(None)` if nothing came within `timeout`.
    pub fn receive_timeout(&self, timeout: Duration) -> io::Result<Option<(Vec<u8>, u32)>> {
        // mq_timedreceive takes an absolute CLOCK_REALTIME instant.
        let until = ClockId::CLOCK_REALTIME.now()? + TimeSpec::from_duration(timeout);
        let mut buf = vec![0u8; self.msgsize];
        let mut priority = 0;
        match retry_eintr(|| mq_timedreceive(self.mqd(), &mut buf, &mut priority, &until)) {
            Ok(n) => {
                buf.truncate(n);
                Ok(Some((buf, priority)))
            }
            Err(Errno::ETIMEDOUT) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

impl Drop for MessageQueue {
    fn drop(&mut self) {
        if let Some(mqd) = self.mqd.take() {
            let _ = mq_close(mqd);
        }
        if self.owner {
            let _ = mq_unlink(self.name.as_str());
        }
    }
}

/// Whether a queue named `name` exists: opening it does not fail with `ENOENT`.
pub fn exists(name: &str) -> io::Result<bool> {
    match mq_open(name, MQ_OFlag::O_RDONLY, Mode::empty(), None) {
        Ok(mqd) => {
            mq_close(mqd)?;
            Ok(true)
        }
        Err(Errno::ENOENT) => Ok(false),
        Err(e) => Err(e.into()),
    }
}
