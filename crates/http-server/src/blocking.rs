//! The blocking driver: one connection served by one thread, start to end.
//!
//! **What.** [`serve_connection`] reads from a `TcpStream`, hands the bytes to a
//! [`Session`], and writes what it plans, until the session or the client ends the
//! conversation. It is the handler `Fn(TcpStream)` that the thread-per-connection and pool
//! backends run. Bodies go out with `sendfile(2)`: the kernel copies from the page cache to the
//! socket, and the file's bytes never pass through this process ([`write_file_range`] is the
//! `pread`/`write` fallback where `sendfile` cannot be used).
//!
//! **Limits.** Every blocking step has a bound ([`Limits`]): a head must arrive within
//! `header_timeout` of its first byte (else 408), an idle keep-alive connection is closed after
//! `idle_timeout`, and a client that stops reading is dropped once a write makes no progress for
//! `write_timeout` — a thread is never pinned forever.
//!
//! **Pitfalls.** Closing a socket that still has unread input makes the kernel send a RST,
//! which can destroy the response the client has not read yet; so after a closing response the
//! server half-closes and drains what the client still sends, within a bound ([`LINGER`]). And
//! Nagle's algorithm would hold a small body back behind its head: the head is sent with
//! `MSG_MORE`, and `TCP_NODELAY` is set so pipelined responses do not wait for an ACK.

use std::fs::File;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::fs::FileExt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use nix::errno::Errno;
use nix::sys::socket::{MsgFlags, send};

use crate::resolve::Root;
use crate::response::{Body, Response};
use crate::session::{Next, Session};

/// How long, and how much, to drain a client's input after a closing response.
pub const LINGER: (Duration, usize) = (Duration::from_secs(1), 256 * 1024);

/// The time bounds of one connection.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// From the first byte of a request until its head is complete (then 408).
    pub header_timeout: Duration,
    /// How long a kept-alive connection may sit between requests.
    pub idle_timeout: Duration,
    /// How long one write may make no progress before the client is dropped.
    pub write_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
            write_timeout: Duration::from_secs(30),
        }
    }
}

/// Serves one connection until it ends (see the module docs). A client that vanishes
/// (`ECONNRESET`, `EPIPE`) or stalls ends only its own connection, with `Ok`.
pub fn serve_connection(stream: TcpStream, root: &Arc<Root>, limits: &Limits) -> io::Result<()> {
    drive(stream, Session::new(Arc::clone(root)), limits)
}

/// Drives `session` over `stream` until the conversation ends: [`serve_connection`] with a
/// session of the caller's making.
pub fn drive(mut stream: TcpStream, mut session: Session, limits: &Limits) -> io::Result<()> {
    stream.set_nodelay(true)?;
    stream.set_write_timeout(Some(limits.write_timeout))?;
    let mut buf = vec![0u8; 16 * 1024];
    let mut request_began: Option<Instant> = None;
    loop {
        match session.next(SystemTime::now()) {
            Next::Send(response) => {
                request_began = None;
                let close = response.close;
                if let Err(e) = send_response(&stream, response) {
                    return peer_gone(e);
                }
                if close {
                    return linger_close(stream);
                }
            }
            Next::Done => return Ok(()),
            Next::NeedInput => {
                let wait = if session.mid_request() {
                    let began = *request_began.get_or_insert_with(Instant::now);
                    limits.header_timeout.saturating_sub(began.elapsed())
                } else {
                    limits.idle_timeout
                };
                match read_within(&mut stream, &mut buf, wait) {
                    Ok(0) => return Ok(()),
                    Ok(n) => session.receive(&buf[..n]),
                    Err(e) if is_timeout(&e) => {
                        return match session.timed_out(SystemTime::now()) {
                            Some(response) => match send_response(&stream, response) {
                                Ok(()) => linger_close(stream),
                                Err(e) => peer_gone(e),
                            },
                            None => Ok(()),
                        };
                    }
                    Err(e) => return peer_gone(e),
                }
            }
        }
    }
}

