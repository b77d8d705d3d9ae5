//! A chat client that waits on the keyboard and the socket at once, with `poll(2)`, in one
//! thread.
//!
//! ```text
//!   poll([socket: POLLIN (+ POLLOUT while we have unsent input), stdin: POLLIN]) ──▶ wait
//!     stdin readable  → read what was typed, queue it for the server (EOF: half-close)
//!     socket readable → read what the server sent, print it (EOF: the server hung up — done)
//!     socket writable → send what is queued
//! ```
//!
//! The Python course's client does `input()` and then `recv()`: while it waits for the keyboard it
//! cannot print what others say, and while it waits for the server it cannot read the
//! keyboard. A client has two sources of input, so it is a small event loop too — the same
//! idea as the server, on the other side of the wire.
//!
//! Ending is a conversation, not a `close`: at end of stdin (Ctrl-D) the client sends what is
//! queued and then shuts down its *write* side only (a TCP half-close: "I have nothing more to
//! say"); the chat server takes that as leaving, says goodbye, and closes; the client prints
//! everything up to that close and returns. Closing the whole socket at Ctrl-D would lose the
//! server's last words.
//!
//! The pitfall is stdin: it is not switched to non-blocking mode (a terminal's flag is shared
//! with the shell, which would find it still set after we exit). `poll` says it is readable, so
//! one `read` will not block.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::fd::{AsFd, BorrowedFd};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

/// How much typed input may wait for the server before we stop reading the keyboard.
const MAX_UNSENT: usize = 64 * 1024;

/// Relays `input` (usually stdin) to the server and the server to `output`, until the server
/// closes the connection. An error means the connection broke.
pub fn run(stream: TcpStream, input: BorrowedFd<'_>, output: &mut impl Write) -> io::Result<()> {
    stream.set_nonblocking(true)?;
    let mut unsent: Vec<u8> = Vec::new();
    let mut input_open = true;
    let mut half_closed = false;
    let mut buf = [0u8; 16 * 1024];
    loop {
        let mut socket_events = PollFlags::POLLIN;
        if !unsent.is_empty() {
            socket_events |= PollFlags::POLLOUT;
        }
        let mut fds = vec![PollFd::new(stream.as_fd(), socket_events)];
        if input_open && unsent.len() < MAX_UNSENT {
            fds.push(PollFd::new(input, PollFlags::POLLIN));
        }
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) => {}
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        }
        // A hang-up or error counts as readable: the read then reports EOF or the error.
        let readable = PollFlags::POLLIN | PollFlags::POLLHUP | PollFlags::POLLERR;
        let ready = |fd: Option<&PollFd>| {
            fd.and_then(PollFd::revents)
                .is_some_and(|r| r.intersects(readable))
        };
        let (server_spoke, user_typed) = (ready(fds.first()), ready(fds.get(1)));

        if user_typed {
            match nix::unistd::read(input, &mut buf) {
                Ok(0) => input_open = false,
                Ok(n) => unsent.extend_from_slice(&buf[..n]),
                Err(Errno::EINTR | Errno::EAGAIN) => {}
                Err(e) => return Err(e.into()),
            }
        }
        if server_spoke {
            match (&stream).read(&mut buf) {
                Ok(0) => return Ok(()), // the server closed the connection: we are done
                Ok(n) => {
                    output.write_all(&buf[..n])?;
                    output.flush()?;
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => {}
                Err(e) => return Err(e),
            }
        }
        send_unsent(&stream, &mut unsent)?;
        if !input_open && unsent.is_empty() && !half_closed {
            // Everything typed is sent: half-close, and keep reading until the server closes.
            stream.shutdown(Shutdown::Write)?;
            half_closed = true;
        }
    }
}

/// Sends as much of `unsent` as the socket takes now.
fn send_unsent(mut stream: &TcpStream, unsent: &mut Vec<u8>) -> io::Result<()> {
    while !unsent.is_empty() {
        match stream.write(unsent) {
            Ok(0) => return Err(ErrorKind::WriteZero.into()),
            Ok(n) => {
                unsent.drain(..n);
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
