//! The data connection: set up by PASV/EPSV (the client connects to us) or PORT/EPRT (we
//! connect to the client), opened for one transfer, closed after it.
//!
//! In stream mode the end of a transfer *is* the close of the data connection — so an upload
//! that ends in a reset is an aborted upload, and a download's receiver knows it has everything
//! only when the server closes cleanly (then answers 226 on the control connection).
//!
//! Two rules keep it safe, and one risk stays:
//!
//! - **PORT/EPRT go only back to the client** (RFC 2577): the address must be the control
//!   connection's peer and the port 1024 or above, else `504`. Otherwise a client can make the
//!   server connect anywhere on its behalf — a port scanner, or a "bounce" that delivers an
//!   uploaded file, as the server, to a mail or ssh port on a third machine.
//! - **A passive listener accepts only the control connection's IP**: anyone else connecting
//!   to the announced port is closed, and the listener keeps waiting.
//! - **What stays: the same-address race.** Another user *on the client's own machine* (or
//!   behind the same NAT) can connect to the announced passive port before the client does and
//!   read a download or feed an upload; the port is guessable, and nothing in plain FTP says
//!   which connection from that address is the client's. This is why FTP over TLS (RFC 4217)
//!   exists: with TLS on the data connection, tied to the control connection's session, a
//!   stranger's connection fails the handshake. Plain FTP also sends the password in clear.
//!
//! Every wait is bounded: accepting or connecting by [`DATA_TIMEOUT`], each read and write by
//! [`IDLE_TIMEOUT`]. And every wait ends at a stop (Ctrl-C): the accept and the connect wait in
//! `poll` on their socket *and* the [`Stop`]'s descriptor; reads and writes end because the
//! server shuts every registered connection down. A connect is therefore non-blocking — a
//! blocking `connect` to a port that never answers could hold a stopping server for 30 s.

use std::io;
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::time::{Duration, Instant};

use netkit::Stop;
use netkit::stop::Wake;
use nix::errno::Errno;
use nix::poll::PollFlags;
use nix::sys::socket::{
    AddressFamily, SockFlag, SockType, SockaddrStorage, connect, getsockopt, socket, sockopt,
};

/// How long the server waits for a client to open (or accept) the data connection.
pub const DATA_TIMEOUT: Duration = Duration::from_secs(30);

/// How long one read or write on a data or control connection may wait.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(120);

/// How the next transfer's data connection will be made.
#[derive(Debug, Default)]
pub enum DataPlan {
    /// No PASV/EPSV/PORT/EPRT yet: a transfer now is a wrong sequence (503).
    #[default]
    None,
    /// The client will connect to this listener.
    Passive(TcpListener),
    /// We connect to the client here.
    Active(SocketAddr),
}

/// Opens a passive listener on the control connection's local address, any port.
pub(super) fn passive(local: IpAddr) -> io::Result<TcpListener> {
    TcpListener::bind(SocketAddr::new(local, 0))
}

/// `227` text for a passive listener: `h1,h2,h3,h4,p1,p2`.
pub(super) fn pasv_reply(addr: SocketAddr) -> Option<String> {
    let IpAddr::V4(ip) = addr.ip() else {
        return None;
    };
    let [a, b, c, d] = ip.octets();
    let port = addr.port();
    Some(format!(
        "227 Entering Passive Mode ({a},{b},{c},{d},{},{}).",
        port >> 8,
        port & 0xFF
    ))
}

/// Parses PORT's `h1,h2,h3,h4,p1,p2`.
pub(super) fn parse_port(arg: &str) -> Option<SocketAddr> {
    let numbers: Vec<u8> = arg
        .split(',')
        .map(|n| n.trim().parse().ok())
        .collect::<Option<_>>()?;
    let [a, b, c, d, hi, lo] = numbers[..] else {
        return None;
    };
    Some(SocketAddr::new(
        IpAddr::from([a, b, c, d]),
        u16::from(hi) << 8 | u16::from(lo),
    ))
}

/// Parses EPRT's `|1|127.0.0.1|port|` or `|2|::1|port|` (any delimiter, RFC 2428).
pub(super) fn parse_eprt(arg: &str) -> Option<SocketAddr> {
    let delimiter = arg.chars().next()?;
    let fields: Vec<&str> = arg.split(delimiter).collect();
    let [_, proto, host, port, _] = fields[..] else {
        return None;
    };
    let ip: IpAddr = host.parse().ok()?;
    let matches = matches!((proto, ip), ("1", IpAddr::V4(_)) | ("2", IpAddr::V6(_)));
    let port: u16 = port.parse().ok()?;
    (matches && port != 0).then_some(SocketAddr::new(ip, port))
}

