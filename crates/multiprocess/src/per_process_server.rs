//! Echo servers made of processes: one forked per connection, or a prefork pool.
//!
//! **Fork per connection** ([`fork_per_connection`], the course's multi-process server): the
//! parent accepts; for each connection it forks a child that echoes that client and exits. The
//! parent watches its listener *and* a [`Reaper`] with `poll(2)`, so children are reaped as they
//! die and no zombie stays. Two descriptor rules make it work:
//!
//! - the parent closes its copy of the connection right after `fork` — otherwise the client
//!   never sees the connection close, because the parent still holds it open;
//! - the child closes its copy of the listener — otherwise a child still serving a client would
//!   keep the port listening after the server stopped, queueing connections nobody accepts.
//!
//! **Prefork** ([`prefork`], Apache's prefork model): N workers forked up front share the one
//! listening socket; each accepts a connection, echoes it to the end, and accepts the next. So
//! N workers serve N clients at once, and client N+1 waits in the listen queue until one is
//! free. The supervisor forks a new worker when one dies. Every worker waits in `poll` on the
//! shared listener and every one is woken by each new connection — the *thundering herd* — but
//! only one `accept` succeeds; the others get `EAGAIN` ([`netkit::accept::Accepted::Empty`]).
//! The listener's `O_NONBLOCK` flag is shared too: `fork` shares the open file description.
//!
//! Both are bounded ([`crate::server_limits`]): the fork server runs at most `max_children`
//! children and turns the next client away at once with a line and a log line; every child and
//! worker lets go of a client that stays silent past the idle timeout.
//!
//! Both servers kill and reap their children when they stop, and give every child
//! `PR_SET_PDEATHSIG`, so a killed server leaves no orphan holding a client.
//! They fork from a process whose other thread only waits for Ctrl-C, and run only as examples
//! (single-purpose processes); tests drive them as child processes.

use std::collections::HashSet;
use std::io::{self, ErrorKind};
use std::net::{TcpListener, TcpStream};
use std::os::fd::{AsFd, AsRawFd};
use std::time::Duration;

use netkit::accept::{Accepted, Acceptor};
use netkit::conn::is_peer_gone;
use netkit::echo::echo_blocking;
use netkit::shed::Shedder;
use netkit::{Stop, log_line};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{SigHandler, Signal, kill, signal};
use nix::unistd::Pid;

use crate::prefork_stop::{self, Watcher};
use crate::reaping::{Reaped, Reaper};
use crate::server_limits::Limits;
use crate::spawn::{self, Outcome};

/// How long the prefork supervisor waits before trying again a fork that failed.
const FORK_RETRY: Duration = Duration::from_millis(100);

/// A connection handler run in a child process: serves one client to the end.
pub trait Handler: Fn(&mut TcpStream) -> io::Result<()> {}
impl<H: Fn(&mut TcpStream) -> io::Result<()>> Handler for H {}

/// Fork-per-connection echo server; returns soon after `stop` is requested.
pub fn fork_per_connection(listener: TcpListener, stop: &Stop) -> io::Result<()> {
    fork_per_connection_with(listener, stop, echo_blocking)
}

/// The fork-per-connection server, for any protocol: each child runs `handle` on its client.
/// Bounded by the default [`Limits`].
pub fn fork_per_connection_with(
    listener: TcpListener,
    stop: &Stop,
    handle: impl Handler,
) -> io::Result<()> {
    fork_per_connection_limited(listener, stop, &Limits::default(), handle)
}

