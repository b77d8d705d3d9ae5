//! `echo_target`: a pre-forked epoll echo server for loadgen to aim at.
//!
//! What it is: N worker processes, each with **its own** listening socket on the same port
//! (`SO_REUSEPORT`), so the kernel spreads incoming connections over them, and each worker an
//! event loop (`target/echo_loop.rs`) holding its connections. N processes hold N × 20,000 descriptors,
//! which is how one server holds 100,000 connections under a 20,000-per-process limit.
//!
//! Why it is built this way: loadgen's numbers are only worth something against a server that
//! is not itself the limit, and loadgen's own tests need a real server that behaves under
//! pressure (back-pressure, `EMFILE` without spinning: see `target/echo_loop.rs`).
//!
//! This file is the process side: bind N listeners (the first picks the port when given port 0),
//! fork one worker per listener (each keeps only its own), print `listening on <addr>`, and
//! supervise: SIGINT/SIGTERM are forwarded to the workers as SIGTERM and every worker is reaped;
//! a worker that dies on its own stops the rest and fails the server. Workers learn of signals
//! through a self-pipe registered with their poller — a flag alone races with `epoll_wait` (the
//! signal may land just before the wait and sleep through it).
//!
//! Pitfall: `SO_REUSEPORT` lets a second server started on the same port by the same user join
//! the group silently and take a share of the connections.

