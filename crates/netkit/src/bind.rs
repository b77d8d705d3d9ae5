//! Binding a listener with an error that says which address and what to do about it, and reading
//! the `HOST:PORT` a user typed.
//!
//! [`parse_addr`] takes a host name as well as an IP address (`localhost:7003`), as every
//! client does: a server that refuses `localhost` while the load generator accepts it makes the
//! user guess which spelling each program wants. A name may resolve to several addresses
//! (`localhost`: `::1` and `127.0.0.1`); IPv4 is preferred, the address loopback servers here
//! bind by default.
//!
//! `Address already in use (os error 98)` — which address? what now? [`bind`] adds both, and an
//! example's `main` (which returns `labkit::Failure`) prints: `Error: cannot listen on
//! 127.0.0.1:7003: Address already in use (os error 98) — is another server already listening
//! there? …`.

use std::io::{self, ErrorKind};
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};

/// Binds a TCP listener on `addr`; a failure names the address and the usual way out.
pub fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    TcpListener::bind(addr).map_err(|e| explain_bind(addr, e))
}

/// `error` from binding `addr`, with the address and a hint for the common causes.
pub fn explain_bind(addr: SocketAddr, error: io::Error) -> io::Error {
    let hint = match error.kind() {
        ErrorKind::AddrInUse => {
            " — is another server already listening there? Stop it, or choose another port with \
             --addr (port 0 picks a free one)"
        }
        ErrorKind::PermissionDenied => {
            " — ports below 1024 need root; choose another port with --addr"
        }
        ErrorKind::AddrNotAvailable => {
            " — this machine has no such address; 127.0.0.1 is always there"
        }
        _ => "",
    };
    io::Error::new(
        error.kind(),
        format!("cannot listen on {addr}: {error}{hint}"),
    )
}

/// Reads `HOST:PORT` (an IP address or a host name, `[v6]:PORT` for IPv6) as one address — the
/// first IPv4 one if the name has several. Fits clap: `#[arg(value_parser = netkit::parse_addr)]`.
pub fn parse_addr(text: &str) -> Result<SocketAddr, String> {
    let all: Vec<SocketAddr> = text
        .to_socket_addrs()
        .map_err(|e| format!("{text:?} is not HOST:PORT ({e})"))?
        .collect();
    all.iter()
        .find(|a| a.is_ipv4())
        .or(all.first())
        .copied()
        .ok_or_else(|| format!("{text:?} resolves to no address"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_name_is_read_like_an_address() {
        let local: SocketAddr = "127.0.0.1:7003".parse().unwrap();
        assert_eq!(parse_addr("127.0.0.1:7003"), Ok(local));
        assert_eq!(parse_addr("localhost:7003"), Ok(local));
        assert_eq!(parse_addr("[::1]:7003"), Ok("[::1]:7003".parse().unwrap()));
        let missing_port = parse_addr("localhost").unwrap_err();
        assert!(missing_port.contains("is not HOST:PORT"), "{missing_port}");
    }
}
