//! The chat server's loop: one UDP socket, the operator's stdin, and the members' timeouts.
//!
//! `poll(2)` waits on the socket and on stdin at once, with a timeout that ends when the next
//! member would time out — so the loop wakes for a datagram, an announcement, or an expiry, and
//! never spins. Everything the room decides comes from [`Room`]; this file only moves bytes.

use std::io::{self, ErrorKind, Read};
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::{AsFd, BorrowedFd};
use std::time::{Duration, Instant};

use netkit::Stop;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use super::MAX_DATAGRAM;
use super::room::{Outgoing, Room};

/// Where the operator's announcements come from (stdin in the example), read line by line.
#[derive(Debug)]
pub struct Admin<R> {
    input: R,
    pending: Vec<u8>,
}

impl<R: Read + AsFd> Admin<R> {
    /// Announcements read from `input`.
    pub fn new(input: R) -> Admin<R> {
        Admin {
            input,
            pending: Vec::new(),
        }
    }

    /// Reads what is there (poll said readable); returns the complete lines, or `None` at EOF.
    fn read_lines(&mut self) -> io::Result<Option<Vec<String>>> {
        let mut buf = [0u8; 4096];
        let n = loop {
            match self.input.read(&mut buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        if n == 0 {
            return Ok(None);
        }
        self.pending.extend_from_slice(&buf[..n]);
        let mut lines = Vec::new();
        while let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=end).collect();
            let text = String::from_utf8_lossy(&line).trim().to_string();
            if !text.is_empty() {
                lines.push(text);
            }
        }
        Ok(Some(lines))
    }
}

/// Serves the room on `socket` until `stop` is requested; `admin` (if any) supplies
/// announcements.
pub fn run<R: Read + AsFd>(
    socket: UdpSocket,
    stop: &Stop,
    mut admin: Option<Admin<R>>,
    timeout: Duration,
) -> io::Result<()> {
    socket.set_nonblocking(true)?;
    let mut room = Room::new(timeout);
    // One byte more than the limit, so an oversized datagram is seen as such, not cut short.
    let mut buf = vec![0u8; MAX_DATAGRAM + 1];
    while !stop.is_stopped() {
        let wait = room
            .next_expiry()
            .map(|at| at.saturating_duration_since(Instant::now()) + Duration::from_millis(1));
        let (datagrams, announcements) =
            wait_ready(&socket, stop, admin.as_ref().map(|a| a.input.as_fd()), wait)?;
        if datagrams {
            loop {
                match socket.recv_from(&mut buf) {
                    Ok((n, from)) => {
                        send_all(&socket, room.handle(from, &buf[..n], Instant::now()))
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                    // An ICMP error about an earlier datagram surfaces here; it concerns that
                    // peer only (its timeout will remove it), not the room.
                    Err(e) if e.kind() == ErrorKind::ConnectionRefused => continue,
                    Err(e) => return Err(e),
                }
            }
        }
        if announcements {
            let operator = admin.as_mut().expect("stdin is watched only when present");
            match operator.read_lines()? {
                Some(lines) => {
                    for line in lines {
                        send_all(&socket, room.announce(&line));
                    }
                }
                None => admin = None, // the operator closed stdin; the room carries on
            }
        }
        send_all(&socket, room.expire(Instant::now()));
    }
    send_all(&socket, room.close());
    Ok(())
}

/// Waits until a datagram or an announcement is ready, the stop is requested, or `wait` passes.
fn wait_ready(
    socket: &UdpSocket,
    stop: &Stop,
    admin: Option<BorrowedFd>,
    wait: Option<Duration>,
) -> io::Result<(bool, bool)> {
    let mut fds = vec![
        PollFd::new(socket.as_fd(), PollFlags::POLLIN),
        PollFd::new(stop.fd(), PollFlags::POLLIN),
    ];
    if let Some(fd) = admin {
        fds.push(PollFd::new(fd, PollFlags::POLLIN));
    }
    let timeout = match wait {
        None => PollTimeout::NONE,
        Some(wait) => PollTimeout::try_from(wait).unwrap_or(PollTimeout::MAX),
    };
    match poll(&mut fds, timeout) {
        Ok(_) => {}
        Err(nix::errno::Errno::EINTR) => return Ok((false, false)),
        Err(e) => return Err(e.into()),
    }
    let ready = |fd: &PollFd| fd.revents().is_some_and(|r| !r.is_empty());
    Ok((ready(&fds[0]), fds.get(2).is_some_and(ready)))
}

/// Sends each datagram; a failure to one peer is logged and does not stop the others.
fn send_all(socket: &UdpSocket, out: Outgoing) {
    for (to, text) in out {
        if let Err(e) = send(socket, to, &text) {
            eprintln!("sending to {to}: {e}");
        }
    }
}

/// Sends one reply. Each ends with a newline — clients strip it; `nc -u` shows one per line.
fn send(socket: &UdpSocket, to: SocketAddr, text: &str) -> io::Result<()> {
    let datagram = format!("{text}\n");
    loop {
        match socket.send_to(datagram.as_bytes(), to) {
            Ok(_) => return Ok(()),
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}
