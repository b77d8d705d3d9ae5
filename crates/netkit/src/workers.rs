//! Several processes serving one port: `SO_REUSEPORT` workers under a supervisor.
//!
//! A process may hold only so many descriptors (`ulimit -Hn`; 20,000 on the course machines,
//! and raising it needs `CAP_SYS_RESOURCE`), so past that a server needs more processes. nginx's
//! answer, used here: N worker processes, each with **its own** listening socket bound to the
//! same port with `SO_REUSEPORT`, and its own event loop. The kernel spreads incoming
//! connections over the listeners, so the workers never share a socket or a lock.
//!
//! The supervisor re-runs its own program with `--worker --addr ADDR` (plus the arguments it was
//! given) for each worker, waits for each worker's `listening on` line, prints the banner once,
//! passes Ctrl-C on to every worker, and reaps them all, so none is left a zombie.
//!
//! Pitfalls: `SO_REUSEPORT` must be set *before* `bind` (which `std::net` cannot do); a second
//! server started on the same port by the same user silently joins the group and takes a share
//! of the connections; and with port 0 only the first worker may pick the port — the others
//! must join the port it got.

use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener};
use std::os::fd::AsRawFd;
use std::process::{ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex};

use nix::errno::Errno;
use nix::sys::resource::{Resource, getrlimit, setrlimit};
use nix::sys::signal::{Signal, kill};
use nix::sys::socket::{
    AddressFamily, Backlog, SockFlag, SockType, SockaddrStorage, bind, listen, setsockopt, socket,
    sockopt,
};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::Pid;

/// A listener with `SO_REUSEPORT` set before `bind`: every process that does the same may bind
/// the same port, and the kernel spreads incoming connections over their listeners.
pub fn reuseport_listener(addr: SocketAddr) -> io::Result<TcpListener> {
    let family = match addr {
        SocketAddr::V4(_) => AddressFamily::Inet,
        SocketAddr::V6(_) => AddressFamily::Inet6,
    };
    let socket = socket(family, SockType::Stream, SockFlag::SOCK_CLOEXEC, None)?;
    setsockopt(&socket, sockopt::ReuseAddr, &true)?;
    setsockopt(&socket, sockopt::ReusePort, &true)?;
    let address = match addr {
        SocketAddr::V4(v4) => SockaddrStorage::from(v4),
        SocketAddr::V6(v6) => SockaddrStorage::from(v6),
    };
    bind(socket.as_raw_fd(), &address)?;
    listen(&socket, Backlog::MAXCONN)?;
    Ok(TcpListener::from(socket))
}

/// Raises this process's soft limit on open files to the hard limit (one connection is one
/// descriptor); returns the new limit.
pub fn raise_fd_limit() -> io::Result<u64> {
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE)?;
    if soft < hard {
        setrlimit(Resource::RLIMIT_NOFILE, hard, hard)?;
    }
    Ok(hard)
}

/// Called first thing in a worker: if the supervisor dies without passing a signal on, the
/// worker is sent SIGTERM instead of living on as an orphan holding the port.
pub fn become_worker() -> io::Result<()> {
    nix::sys::prctl::set_pdeathsig(Signal::SIGTERM)?;
    Ok(())
}

/// The workers' pids, shared with the Ctrl-C thread so it can pass the signal on.
#[derive(Debug, Default)]
struct Workers {
    pids: Vec<Pid>,
    /// Ctrl-C arrived: a worker started from now on is stopped at once.
    stopping: bool,
}

/// Starts `count` workers — this program again, with `--worker --addr ADDR` and `worker_args`
/// — prints the `listening on` banner once they all listen, passes each Ctrl-C/SIGTERM on to
/// every worker (as SIGTERM: the first stops them, a second forces their stop), and returns
/// when all have exited (an error if any failed).
pub fn supervise(count: u32, addr: SocketAddr, worker_args: &[&str]) -> io::Result<()> {
    let workers = Arc::new(Mutex::new(Workers::default()));
    let shared = Arc::clone(&workers);
    // Every Ctrl-C is passed on: a second one forces the workers' stop (`Stop::force`).
    crate::stop::on_each_ctrl_c(move |_| {
        stop_all(&shared);
    })?;
    let started = start_all(count, addr, worker_args, &workers)
        .and_then(|(bound, outputs)| crate::announce(bound).map(|()| outputs));
    // What a worker prints after its banner (an access log) is passed on, line by line, until
    // it exits: a pipe nobody reads would fill up and stop the worker in mid-`write`.
    let forwarders = match started {
        Ok(outputs) => outputs.into_iter().map(forward).collect::<Vec<_>>(),
        Err(e) => {
            let interrupted = stop_all(&workers);
            reap_all(&workers);
            // Ctrl-C during start-up is a normal stop; anything else is an error.
            return if interrupted { Ok(()) } else { Err(e) };
        }
    };
    let failed = reap_all(&workers);
    for forwarder in forwarders {
        let _ = forwarder.join(); // ends at the worker's EOF, which its exit brought
    }
    match failed {
        0 => Ok(()),
        failed => Err(io::Error::other(format!(
            "{failed} of {count} workers failed"
        ))),
    }
}

