//! What an example's `main` returns, so a failure reads as a sentence, not a struct dump.
//!
//! `fn main() -> io::Result<()>` prints an error with `{:?}`:
//! `Error: Os { code: 98, kind: AddrInUse, message: "Address already in use" }` — which address?
//! what now? [`Failure`] prints its message instead, and [`bind`] adds the address and the usual
//! way out: `Error: cannot listen on 127.0.0.1:7003: Address already in use (os error 98) — is
//! another server already listening there? …`.

use std::fmt;
use std::io::{self, ErrorKind};
use std::net::{SocketAddr, TcpListener};

/// An error that `main` prints as its message (`Debug` shows the same text as `Display`).
pub struct Failure(io::Error);

impl From<io::Error> for Failure {
    fn from(error: io::Error) -> Self {
        Failure(error)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for Failure {}

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