/// One read, waiting at most `wait` (a zero wait is a timeout at once); retries `EINTR`.
fn read_within(stream: &mut TcpStream, buf: &mut [u8], wait: Duration) -> io::Result<usize> {
    if wait.is_zero() {
        return Err(ErrorKind::TimedOut.into());
    }
    stream.set_read_timeout(Some(wait))?;
    loop {
        match stream.read(buf) {
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            other => return other,
        }
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

/// A client that reset, closed or stopped reading ends its connection, not the server.
fn peer_gone(e: io::Error) -> io::Result<()> {
    let stopped_reading = matches!(
        e.kind(),
        ErrorKind::UnexpectedEof | ErrorKind::WouldBlock | ErrorKind::TimedOut
    );
    if netkit::conn::is_peer_gone(&e) || stopped_reading {
        Ok(())
    } else {
        Err(e)
    }
}

/// Writes a planned response: the head, then its body.
pub fn send_response(mut stream: &TcpStream, response: Response) -> io::Result<()> {
    match response.body {
        Body::Empty => stream.write_all(&response.head),
        Body::Bytes(bytes) => stream.write_all(&[response.head, bytes].concat()),
        Body::File { file, offset, len } => {
            let mut head = &response.head[..];
            while !head.is_empty() {
                match send_head(stream, head, true) {
                    Ok(n) => head = &head[n..],
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            send_file(stream, &file, offset, len)
        }
    }
}

/// One `send` of (part of) a response head; with `more`, the `MSG_MORE` flag ("more is coming,
/// do not send a short segment yet") lets the kernel put the head and the start of the body
/// that follows in one segment instead of two. Never raises SIGPIPE.
pub(crate) fn send_head(stream: &TcpStream, head: &[u8], more: bool) -> io::Result<usize> {
    // nix has no name for MSG_MORE.
    let more = if more { libc::MSG_MORE } else { 0 };
    let flags = MsgFlags::from_bits_retain(more) | MsgFlags::MSG_NOSIGNAL;
    send(stream.as_raw_fd(), head, flags).map_err(|e: Errno| e.into())
}

/// Sends `len` bytes of `file` from `offset` with `sendfile(2)`, falling back to
/// [`write_file_range`] when the file cannot be sent that way.
pub fn send_file(mut stream: &TcpStream, file: &File, offset: u64, len: u64) -> io::Result<()> {
    let (mut offset, mut len) = (offset, len);
    while len > 0 {
        match sendfile_once(stream, file, &mut offset, &mut len) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS)) => {
                return write_file_range(&mut stream, file, offset, len);
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// One `sendfile(2)` call of up to `len` bytes from `offset`, moving both on by what it sent.
/// On a non-blocking socket a full buffer is `WouldBlock`; on a blocking one with a send
/// timeout, the same after the timeout.
pub(crate) fn sendfile_once(
    stream: &TcpStream,
    file: &File,
    offset: &mut u64,
    len: &mut u64,
) -> io::Result<()> {
    let mut position = *offset as libc::off_t;
    let count = (*len).min(1 << 30) as usize;
    match nix::sys::sendfile::sendfile(stream.as_fd(), file.as_fd(), Some(&mut position), count) {
        Ok(0) => Err(io::Error::new(
            ErrorKind::UnexpectedEof,
            "the file shrank while it was sent",
        )),
        Ok(n) => {
            *offset += n as u64;
            *len -= n as u64;
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// Copies `len` bytes of `file` from `offset` to `out` through a buffer (`pread` + `write`).
pub fn write_file_range(
    out: &mut impl Write,
    file: &File,
    offset: u64,
    len: u64,
) -> io::Result<()> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut done = 0;
    while done < len {
        let want = (len - done).min(buf.len() as u64) as usize;
        let n = match file.read_at(&mut buf[..want], offset + done) {
            Ok(0) => {
                return Err(io::Error::new(
                    ErrorKind::UnexpectedEof,
                    "the file shrank while it was sent",
                ));
            }
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        out.write_all(&buf[..n])?;
        done += n as u64;
    }
    Ok(())
}

/// Half-closes, then reads and drops what the client still sends (bounded by [`LINGER`]), so
/// the close does not reset the connection before the client has read the response.
fn linger_close(mut stream: TcpStream) -> io::Result<()> {
    let _ = stream.shutdown(Shutdown::Write);
    let (time, bytes) = LINGER;
    let until = Instant::now() + time;
    let mut drained = 0;
    let mut buf = [0u8; 16 * 1024];
    while drained < bytes {
        match read_within(
            &mut stream,
            &mut buf,
            until.saturating_duration_since(Instant::now()),
        ) {
            Ok(0) | Err(_) => break,
            Ok(n) => drained += n,
        }
    }
    Ok(())
}
