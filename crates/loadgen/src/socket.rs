//! Non-blocking connect from a chosen loopback source address.
//!
//! A blocking `connect` waits a whole round trip (or, against a full backlog, seconds of SYN
//! retries); one process holding 20,000 connections cannot afford one at a time. A non-blocking
//! socket's `connect` returns `EINPROGRESS` at once; the socket becomes *writable* when the
//! handshake is done, and `SO_ERROR` then says whether it succeeded.
//!
//! To get past one source address's ~28,000 ports, a socket may first be bound to 127.0.0.x.
//! Pitfall: a plain `bind(ip, 0)` picks the port right there, before the destination is known,
//! so it must be unique for that ip against *every* destination and runs out early (with
//! `EADDRINUSE`). `IP_BIND_ADDRESS_NO_PORT` tells the kernel to bind only the address and
//! choose the port at `connect`, when the whole 4-tuple is known.

use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpStream};
use std::os::fd::AsRawFd;

use nix::errno::Errno;
use nix::sys::socket::{
    AddressFamily, SockFlag, SockType, SockaddrIn, SockaddrStorage, bind, connect, setsockopt,
    socket, sockopt,
};

/// A socket whose connect has been started.
#[derive(Debug)]
pub struct Connecting {
    /// The socket (non-blocking, close-on-exec).
    pub stream: TcpStream,
    /// True when `connect` completed at once (it may, on loopback); otherwise wait for writable
    /// and call [`finish_connect`].
    pub done: bool,
}

/// The source address for connection number `index` when spreading over `sources` addresses:
/// 127.0.0.1, 127.0.0.2, …, round robin. `None` (let the kernel choose) for a single source.
pub fn source_for(index: u64, sources: usize) -> Option<Ipv4Addr> {
    if sources <= 1 {
        return None;
    }
    let host = 1 + (index % sources as u64) as u8;
    Some(Ipv4Addr::new(127, 0, 0, host))
}

/// Creates a non-blocking TCP socket, binds it to `source` (port chosen later, at connect) if
/// given, and starts connecting to `addr`.
///
/// Errors are those of `socket` (`EMFILE`, `ENFILE`, `ENOMEM`), `bind` and an immediate
/// `connect` failure (`ECONNREFUSED`, `EADDRNOTAVAIL`).
pub fn start_connect(addr: SocketAddr, source: Option<Ipv4Addr>) -> io::Result<Connecting> {
    let family = match addr {
        SocketAddr::V4(_) => AddressFamily::Inet,
        SocketAddr::V6(_) => AddressFamily::Inet6,
    };
    let fd = socket(
        family,
        SockType::Stream,
        SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    if let Some(ip) = source {
        setsockopt(&fd, sockopt::IpBindAddressNoPort, &true)?;
        bind(fd.as_raw_fd(), &SockaddrIn::from(SocketAddrV4::new(ip, 0)))?;
    }
    let done = match connect(fd.as_raw_fd(), &SockaddrStorage::from(addr)) {
        Ok(()) => true,
        Err(Errno::EINPROGRESS) => false,
        Err(Errno::EINTR) => false, // the connect goes on in the background; wait for writable
        Err(errno) => return Err(errno.into()),
    };
    Ok(Connecting {
        stream: TcpStream::from(fd),
        done,
    })
}

/// Called when a connecting socket turned writable: `Ok` if the handshake succeeded, else the
/// error `connect` would have returned (from `SO_ERROR`).
pub fn finish_connect(stream: &TcpStream) -> io::Result<()> {
    match stream.take_error()? {
        None => Ok(()),
        Some(error) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_spread_round_robin_from_127_0_0_1() {
        assert_eq!(source_for(0, 1), None);
        assert_eq!(source_for(0, 3), Some(Ipv4Addr::new(127, 0, 0, 1)));
        assert_eq!(source_for(4, 3), Some(Ipv4Addr::new(127, 0, 0, 2)));
        assert_eq!(source_for(5, 3), Some(Ipv4Addr::new(127, 0, 0, 3)));
    }

    #[test]
    fn a_bound_source_is_the_local_address_of_the_connection() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let source = Ipv4Addr::new(127, 0, 0, 3);
        let connecting = start_connect(listener.local_addr().unwrap(), Some(source)).unwrap();
        let (_accepted, peer) = listener.accept().unwrap();
        assert_eq!(peer.ip(), source);
        // The accept proves the handshake completed; SO_ERROR agrees.
        finish_connect(&connecting.stream).unwrap();
        assert_eq!(connecting.stream.local_addr().unwrap().ip(), source);
    }
}