/// Makes the data connection the plan says; `peer` is the control connection's peer. Every
/// wait in it ends when `stop` is requested.
pub fn open(plan: DataPlan, peer: IpAddr, stop: &Stop) -> io::Result<TcpStream> {
    let stream = match plan {
        DataPlan::None => return Err(io::Error::other("no data connection was set up")),
        DataPlan::Passive(listener) => accept_from(&listener, peer, stop)?,
        DataPlan::Active(addr) => connect_to(addr, stop)?,
    };
    stream.set_read_timeout(Some(IDLE_TIMEOUT))?;
    stream.set_write_timeout(Some(IDLE_TIMEOUT))?;
    Ok(stream)
}

/// Accepts the first connection from `peer`'s IP within [`DATA_TIMEOUT`]; others are closed.
fn accept_from(listener: &TcpListener, peer: IpAddr, stop: &Stop) -> io::Result<TcpStream> {
    listener.set_nonblocking(true)?;
    let deadline = Instant::now() + DATA_TIMEOUT;
    loop {
        match listener.accept() {
            Ok((stream, from)) if from.ip() == peer => {
                stream.set_nonblocking(false)?;
                return Ok(stream);
            }
            Ok((stranger, from)) => {
                eprintln!("ftp: data connection from {from}, not the client {peer}: closed");
                drop(stranger);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                let what = "the client did not open the data connection";
                wait_for(listener.as_fd(), PollFlags::POLLIN, stop, deadline, what)?;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Connects to `addr` within [`DATA_TIMEOUT`]. Not `TcpStream::connect_timeout`, which nothing
/// can interrupt: a non-blocking `connect`, then a wait for the socket to become writable (the
/// handshake is over, one way or the other) or for the stop.
fn connect_to(addr: SocketAddr, stop: &Stop) -> io::Result<TcpStream> {
    let family = if addr.is_ipv4() {
        AddressFamily::Inet
    } else {
        AddressFamily::Inet6
    };
    let flags = SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC;
    let socket = socket(family, SockType::Stream, flags, None)?;
    match connect(socket.as_raw_fd(), &SockaddrStorage::from(addr)) {
        Ok(()) | Err(Errno::EINPROGRESS) => {}
        Err(e) => return Err(e.into()),
    }
    let deadline = Instant::now() + DATA_TIMEOUT;
    let what = "the client did not accept the data connection";
    wait_for(socket.as_fd(), PollFlags::POLLOUT, stop, deadline, what)?;
    match getsockopt(&socket, sockopt::SocketError)? {
        0 => {}
        errno => return Err(io::Error::from_raw_os_error(errno)),
    }
    let stream = TcpStream::from(socket);
    stream.set_nonblocking(false)?;
    Ok(stream)
}

/// Waits until `fd` shows `events`; an error saying `what` at `deadline`, another at a stop.
/// The stop's descriptor exists from the start: waking this wait allocates nothing.
fn wait_for(
    fd: BorrowedFd<'_>,
    events: PollFlags,
    stop: &Stop,
    deadline: Instant,
    what: &str,
) -> io::Result<()> {
    loop {
        if stop.is_stopped() {
            return Err(io::Error::other("the server is stopping"));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(io::ErrorKind::TimedOut, what));
        }
        if stop.wait_ready(fd, events, Some(left))? == Wake::Ready {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_and_eprt_arguments() {
        assert_eq!(
            parse_port("127,0,0,1,4,1"),
            Some("127.0.0.1:1025".parse().unwrap())
        );
        assert_eq!(parse_port("127,0,0,1,4"), None);
        assert_eq!(parse_port("127,0,0,1,4,256"), None);
        assert_eq!(
            parse_eprt("|1|127.0.0.1|2121|"),
            Some("127.0.0.1:2121".parse().unwrap())
        );
        assert_eq!(
            parse_eprt("!2!::1!2121!"),
            Some("[::1]:2121".parse().unwrap())
        );
        assert_eq!(parse_eprt("|2|127.0.0.1|2121|"), None);
        assert_eq!(parse_eprt("|1|127.0.0.1|0|"), None);
        assert_eq!(
            pasv_reply("127.0.0.1:1025".parse().unwrap()).unwrap(),
            "227 Entering Passive Mode (127,0,0,1,4,1)."
        );
    }
}