/// [`fork_per_connection_with`] under `limits`: at most `max_children` children; the next
/// client reads `busy` and is closed; a child lets a client silent for `idle_timeout` go.
pub fn fork_per_connection_limited(
    listener: TcpListener,
    stop: &Stop,
    limits: &Limits,
    handle: impl Handler,
) -> io::Result<()> {
    let reaper = Reaper::install()?;
    let mut shedder = Shedder::new("fork", limits.busy);
    let max = limits.max_children;
    let mut acceptor = Acceptor::new(listener)?;
    let listener_fd = acceptor.listener().as_raw_fd();
    let mut children: HashSet<Pid> = HashSet::new();
    while !stop.is_stopped() {
        let (accept_ready, reap_ready) = {
            let mut fds = [
                PollFd::new(acceptor.listener().as_fd(), PollFlags::POLLIN),
                PollFd::new(reaper.fd(), PollFlags::POLLIN),
                PollFd::new(stop.fd(), PollFlags::POLLIN),
            ];
            match poll(&mut fds, PollTimeout::NONE) {
                Ok(_) => {}
                // SIGCHLD interrupts poll (poll is never restarted): look again.
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(e.into()),
            }
            (is_ready(&fds[0]), is_ready(&fds[1]))
        };
        if reap_ready {
            forget(&mut children, reaper.reap()?);
        }
        if accept_ready && !stop.is_stopped() {
            acceptor.accept_all(|stream, peer| {
                if children.len() >= max {
                    // A child may have exited since the last SIGCHLD was read: count again.
                    forget(&mut children, reaper.reap()?);
                }
                if children.len() >= max {
                    shedder.refuse(stream, peer, format_args!("{max} children running"));
                    return Ok(());
                }
                let child = spawn::fork_run(|| {
                    // SAFETY: the child closes its copy of the listener; the parent's
                    // `Acceptor` still owns its own copy, and the child never touches it.
                    unsafe { libc::close(listener_fd) };
                    serve_one(stream, &handle, limits.idle_timeout)
                });
                // The child has its copy; the parent's is dropped (closed) here with `stream`.
                match child {
                    Ok(child) => {
                        children.insert(child);
                    }
                    // Out of processes (EAGAIN: RLIMIT_NPROC, pid_max) or memory: this client
                    // is turned away (its connection closes), the server carries on.
                    Err(e) => log_line(&format!(
                        "cannot fork a child for {peer}: {e}; connection closed"
                    )),
                }
                Ok(())
            })?;
        }
    }
    log_line(&format!(
        "fork: stopping; ending {} children",
        children.len()
    ));
    stop_children(&mut children, &reaper)
}

/// Prefork echo server with `workers` processes; returns soon after `stop` is requested.
pub fn prefork(listener: TcpListener, stop: &Stop, workers: usize) -> io::Result<()> {
    prefork_with(listener, stop, workers, echo_blocking)
}

/// The prefork server, for any protocol: each worker runs `handle` on one client after another.
/// A worker lets a client silent for the default idle timeout go ([`Limits`]).
///
/// The workers are stopped by a signal (SIGTERM), not by `stop`: a forked child has its own
/// copy of the parent's memory, so a flag set in the parent never reaches it.
pub fn prefork_with(
    listener: TcpListener,
    stop: &Stop,
    workers: usize,
    handle: impl Handler,
) -> io::Result<()> {
    prefork_limited(listener, stop, workers, &Limits::default(), handle)
}

/// [`prefork_with`] under `limits`: only `idle_timeout` applies (the bound is `workers`).
pub fn prefork_limited(
    listener: TcpListener,
    stop: &Stop,
    workers: usize,
    limits: &Limits,
    handle: impl Handler,
) -> io::Result<()> {
    let reaper = Reaper::install()?;
    // Set once, here, for every worker: the flag lives in the shared open file description.
    listener.set_nonblocking(true)?;
    let workers = workers.max(1);
    let mut children: HashSet<Pid> = HashSet::new();
    for _ in 0..workers {
        children.insert(start_worker(&listener, &handle, limits, stop)?);
    }
    while !stop.is_stopped() {
        let mut fds = [
            PollFd::new(reaper.fd(), PollFlags::POLLIN),
            PollFd::new(stop.fd(), PollFlags::POLLIN),
        ];
        // At full strength nothing is due until a worker dies or the stop comes; short of it
        // (a fork failed), try again shortly.
        let timeout = if children.len() < workers {
            PollTimeout::try_from(FORK_RETRY).unwrap_or(PollTimeout::MAX)
        } else {
            PollTimeout::NONE
        };
        match poll(&mut fds, timeout) {
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        }
        if is_ready(&fds[0]) {
            for (pid, outcome) in reaper.reap()? {
                if children.remove(&pid) {
                    log_line(&format!("worker {pid} {outcome}; starting another"));
                }
            }
        }
        // Back to full strength. A fork that fails (out of processes or memory) is tried again
        // after FORK_RETRY; the workers that remain go on serving meanwhile.
        while children.len() < workers && !stop.is_stopped() {
            match start_worker(&listener, &handle, limits, stop) {
                Ok(pid) => {
                    children.insert(pid);
                }
                Err(e) => {
                    log_line(&format!("cannot fork a worker: {e}; trying again shortly"));
                    break;
                }
            }
        }
    }
    if limits.graceful {
        prefork_stop::stop_listening(&listener);
        prefork_stop::wait_for_workers(&mut children, &reaper, stop)?;
    }
    if !children.is_empty() {
        log_line(&format!(
            "prefork: stopping; ending {} workers",
            children.len()
        ));
    }
    stop_children(&mut children, &reaper)
}

