//! Binding a listener with an error that says which address and what to do about it.
//!
//! `Address already in use (os error 98)` — which address? what now? [`bind`] adds both, and an
//! example's `main` (which returns `labkit::Failure`) prints: `Error: cannot listen on
//! 127.0.0.1:7003: Address already in use (os error 98) — is another server already listening
//! there? …`.

use std::io::{self, ErrorKind};
use std::net::{SocketAddr, TcpListener};

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
