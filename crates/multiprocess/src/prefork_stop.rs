//! A graceful stop for the prefork server: stop accepting, let each worker finish its client.
//!
//! **What.** The threads of a thread server share one process, so a registry of their
//! connections is enough to stop them (`multithread::connections`). Prefork's workers are
//! processes: the supervisor cannot reach the socket a worker is serving, and a flag it sets
//! stays in its own memory. What the workers do share with it:
//!
//! - **the listening socket**, one open file description for all: `shutdown(Read)` on a
//!   listening socket (Linux) takes it out of the listening state for every process that holds
//!   it ([`stop_listening`]) — a newcomer is refused (`ECONNREFUSED`) at once, although busy
//!   workers still hold the descriptor;
//! - **the stop's descriptor**, inherited through `fork`: it turns readable in every worker when
//!   the supervisor stops. An idle worker watches it beside the listener and exits; a busy
//!   worker's [`Watcher`] thread shuts down the read side of the connection being served, so the
//!   worker's next read (for the next request) returns EOF, while a response being written goes
//!   on to its end.
//!
//! The supervisor then waits for its workers to exit ([`wait_for_workers`]), for at most the
//! stop's grace period, or until the stop is forced (a second Ctrl-C); the rest are ended with
//! SIGTERM, and the log says how many.
//!
//! **The pitfall.** A stop that comes between a worker's `accept` and its telling the watcher
//! must not be missed: [`Watcher::serving`] looks at the flag the watcher thread sets, under the
//! same lock, and shuts the read side itself if the stop came first.

use std::collections::HashSet;
use std::io;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::fd::{AsFd, AsRawFd};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;

use netkit::graceful::Graceful;
use netkit::{Stop, timers};
use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::unistd::Pid;

use crate::per_process_server::forget;
use crate::reaping::Reaper;

/// In a worker process: a thread that waits for the supervisor's stop and then shuts down the
/// read side of the connection being served.
#[derive(Debug)]
pub(crate) struct Watcher {
    state: Arc<Mutex<Watched>>,
}

#[derive(Debug, Default)]
struct Watched {
    /// The stop came.
    stopping: bool,
    /// A clone of the connection being served, if any.
    serving: Option<TcpStream>,
}

impl Watcher {
    /// Starts the thread, watching a copy of `stop`'s descriptor (inherited from the supervisor).
    pub(crate) fn start(stop: &Stop) -> io::Result<Watcher> {
        let fd = stop.fd().try_clone_to_owned()?;
        let state = Arc::new(Mutex::new(Watched::default()));
        let shared = Arc::clone(&state);
        thread::Builder::new()
            .name("stop watcher".into())
            .spawn(move || {
                let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
                loop {
                    match poll(&mut fds, PollTimeout::NONE) {
                        Ok(_) => break,
                        Err(Errno::EINTR) => {}
                        Err(_) => return, // the supervisor's SIGTERM still ends this worker
                    }
                }
                let mut watched = lock(&shared);
                watched.stopping = true;
                if let Some(stream) = &watched.serving {
                    let _ = stream.shutdown(Shutdown::Read);
                }
            })?;
        Ok(Watcher { state })
    }

    /// The worker serves `stream` now: a stop shuts its read side — at once, if it came already.
    pub(crate) fn serving(&self, stream: &TcpStream) {
        let mut watched = lock(&self.state);
        if watched.stopping {
            let _ = stream.shutdown(Shutdown::Read);
        }
        // Without a clone (out of descriptors) the stop cannot reach this connection; the
        // supervisor's grace period still bounds it.
        watched.serving = stream.try_clone().ok();
    }

    /// The connection is done (the clone is closed with it).
    pub(crate) fn done(&self) {
        lock(&self.state).serving = None;
    }
}

fn lock(state: &Mutex<Watched>) -> MutexGuard<'_, Watched> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}

/// Takes the shared listening socket out of the listening state, for every process that holds
/// it: a new client is refused at once, and connections waiting in the backlog are reset.
pub(crate) fn stop_listening(listener: &TcpListener) {
    let _ = nix::sys::socket::shutdown(listener.as_raw_fd(), nix::sys::socket::Shutdown::Read);
}

/// The supervisor's drain: reaps workers as they exit, until none is left, the stop's grace
/// period passes, or the stop is forced. The workers still in `children` afterwards are the
/// ones to end (logged).
pub(crate) fn wait_for_workers(
    children: &mut HashSet<Pid>,
    reaper: &Reaper,
    stop: &Stop,
) -> io::Result<()> {
    let mut graceful = Graceful::new("prefork", stop).counting("worker(s)");
    loop {
        forget(children, reaper.reap()?);
        if !graceful.goes_on(children.len()) {
            return Ok(());
        }
        let mut fds = [
            PollFd::new(reaper.fd(), PollFlags::POLLIN),
            PollFd::new(stop.force_fd(), PollFlags::POLLIN),
        ];
        match poll(&mut fds, timers::poll_timeout(graceful.wait(None))) {
            Ok(_) | Err(Errno::EINTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
}