/// Forks one prefork worker: accept, serve to the end, repeat. With [`Limits::graceful`], it
/// also watches `stop` (its descriptor is inherited): idle, it exits; busy, its client's read
/// side is shut down ([`prefork_stop`]), so it finishes what is in flight and then exits.
fn start_worker(
    listener: &TcpListener,
    handle: &impl Handler,
    limits: &Limits,
    stop: &Stop,
) -> io::Result<Pid> {
    spawn::fork_run(|| {
        let _ = nix::sys::prctl::set_pdeathsig(Signal::SIGTERM);
        // Ctrl-C in a terminal reaches the whole process group. The supervisor ends its workers
        // itself (SIGTERM) when it stops; a worker dead of SIGINT would only be "replaced".
        // SAFETY: SIG_IGN is not a handler function, so no handler safety rules apply.
        let _ = unsafe { signal(Signal::SIGINT, SigHandler::SigIgn) };
        let Ok(shared) = listener.try_clone() else {
            return 1;
        };
        let Ok(mut acceptor) = Acceptor::new(shared) else {
            return 1;
        };
        let watcher = match limits.graceful.then(|| Watcher::start(stop)).transpose() {
            Ok(watcher) => watcher,
            Err(_) => return 1,
        };
        loop {
            let mut fds = vec![PollFd::new(acceptor.listener().as_fd(), PollFlags::POLLIN)];
            if watcher.is_some() {
                fds.push(PollFd::new(stop.fd(), PollFlags::POLLIN));
            }
            match poll(&mut fds, PollTimeout::NONE) {
                Ok(_) | Err(nix::errno::Errno::EINTR) => {}
                Err(_) => return 1,
            }
            if fds.get(1).is_some_and(is_ready) {
                return 0; // a graceful stop, and nothing in flight
            }
            match acceptor.accept() {
                // Serves this client to the end before accepting another.
                Ok(Accepted::Connection(stream, _)) => {
                    if let Some(watcher) = &watcher {
                        watcher.serving(&stream);
                    }
                    serve_one(stream, handle, limits.idle_timeout);
                    if let Some(watcher) = &watcher {
                        watcher.done();
                    }
                }
                // Another worker won the race for this connection (the herd), or it was shed.
                Ok(Accepted::Empty | Accepted::Shed) => {}
                Err(_) => return 1,
            }
        }
    })
}

/// In a child: serve one client to the end, or until it is silent for `idle`; the child's exit
/// status.
fn serve_one(mut stream: TcpStream, handle: &impl Handler, idle: Option<Duration>) -> i32 {
    let _ = nix::sys::prctl::set_pdeathsig(Signal::SIGTERM);
    let ready = stream.set_nonblocking(false).and_then(|()| {
        // A blocked read or write then fails with EAGAIN (`WouldBlock`) after `idle`.
        stream.set_read_timeout(idle)?;
        stream.set_write_timeout(idle)
    });
    if ready.is_err() {
        return 1;
    }
    match handle(&mut stream) {
        Ok(()) => 0,
        // A client that resets is the client's business, not a failure of the server.
        Err(e) if is_peer_gone(&e) => 0,
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
            let (pid, secs) = (std::process::id(), idle.unwrap_or_default().as_secs_f64());
            let peer = stream
                .peer_addr()
                .map_or("a client".into(), |p| p.to_string());
            log_line(&format!(
                "process {pid}: {peer} was idle for {secs}s; closed its connection"
            ));
            0
        }
        Err(_) => 1,
    }
}

fn is_ready(fd: &PollFd) -> bool {
    fd.revents().is_some_and(|r| !r.is_empty())
}

/// Forgets the children `reaped`, logging any that did not end well.
pub(crate) fn forget(children: &mut HashSet<Pid>, reaped: Vec<Reaped>) {
    for (pid, outcome) in reaped {
        children.remove(&pid);
        // Ctrl-C in a terminal reaches the whole foreground process group, children included,
        // so SIGINT/SIGTERM deaths are normal stops; anything else is worth a line.
        let stopped = matches!(
            outcome,
            Outcome::Signaled {
                signal: Signal::SIGINT | Signal::SIGTERM,
                ..
            }
        );
        if !outcome.success() && !stopped {
            log_line(&format!("child {pid} {outcome}"));
        }
    }
}

/// SIGTERM to every child, then reap them all: no zombie, no orphan.
fn stop_children(children: &mut HashSet<Pid>, reaper: &Reaper) -> io::Result<()> {
    for &pid in children.iter() {
        let _ = kill(pid, Signal::SIGTERM);
    }
    for pid in children.drain() {
        spawn::wait_for(pid)?;
    }
    // Any child reaped by nobody yet (there should be none) is collected here.
    reaper.reap()?;
    Ok(())
}
