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
//! The stop flag is only looked at between clients: while a client is connected this loop
//! cannot notice anything else, which is the lesson. The example therefore ends the process on
//! Ctrl-C; there is no state to save, and the kernel closes the sockets.

use std::io;
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};

use netkit::accept::is_out_of_descriptors;
use netkit::echo::echo_blocking;

/// Serves clients one after another until `stop` is set.
pub fn run(listener: TcpListener, stop: &AtomicBool) -> io::Result<()> {
    for accepted in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        match accepted {
            Ok(mut stream) => {
                // Blocks until this client closes its side; every other client waits meanwhile.
                if let Err(e) = echo_blocking(&mut stream) {
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