/// Starts the workers one after another; returns the address they share and their stdouts.
fn start_all(
    count: u32,
    addr: SocketAddr,
    worker_args: &[&str],
    workers: &Mutex<Workers>,
) -> io::Result<(SocketAddr, Vec<BufReader<ChildStdout>>)> {
    let mut bound = addr;
    let mut outputs = Vec::new();
    for _ in 0..count {
        // Port 0 picks a port for the first worker; the others join the port it got.
        let (real, output) = start_worker(bound, worker_args, workers)?;
        bound = real;
        outputs.push(output);
    }
    Ok((bound, outputs))
}

/// Starts one worker on `addr` and waits for its `listening on` line; returns the address it
/// reports and its stdout.
fn start_worker(
    addr: SocketAddr,
    worker_args: &[&str],
    workers: &Mutex<Workers>,
) -> io::Result<(SocketAddr, BufReader<ChildStdout>)> {
    let mut child = Command::new(std::env::current_exe()?)
        .args(["--worker", "--addr", &addr.to_string()])
        .args(worker_args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()?;
    let pid = Pid::from_raw(child.id() as i32);
    {
        let mut workers = lock(workers);
        workers.pids.push(pid);
        if workers.stopping {
            let _ = kill(pid, Signal::SIGTERM);
        }
    }
    // The child is reaped by `reap_all`, not through `child`; only its stdout is kept.
    let mut output = BufReader::new(child.stdout.take().expect("stdout is piped"));
    let mut line = String::new();
    output.read_line(&mut line)?;
    let real = line
        .strip_prefix("listening on ")
        .and_then(|rest| rest.trim().parse().ok())
        .ok_or_else(|| io::Error::other(format!("worker {pid} did not start (said {line:?})")))?;
    Ok((real, output))
}

/// Copies a worker's output to ours, a whole line at a time (one `write` each, so lines of two
/// workers never interleave), until the worker closes it.
fn forward(mut output: BufReader<ChildStdout>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut line = Vec::new();
        // Bytes, not `String`s: one line that is not UTF-8 must not stop the copying.
        while matches!(output.read_until(b'\n', &mut line), Ok(n) if n > 0) {
            let mut out = io::stdout().lock();
            if out.write_all(&line).and_then(|()| out.flush()).is_err() {
                break; // our stdout is gone: stop copying (the worker gets EPIPE in turn)
            }
            line.clear();
        }
    })
}

/// Sends SIGTERM to every worker; returns whether Ctrl-C had already asked for it.
fn stop_all(workers: &Mutex<Workers>) -> bool {
    let mut workers = lock(workers);
    let interrupted = workers.stopping;
    workers.stopping = true;
    for &pid in &workers.pids {
        let _ = kill(pid, Signal::SIGTERM); // a worker that already exited is fine
    }
    interrupted
}

/// Waits until every worker has exited (so none is left a zombie), reporting each failure as
/// it happens; returns how many failed.
fn reap_all(workers: &Mutex<Workers>) -> usize {
    let mut failed = 0;
    while !lock(workers).pids.is_empty() {
        // Any child: a worker that dies early is reaped (and reported) at once, not after the
        // ones started before it.
        let status = match waitpid(None::<Pid>, None) {
            Ok(status) => status,
            Err(Errno::EINTR) => continue,
            Err(_) => break, // ECHILD: nobody left to wait for
        };
        let Some(pid) = status.pid() else { continue };
        // Forget the pid at once, so Ctrl-C is never passed on to a recycled pid.
        lock(workers).pids.retain(|&p| p != pid);
        if !matches!(status, WaitStatus::Exited(_, 0)) {
            eprintln!("worker {pid} failed: {status:?}");
            failed += 1;
        }
    }
    failed
}

fn lock(workers: &Mutex<Workers>) -> std::sync::MutexGuard<'_, Workers> {
    workers.lock().unwrap_or_else(|p| p.into_inner())
}
