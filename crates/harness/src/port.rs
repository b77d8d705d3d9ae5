//! A port that is certainly closed, for tests of "connection refused".
//!
//! Binding port 0 and closing the listener again gives a port that is closed *now*; but other
//! tests run in parallel, and the kernel may hand the same port to one of them a moment later,
//! so a "refused" test would sometimes connect to a stranger. [`ClosedPort`] keeps a socket
//! *bound* to the port without listening on it: a connection is refused (RST), and nobody else
//! can take the port while the guard lives.

use std::net::{SocketAddr, SocketAddrV4};
use std::os::fd::OwnedFd;

use nix::sys::socket::{AddressFamily, SockFlag, SockType, SockaddrIn, bind, getsockname, socket};

use crate::{Error, Result};

/// A loopback TCP port reserved and not listening; see the module docs.
#[derive(Debug)]
pub struct ClosedPort {
    addr: SocketAddr,
    _reserved: OwnedFd,
}

impl ClosedPort {
    /// Reserves a free port on 127.0.0.1.
    pub fn new() -> Result<ClosedPort> {
        let fail = |e| Error::new("reserving a closed port on 127.0.0.1", e);
        let socket = socket(
            AddressFamily::Inet,
            SockType::Stream,
            SockFlag::SOCK_CLOEXEC,
            None,
        )
        .map_err(fail)?;
        let any_port = SockaddrIn::from(SocketAddrV4::new([127, 0, 0, 1].into(), 0));
        bind(std::os::fd::AsRawFd::as_raw_fd(&socket), &any_port).map_err(fail)?;
        let bound: SockaddrIn =
            getsockname(std::os::fd::AsRawFd::as_raw_fd(&socket)).map_err(fail)?;
        Ok(ClosedPort {
            addr: SocketAddr::V4(SocketAddrV4::new(bound.ip(), bound.port())),
            _reserved: socket,
        })
    }

    /// The address: connecting to it is refused.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connecting_to_a_closed_port_is_refused() {
        let port = ClosedPort::new().unwrap();
        let error = std::net::TcpStream::connect(port.addr()).unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::ConnectionRefused);
        // And no listener can take it meanwhile.
        assert!(std::net::TcpListener::bind(port.addr()).is_err());
    }
}
