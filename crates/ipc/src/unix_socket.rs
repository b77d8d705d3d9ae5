//! Unix domain sockets: stream and datagram, paths and the abstract namespace, `socketpair`,
//! who is on the other end (`SO_PEERCRED`), and handing over an open descriptor (`SCM_RIGHTS`).
//!
//! A Unix socket is the socket API (`bind`, `listen`, `accept`, `connect`) with a file-system
//! path — or a name in the kernel's *abstract namespace* — instead of an IP address and port,
//! and the kernel copying bytes directly from one process to the other, with no TCP/IP on the
//! way. It comes in the same kinds as network sockets:
//!
//! - `SOCK_STREAM` ([`std::os::unix::net::UnixStream`]): a byte stream, like TCP (frame it);
//! - `SOCK_DGRAM` ([`std::os::unix::net::UnixDatagram`]): messages kept whole, like UDP — but
//!   reliable and ordered, because both ends are on one machine; a sender blocks when the
//!   receiver's queue is full instead of the datagram being dropped;
//! - `socketpair` ([`UnixStream::pair`]): two connected sockets, no name at all — a
//!   bidirectional pipe for a parent and the children it forks.
//!
//! Two things only Unix sockets do: the receiver can ask the kernel **who the peer is**
//! ([`peer_credentials`]: pid, uid, gid, vouched for by the kernel — a server can authorise a
//! local client without a password), and a process can **send an open file descriptor**
//! ([`send_fd`], [`recv_fd`]): the kernel installs a new descriptor in the receiver for the same
//! open file — same offset, same flags — even if the file has no name any more.
//!
//! Pitfalls:
//! - a path-bound socket leaves its file behind when the server exits, and the next `bind`
//!   fails with `EADDRINUSE`: [`SocketPath`] removes it on drop. An abstract name
//!   ([`bind_abstract`], Linux only) has no file and disappears with the last socket;
//! - a descriptor arrives as a control message: the receiver's buffer for it must be big
//!   enough (`MSG_CTRUNC` otherwise, and the descriptor is lost), and it should ask for
//!   `MSG_CMSG_CLOEXEC` so the new descriptor does not leak into programs it later `exec`s.

use std::io::{self, IoSlice, IoSliceMut};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixListener, UnixStream};
use std::path::{Path, PathBuf};

use nix::sys::socket::{
    ControlMessage, ControlMessageOwned, MsgFlags, getsockopt, recvmsg, sendmsg, sockopt,
};

/// A path for a socket, unique to the run, whose file is removed on drop.
#[derive(Debug)]
pub struct SocketPath {
    path: PathBuf,
}

impl SocketPath {
    /// A fresh path in the temporary directory (nothing is created yet).
    pub fn new() -> SocketPath {
        SocketPath {
            path: std::env::temp_dir().join(format!("{}.sock", crate::unique_name("uds"))),
        }
    }

    /// The path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Default for SocketPath {
    fn default() -> Self {
        SocketPath::new()
    }
}

impl Drop for SocketPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// A stream listener bound to a new [`SocketPath`] (keep the guard as long as the listener).
pub fn bind_stream() -> io::Result<(UnixListener, SocketPath)> {
    let path = SocketPath::new();
    let listener = UnixListener::bind(path.path())?;
    Ok((listener, path))
}

/// A stream listener on `name` in the abstract namespace: no file, nothing to clean up.
pub fn bind_abstract(name: &str) -> io::Result<UnixListener> {
    UnixListener::bind_addr(&SocketAddr::from_abstract_name(name.as_bytes())?)
}

/// Connects to `name` in the abstract namespace.
pub fn connect_abstract(name: &str) -> io::Result<UnixStream> {
    UnixStream::connect_addr(&SocketAddr::from_abstract_name(name.as_bytes())?)
}

/// Who is on the other end, as the kernel recorded at `connect` (or `socketpair`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Credentials {
    /// The peer's process id.
    pub pid: i32,
    /// Its user id.
    pub uid: u32,
    /// Its group id.
    pub gid: u32,
}

/// `SO_PEERCRED`: the pid, uid and gid of the peer of a connected stream socket.
pub fn peer_credentials(socket: &UnixStream) -> io::Result<Credentials> {
    let cred = getsockopt(socket, sockopt::PeerCredentials)?;
    Ok(Credentials {
        pid: cred.pid(),
        uid: cred.uid(),
        gid: cred.gid(),
    })
}

/// Sends the open descriptor `fd` over `socket`, with `note` as the ordinary bytes beside it
/// (at least one byte must go with a control message; an empty note sends one zero byte).
pub fn send_fd(socket: &UnixStream, fd: BorrowedFd<'_>, note: &[u8]) -> io::Result<()> {
    // BEGIN SOLUTION: ipc-fd-passing
    let bytes: &[u8] = if note.is_empty() { &[0] } else { note };
    let iov = [IoSlice::new(bytes)];
    let fds = [fd.as_raw_fd()];
    let cmsg = [ControlMessage::ScmRights(&fds)];
    let sent = crate::retry_eintr(|| {
        sendmsg::<()>(socket.as_raw_fd(), &iov, &cmsg, MsgFlags::empty(), None)
    })?;
    if sent == bytes.len() {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::WriteZero,
            format!("sent {sent} of the note's {} bytes", bytes.len()),
        ))
    }
    // END SOLUTION
}

