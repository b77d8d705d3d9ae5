//! Servers under test: started in-process on a thread, or as a child process.
//!
//! Either way the test gets the real address (the server bound port 0) and the server is stopped
//! when the handle is dropped. [`ServerUnderTest`] is what the conformance suites need from both
//! kinds: the address, which process holds the server's descriptors (for leak checks), and any
//! diagnostics to add to a failure message.

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;

use netkit::Stop;
use netkit::accept::Acceptor;

use crate::time::{Deadline, STEP};
use crate::{Error, Result};

/// What a conformance suite needs to know about a running server.
pub trait ServerUnderTest {
    /// Where clients connect.
    fn addr(&self) -> SocketAddr;
    /// The process that holds the server's descriptors (this process for in-process servers).
    fn pid(&self) -> u32;
    /// True when the server shares this process (so fd counts include the test's own fds).
    fn in_process(&self) -> bool;
    /// Text to add to a failure message (a child's stderr); empty when there is none.
    fn diagnostics(&self) -> String {
        String::new()
    }
    /// Stops the server, reporting whether it ended well (in-process: returned `Ok` without
    /// panicking; child: nothing to report, the process is killed).
    fn shut_down(self) -> Result<()>
    where
        Self: Sized;
}

/// A server running on a thread of the test process; stopped (and checked) on drop.
#[derive(Debug)]
pub struct InProcessServer {
    addr: SocketAddr,
    stop: Arc<Stop>,
    outcome: Option<Receiver<std::result::Result<io::Result<()>, String>>>,
}

/// Binds `127.0.0.1:0`, and runs `run(listener, stop)` on a new thread.
///
/// The server must return soon after the stop is requested. The harness requests it with
/// [`Stop::stop`] alone — no wake-up connection — so a server that does not watch
/// [`Stop::fd`] wherever it waits fails to stop, and the test says so.
pub fn serve<F>(run: F) -> InProcessServer
where
    F: FnOnce(TcpListener, Arc<Stop>) -> io::Result<()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").expect("binding 127.0.0.1:0 for a test server");
    let addr = listener
        .local_addr()
        .expect("local address of the test listener");
    let stop = Arc::new(Stop::new().expect("a stop for a test server"));
    let (tx, rx) = mpsc::channel();
    let flag = Arc::clone(&stop);
    thread::Builder::new()
        .name(format!("server {addr}"))
        .spawn(move || {
            let outcome = catch_unwind(AssertUnwindSafe(|| run(listener, flag)))
                .map_err(|panic| labkit::panic::message(&*panic));
            let _ = tx.send(outcome);
        })
        .expect("spawning the server thread");
    InProcessServer {
        addr,
        stop,
        outcome: Some(rx),
    }
}

/// A server that runs `handle` on its own thread for each connection, until stopped.
///
/// For tests that need a peer with specific (often deliberately wrong) behaviour — a server
/// that corrupts a byte, ignores short writes, never closes — without writing an accept loop.
pub fn serve_each(handle: fn(TcpStream) -> io::Result<()>) -> InProcessServer {
    serve(move |listener, stop| {
        let mut acceptor = Acceptor::new(listener)?;
        while let Some((stream, _peer)) = acceptor.next_blocking(&stop)? {
            thread::spawn(move || handle(stream));
        }
        Ok(())
    })
}

impl InProcessServer {
    /// Where clients connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Asks the server to stop, without waiting: a graceful stop finishes what is in flight
    /// first, and the test may have to take part (read a response to its end). [`stop`](Self::stop)
    /// then ends what is left and waits.
    pub fn request_stop(&self) {
        self.stop.stop();
    }

    /// Ends the server now and waits for its thread to end; reports an error it returned, a
    /// panic, or a failure to stop within the step deadline. The stop is forced (the second
    /// Ctrl-C): a connection still busy — a client that never reads — is cut rather than given
    /// the stop's whole grace period. A test of the graceful stop calls
    /// [`request_stop`](Self::request_stop) first and sees the drain through before this.
    pub fn stop(mut self) -> Result<()> {
        self.stop_inner()
    }

    fn stop_inner(&mut self) -> Result<()> {
        let Some(outcome) = self.outcome.take() else {
            return Ok(());
        };
        self.stop.force();
        let deadline = Deadline::after(STEP, format!("in-process server {} to stop", self.addr));
        match outcome.recv_timeout(deadline.remaining()?) {
            Ok(Ok(Ok(()))) => Ok(()),
            Ok(Ok(Err(e))) => Err(Error::new(format!("in-process server {}", self.addr), e)),
            Ok(Err(panic)) => Err(Error::new(
                format!("in-process server {}", self.addr),
                format!("panicked: {panic}"),
            )),
            Err(RecvTimeoutError::Timeout) => Err(deadline.expired().context(
                "the server did not return after the stop was requested (does it watch `Stop::fd` \
                 wherever it waits?)",
            )),
            Err(RecvTimeoutError::Disconnected) => Err(Error::new(
                format!("in-process server {}", self.addr),
                "thread ended without reporting",
            )),
        }
    }
}

impl Drop for InProcessServer {
    fn drop(&mut self) {
        if let Err(e) = self.stop_inner()
            && !thread::panicking()
        {
            panic!("{e}");
        }
    }
}

impl ServerUnderTest for InProcessServer {
    fn addr(&self) -> SocketAddr {
        self.addr
    }
    fn pid(&self) -> u32 {
        std::process::id()
    }
    fn in_process(&self) -> bool {
        true
    }
    fn shut_down(self) -> Result<()> {
        self.stop()
    }
}