use std::io::{self, Write};
use std::net::{SocketAddr, TcpListener};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use nix::sys::signal::{SigHandler, Signal, kill, signal};
use nix::sys::socket::{
    AddressFamily, Backlog, SockFlag, SockType, SockaddrStorage, bind, listen, setsockopt, socket,
    sockopt,
};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork};
use signal_hook::consts::{SIGCHLD, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use crate::limits;

mod echo_loop;

pub use echo_loop::{ACCEPT_PAUSE, EchoLoop, serve};

/// How the server runs.
#[derive(Debug, Clone)]
pub struct TargetConfig {
    /// Where to listen (port 0: any free port, printed in the `listening on` line).
    pub addr: SocketAddr,
    /// Worker processes; 1 means the process itself serves (no fork).
    pub procs: usize,
    /// Lower each worker's soft descriptor limit to this, to watch a server at its limit.
    pub max_fds: Option<u64>,
}

/// The whole program: listen, print `listening on <addr>`, serve until SIGINT/SIGTERM.
pub fn run(config: &TargetConfig) -> Result<()> {
    ignore_sigpipe();
    limits::raise_fd_limit().context("raising RLIMIT_NOFILE")?;
    if let Some(max) = config.max_fds {
        limits::set_fd_soft_limit(max).context("lowering RLIMIT_NOFILE (--max-fds)")?;
    }
    let listeners = bind_listeners(config.addr, config.procs.max(1))
        .with_context(|| format!("listening on {}", config.addr))?;
    let addr = listeners[0].local_addr()?;
    if listeners.len() == 1 {
        let listener = listeners.into_iter().next().expect("one listener");
        let mut server = EchoLoop::new(listener, Some(signal_pipe()?))?;
        announce(addr)?;
        return Ok(server.run(&AtomicBool::new(false))?);
    }
    let workers = fork_workers(listeners)?;
    supervise(addr, &workers)
}

/// Creates `n` listening sockets on `addr`, all with `SO_REUSEPORT`; the first one picks the
/// port when `addr` has port 0, the others bind that port.
pub fn bind_listeners(addr: SocketAddr, n: usize) -> io::Result<Vec<TcpListener>> {
    let mut listeners = Vec::with_capacity(n);
    let mut at = addr;
    for _ in 0..n {
        let listener = reuseport_listener(at)?;
        at = listener.local_addr()?;
        listeners.push(listener);
    }
    Ok(listeners)
}

fn reuseport_listener(addr: SocketAddr) -> io::Result<TcpListener> {
    let family = match addr {
        SocketAddr::V4(_) => AddressFamily::Inet,
        SocketAddr::V6(_) => AddressFamily::Inet6,
    };
    let fd = socket(
        family,
        SockType::Stream,
        SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    setsockopt(&fd, sockopt::ReuseAddr, &true)?;
    setsockopt(&fd, sockopt::ReusePort, &true)?;
    bind(fd.as_raw_fd(), &SockaddrStorage::from(addr))?;
    // -1: as long a backlog as net.core.somaxconn allows; loadgen connects in bursts.
    listen(&fd, Backlog::MAXALLOWABLE)?;
    Ok(TcpListener::from(fd))
}

fn announce(addr: SocketAddr) -> io::Result<()> {
    let mut out = io::stdout().lock();
    writeln!(out, "listening on {addr}")?;
    out.flush()
}

fn ignore_sigpipe() {
    // Rust's runtime already ignores SIGPIPE and std's TcpStream writes with MSG_NOSIGNAL;
    // saying it here keeps the server safe if that ever changes, and shows the lesson.
    // SAFETY: SIG_IGN installs no handler, so no code runs in signal context.
    let _ = unsafe { signal(Signal::SIGPIPE, SigHandler::SigIgn) };
}

/// A socket pair whose read end becomes readable when SIGINT or SIGTERM arrives.
fn signal_pipe() -> io::Result<UnixStream> {
    let (read, write) = UnixStream::pair()?;
    signal_hook::low_level::pipe::register(SIGINT, write.try_clone()?)?;
    signal_hook::low_level::pipe::register(SIGTERM, write)?;
    read.set_nonblocking(true)?;
    Ok(read)
}

/// Forks one worker per listener. Each child keeps only its own listener, serves, and exits;
/// the parent keeps none.
fn fork_workers(listeners: Vec<TcpListener>) -> Result<Vec<Pid>> {
    ensure_single_threaded()?;
    let mut pids = Vec::new();
    let mut rest = listeners.into_iter();
    while let Some(listener) = rest.next() {
        // SAFETY: this process has one thread (checked above), so the child is a complete copy
        // with no lock held by a thread that does not exist in it, and may run any code.
        match unsafe { fork() }.context("fork")? {
            ForkResult::Child => {
                drop(rest); // the other workers' listeners: not ours to hold
                let code = match signal_pipe()
                    .and_then(|s| serve(listener, &AtomicBool::new(false), Some(s)))
                {
                    Ok(()) => 0,
                    Err(e) => {
                        eprintln!("echo_target worker {}: {e}", std::process::id());
                        1
                    }
                };
                std::process::exit(code);
            }
            ForkResult::Parent { child } => pids.push(child),
        }
    }
    Ok(pids)
}

fn ensure_single_threaded() -> Result<()> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let threads = status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .map(str::trim);
    if threads != Some("1") {
        bail!("fork needs a single-threaded process; this one has {threads:?} threads");
    }
    Ok(())
}

/// The parent of forked workers: waits for SIGINT/SIGTERM (forwarded to the workers as
/// SIGTERM) or for a worker to die (then stops the rest and fails); reaps every worker.
fn supervise(addr: SocketAddr, workers: &[Pid]) -> Result<()> {
    let mut signals = Signals::new([SIGINT, SIGTERM, SIGCHLD])?;
    announce(addr)?;
    let mut alive: Vec<Pid> = workers.to_vec();
    // A worker may have died before SIGCHLD had a handler: look once before waiting.
    let mut died = reap_exited(&mut alive);
    while died.is_empty() {
        let Some(signal) = signals.forever().next() else {
            break;
        };
        if signal == SIGCHLD {
            died = reap_exited(&mut alive);
        } else {
            break;
        }
    }
    stop_workers(&mut alive);
    if died.is_empty() {
        Ok(())
    } else {
        bail!("worker(s) died unexpectedly: {died:?}; stopped the others")
    }
}

/// Reaps workers that exited; returns how they ended.
fn reap_exited(alive: &mut Vec<Pid>) -> Vec<String> {
    let mut died = Vec::new();
    alive.retain(|&pid| match waitpid(pid, Some(WaitPidFlag::WNOHANG)) {
        Ok(WaitStatus::StillAlive) => true,
        Ok(status) => {
            died.push(format!("{status:?}"));
            false
        }
        Err(_) => false,
    });
    died
}

/// SIGTERM to every worker, then reap each; SIGKILL for any still running after 5 s.
fn stop_workers(alive: &mut Vec<Pid>) {
    for &pid in alive.iter() {
        let _ = kill(pid, Signal::SIGTERM);
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while !alive.is_empty() && Instant::now() < deadline {
        reap_exited(alive);
        std::thread::sleep(Duration::from_millis(5));
    }
    for &pid in alive.iter() {
        let _ = kill(pid, Signal::SIGKILL);
        let _ = waitpid(pid, None);
    }
    alive.clear();
}