/// Receives a descriptor sent by [`send_fd`] and the note beside it (up to `max_note` bytes).
/// The new descriptor is close-on-exec. `UnexpectedEof` if the peer closed instead.
pub fn recv_fd(socket: &UnixStream, max_note: usize) -> io::Result<(OwnedFd, Vec<u8>)> {
    // BEGIN SOLUTION: ipc-fd-passing
    let mut note = vec![0u8; max_note.max(1)];
    let mut space = nix::cmsg_space!([RawFd; 1]);
    let (len, fd) = {
        let mut iov = [IoSliceMut::new(&mut note)];
        let msg = loop {
            match recvmsg::<()>(
                socket.as_raw_fd(),
                &mut iov,
                Some(&mut space),
                MsgFlags::MSG_CMSG_CLOEXEC,
            ) {
                Err(nix::errno::Errno::EINTR) => continue,
                other => break other?,
            }
        };
        let mut fd = None;
        for cmsg in msg.cmsgs()? {
            if let ControlMessageOwned::ScmRights(fds) = cmsg {
                for raw in fds {
                    // SAFETY: the kernel just installed `raw` in this process for us; nothing
                    // else owns it. Extra descriptors (if any) are owned and closed here too.
                    let owned = unsafe { OwnedFd::from_raw_fd(raw) };
                    fd.get_or_insert(owned);
                }
            }
        }
        (msg.bytes, fd)
    };
    match fd {
        Some(fd) => {
            note.truncate(len);
            Ok((fd, note))
        }
        None if len == 0 => Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the peer closed without sending a descriptor",
        )),
        None => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "a message without a descriptor",
        )),
    }
    // END SOLUTION
}

/// What [`pass_unlinked_file`] saw in the parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Passed {
    /// The path the child opened (gone by the time the descriptor arrived).
    pub path: PathBuf,
    /// Whether anything was still at that path when the parent looked.
    pub path_exists: bool,
    /// What the parent read through the received descriptor.
    pub content: String,
    /// The child's pid.
    pub child: i32,
    /// Who the kernel says is on the other end of the socket.
    pub peer: Credentials,
}

/// A child makes a file, writes `text`, **unlinks it**, and sends the open descriptor over a
/// Unix socket; the parent reads `text` through it — proof that what travelled is an open
/// file, not a name. The socket is a connection to a listener in the abstract namespace, made
/// by the child after the fork, so `SO_PEERCRED` names the child. (On a `socketpair` it would
/// name the parent: the credentials are recorded when the sockets are made.)
pub fn pass_unlinked_file(text: &str) -> io::Result<Passed> {
    use std::io::{Read, Seek, SeekFrom, Write};
    let name = crate::unique_name("uds");
    let listener = bind_abstract(&name)?;
    let path = std::env::temp_dir().join(crate::unique_name("passed"));
    let child = multiprocess::spawn::fork_run(|| {
        let sent = (|| -> io::Result<()> {
            let socket = connect_abstract(&name)?;
            let mut file = std::fs::File::options()
                .create_new(true)
                .read(true)
                .write(true)
                .open(&path)?;
            file.write_all(text.as_bytes())?;
            file.seek(SeekFrom::Start(0))?; // the offset travels with the descriptor
            std::fs::remove_file(&path)?;
            send_fd(
                &socket,
                std::os::fd::AsFd::as_fd(&file),
                path.as_os_str().as_encoded_bytes(),
            )
        })();
        sent.err().map_or(0, |e| errno_status(&e))
    })?;
    let received = listener.accept().and_then(|(stream, _)| {
        let passed = recv_fd(&stream, 4096)?;
        Ok((passed, peer_credentials(&stream)?))
    });
    let outcome = multiprocess::spawn::wait_for(child)?;
    let ((fd, note), peer) = received.map_err(|e| explain_child_failure(e, outcome))?;
    let mut content = String::new();
    std::fs::File::from(fd).read_to_string(&mut content)?;
    Ok(Passed {
        path_exists: std::fs::symlink_metadata(&path).is_ok(),
        path: PathBuf::from(String::from_utf8_lossy(&note).into_owned()),
        content,
        child: child.as_raw(),
        peer,
    })
}

/// The exit status a child reports an error with: its `errno` when it has one that fits (1–124),
/// else 125. The parent turns it back into the error ([`explain_child_failure`]); without it, a
/// child that failed (at `EMFILE`, say) shows up only as a peer that closed.
fn errno_status(error: &io::Error) -> i32 {
    error
        .raw_os_error()
        .filter(|code| (1..=124).contains(code))
        .unwrap_or(125)
}

/// The parent's error when no descriptor came: the child's own error, read from its exit status
/// ([`errno_status`]), says why; the parent's side (a peer that closed) is only the symptom.
fn explain_child_failure(error: io::Error, outcome: multiprocess::spawn::Outcome) -> io::Error {
    match outcome {
        multiprocess::spawn::Outcome::Exited(code @ 1..=124) => {
            let cause = io::Error::from_raw_os_error(code);
            io::Error::new(
                cause.kind(),
                format!("the child could not send the descriptor: {cause}"),
            )
        }
        _ => io::Error::new(error.kind(), format!("{error} (the child {outcome})")),
    }
}
