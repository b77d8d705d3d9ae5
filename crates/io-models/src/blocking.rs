//! Model 1 — blocking IO: `accept` blocks, `read` blocks, one client at a time.
//!
//! ```text
//!   application                kernel
//!   accept() ───────────────▶  wait for a connection ┐ blocked
//!            ◀─────────────── connection             ┘
//!   read()   ───────────────▶  wait for data ┐ blocked
//!                              copy to user  ┘
//!            ◀─────────────── n bytes
//!   write()  ───────────────▶  copy to socket buffer (may block while it is full)
//! ```
//!
//! The simplest server there is, and correct for one client. The pitfall is the second client:
//! while the loop sits in `read` waiting for client A, nobody calls `accept`, so client B's
//! connection waits in the listen queue — connected as far as B can tell, yet never answered —
//! until A hangs up. This server therefore *fails* the concurrency checks of the echo
//! conformance suite (100 clients at once; an idle client blocking another) and passes the rest;
//! its test asserts exactly that.
//!
//! The ways out are the rest of this chapter (one thread waits on many sockets: select, poll,
//! epoll, …) and the multithread and multiprocess chapters (many threads or processes, each
//! blocking on one socket).
//!
//! Stopping shows the same limit. A blocking `accept` watches nothing but its listener, so the
//! only way to wake it is the old trick: whoever stops the server *connects to it*
//! ([`Stop::on_stop`] with [`wake_tcp`]) — every other server in the workspace watches the stop's
//! own descriptor instead, because that trick needs a new descriptor at the worst moment (a
//! server out of descriptors cannot be stopped). And while a client is connected, this loop
//! cannot notice anything at all: the stop is seen between clients. The example therefore ends
//! the process on Ctrl-C; there is no state to save, and the kernel closes the sockets.

use std::io;
use std::net::{TcpListener, TcpStream};

use netkit::Stop;
use netkit::accept::is_out_of_descriptors;
use netkit::echo::echo_blocking;
use netkit::stop::wake_tcp;

/// Serves echo to clients one after another until `stop` is requested (seen between clients).
pub fn run(listener: TcpListener, stop: &Stop) -> io::Result<()> {
    run_with(listener, stop, echo_blocking)
}

/// Serves any protocol, one client at a time: `handle` serves a connection to its end.
pub fn run_with(
    listener: TcpListener,
    stop: &Stop,
    mut handle: impl FnMut(&mut TcpStream) -> io::Result<()>,
) -> io::Result<()> {
    let addr = listener.local_addr()?;
    stop.on_stop(move || wake_tcp(addr));
    for accepted in listener.incoming() {
        if stop.is_stopped() {
            break;
        }
        match accepted {
            Ok(mut stream) => {
                // Blocks until this client closes its side; every other client waits meanwhile.
                if let Err(e) = handle(&mut stream) {
                    eprintln!("blocking: client dropped: {e}");
                }
            }
            Err(e) if is_out_of_descriptors(&e) => {
                // One client at a time holds one descriptor; this means another part of the
                // process leaks. Say so and keep serving what we can.
                eprintln!("blocking: accept: {e}");
            }
            Err(e) => eprintln!("blocking: accept: {e}"),
        }
    }
    Ok(())
}
