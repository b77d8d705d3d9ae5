//! `echo_target`: a multi-process epoll echo server for loadgen to aim at.
//!
//! loadgen's numbers are only worth something against a server that is not itself the limit,
//! and loadgen's own tests need a real server that behaves under pressure. So: N worker
//! processes, each with its own `SO_REUSEPORT` listener on the same port and its own event loop;
//! N processes hold N × 20,000 descriptors, which is how one server holds 100,000 connections
//! under a 20,000-per-process limit.
//!
//! Every server piece is netkit's: the supervisor and the listener ([`netkit::workers`]), accept
//! with `EMFILE` ([`netkit::accept`]), the buffered echo connection ([`netkit::echo`]). What is
//! here is the glue: [`run`] starts a supervisor, a worker or a single-process server, and
//! `target/echo_loop.rs` is a worker's event loop. A worker learns of SIGINT/SIGTERM (the
//! supervisor passes Ctrl-C on as SIGTERM) through a [`netkit::Stop`] whose descriptor is
//! registered with its poller: a flag alone races with `epoll_wait` (the signal may land just
//! before the wait and sleep through it).

use std::net::SocketAddr;

use anyhow::{Context as _, Result};
use netkit::{Stop, workers};

use crate::limits;

mod echo_loop;

pub use echo_loop::{ACCEPT_PAUSE, EchoLoop, serve};

/// How the server runs.
#[derive(Debug, Clone)]
pub struct TargetConfig {
    /// Where to listen (port 0: any free port, printed in the `listening on` line).
    pub addr: SocketAddr,
    /// Worker processes; 1 (or 0) means the process itself serves.
    pub procs: u32,
    /// Lower each worker's soft descriptor limit to this, to watch a server at its limit.
    pub max_fds: Option<u64>,
    /// This process is one worker, started by the supervisor (the hidden `--worker` flag).
    pub worker: bool,
}

/// The whole program: listen, print `listening on <addr>`, serve until SIGINT/SIGTERM.
pub fn run(config: &TargetConfig) -> Result<()> {
    workers::raise_fd_limit().context("raising RLIMIT_NOFILE")?;
    if config.procs > 1 && !config.worker {
        // The supervisor holds no connections; each worker lowers its own limit.
        let max_fds = config.max_fds.map(|max| max.to_string());
        let worker_args: Vec<&str> = match &max_fds {
            Some(max) => vec!["--max-fds", max],
            None => Vec::new(),
        };
        return Ok(workers::supervise(config.procs, config.addr, &worker_args)?);
    }
    if config.worker {
        workers::become_worker()?;
    }
    if let Some(max) = config.max_fds {
        limits::set_fd_soft_limit(max).context("lowering RLIMIT_NOFILE (--max-fds)")?;
    }
    let listener = workers::reuseport_listener(config.addr)
        .with_context(|| format!("listening on {}", config.addr))?;
    // The handlers are in place before the banner: a test may send SIGINT as soon as it reads it.
    let mut server = EchoLoop::new(listener, Stop::on_ctrl_c()?)?;
    netkit::announce(server.local_addr()?)?;
    Ok(server.run()?)
}
