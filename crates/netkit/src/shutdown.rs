//! Ctrl-C and SIGTERM as a stop flag that a server loop checks.
//!
//! A signal handler may only do async-signal-safe work, so ours does nothing itself:
//! signal-hook's iterator writes to a self-pipe inside the handler, and a plain thread reads it,
//! sets the flag, and then *wakes* the server — by connecting to its listener — because a server
//! blocked in `accept` or `epoll_wait` would otherwise not look at the flag until the next client
//! arrived.
//!
//! The pitfall: install this before printing the `listening on` banner. A test (or a script)
//! may send SIGINT the moment it reads that line, and a process without a handler dies of it.

use std::io;
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// Runs `on_signal` on a helper thread when SIGINT or SIGTERM first arrives.
pub fn on_ctrl_c(on_signal: impl FnOnce() + Send + 'static) -> io::Result<()> {
    let mut signals = Signals::new([SIGINT, SIGTERM])?;
    std::thread::Builder::new()
        .name("ctrl-c".into())
        .spawn(move || {
            if signals.forever().next().is_some() {
                on_signal();
            }
        })?;
    Ok(())
}

/// A stop flag set by Ctrl-C/SIGTERM, which then wakes the TCP server listening on `addr`.
pub fn stop_on_ctrl_c(addr: SocketAddr) -> io::Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    on_ctrl_c(move || {
        flag.store(true, Ordering::SeqCst);
        wake_tcp(addr);
    })?;
    Ok(stop)
}

/// A stop flag set by Ctrl-C/SIGTERM, which then wakes the UDP server bound to `addr` with an
/// empty datagram.
pub fn stop_udp_on_ctrl_c(addr: SocketAddr) -> io::Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    on_ctrl_c(move || {
        flag.store(true, Ordering::SeqCst);
        wake_udp(addr);
    })?;
    Ok(stop)
}

/// Connects once to `addr` and hangs up, so a server blocked on its listener wakes up.
/// Failure is fine: the server may already be gone.
pub fn wake_tcp(addr: SocketAddr) {
    let _ = TcpStream::connect_timeout(&connectable(addr), Duration::from_secs(1));
}

/// Sends an empty datagram to `addr`, so a server blocked on its socket wakes up.
pub fn wake_udp(addr: SocketAddr) {
    let local = if addr.is_ipv4() {
        "127.0.0.1:0"
    } else {
        "[::1]:0"
    };
    if let Ok(socket) = UdpSocket::bind(local) {
        let _ = socket.send_to(&[], connectable(addr));
    }
}

/// A server bound to the wildcard address is reached through loopback.
fn connectable(addr: SocketAddr) -> SocketAddr {
    let mut addr = addr;
    if addr.ip().is_unspecified() {
        addr.set_ip(if addr.is_ipv4() {
            [127, 0, 0, 1].into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        });
    }
    addr
}
