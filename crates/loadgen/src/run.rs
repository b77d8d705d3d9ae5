//! The library's front door: configure a run, run it in this process, get a report.
//!
//! [`run_echo`] and [`run_idle`] run everything on the calling thread, in this process — what a
//! chapter's test wants (8 connections, 200 requests each). [`hold_idle`] connects and hands back
//! an [`IdleHold`] that keeps the connections open until dropped, so a test can look at a server
//! while it holds N idle clients. The CLI uses the same phases (connect, then traffic or hold),
//! and for runs larger than one process can hold, spreads them over worker processes
//! ([`crate::workers`]).
//!
//! Pitfall: every connection costs a descriptor *in this process*. Above about 1,000, raise the
//! soft limit first ([`crate::raise_fd_limit`], under `harness::process_lock()` in tests), or the
//! run stops at `EMFILE` — and the report says so.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail, ensure};
use serde::{Deserialize, Serialize};

use crate::engine::{Engine, Settings, Stop};
use crate::limits::MAX_SOURCES;
use crate::report::{EchoReport, IdleReport, ServerReport, Spread, Tally};
use crate::stats::{ServerStats, server_stats, thread_cpu_secs};
use crate::workers::Mode;

/// Default for `connect_batch`: connects in flight at once. Below the listen backlog of a
/// `std::net::TcpListener` (128): past the backlog, with SYN cookies on, Linux completes
/// handshakes the server then drops while the client believes it is connected.
pub const CONNECT_BATCH: usize = 64;
/// Default for `connect_timeout` and `request_timeout`.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// An echo run: `conns` connections each sending `size` bytes and reading them back, again and
/// again, until `stop`; meanwhile `idle` more connections are held open.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EchoConfig {
    /// The echo server.
    pub addr: SocketAddr,
    /// Connections sending requests.
    pub conns: u64,
    /// Bytes per request (at least 1).
    pub size: usize,
    /// When to stop: a total request count or a duration.
    pub stop: Stop,
    /// Connections only held open during the run.
    pub idle: u64,
    /// Source addresses 127.0.0.1 ..= 127.0.0.`sources` (1: let the kernel choose).
    pub sources: usize,
    /// Most connects in flight at once.
    pub connect_batch: usize,
    /// A handshake not done after this long fails as `connect_timeout`.
    pub connect_timeout: Duration,
    /// An echo not complete after this long fails as `request_timeout`.
    pub request_timeout: Duration,
}

impl EchoConfig {
    /// One connection, 64-byte requests, 1,000 requests, no idle connections.
    pub fn new(addr: SocketAddr) -> EchoConfig {
        EchoConfig {
            addr,
            conns: 1,
            size: 64,
            stop: Stop::Requests(1000),
            idle: 0,
            sources: 1,
            connect_batch: CONNECT_BATCH,
            connect_timeout: TIMEOUT,
            request_timeout: TIMEOUT,
        }
    }

    pub(crate) fn settings(&self) -> Result<Settings> {
        ensure!(self.size >= 1, "--size must be at least 1 byte");
        check_sources(self.addr, self.sources)?;
        Ok(Settings {
            addr: self.addr,
            active: self.conns,
            idle: self.idle,
            size: self.size,
            sources: self.sources,
            first_index: 0,
            connect_batch: self.connect_batch,
            connect_timeout: self.connect_timeout,
            request_timeout: self.request_timeout,
        })
    }
}

/// An idle run: open `conns` connections, hold them for `hold`, report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdleConfig {
    /// The server.
    pub addr: SocketAddr,
    /// Connections to open and hold.
    pub conns: u64,
    /// How long to hold them once all are connected (zero: report and close at once).
    pub hold: Duration,
    /// Source addresses 127.0.0.1 ..= 127.0.0.`sources` (1: let the kernel choose).
    pub sources: usize,
    /// Most connects in flight at once.
    pub connect_batch: usize,
    /// A handshake not done after this long fails as `connect_timeout`.
    pub connect_timeout: Duration,
}

impl IdleConfig {
    /// `conns` connections to `addr`, not held after connecting, one source.
    pub fn new(addr: SocketAddr, conns: u64) -> IdleConfig {
        IdleConfig {
            addr,
            conns,
            hold: Duration::ZERO,
            sources: 1,
            connect_batch: CONNECT_BATCH,
            connect_timeout: TIMEOUT,
        }
    }

    pub(crate) fn settings(&self) -> Result<Settings> {
        check_sources(self.addr, self.sources)?;
        Ok(Settings {
            addr: self.addr,
            active: 0,
            idle: self.conns,
            size: 1,
            sources: self.sources,
            first_index: 0,
            connect_batch: self.connect_batch,
            connect_timeout: self.connect_timeout,
            request_timeout: TIMEOUT,
        })
    }
}

fn check_sources(addr: SocketAddr, sources: usize) -> Result<()> {
    ensure!(
        (1..=MAX_SOURCES).contains(&sources),
        "--sources must be between 1 and {MAX_SOURCES}, got {sources}"
    );
    if sources > 1 && !(addr.is_ipv4() && addr.ip().is_loopback()) {
        bail!(
            "--sources {sources} binds to 127.0.0.1..=127.0.0.{sources}, which only reaches a \
             loopback IPv4 server; {addr} is not one"
        );
    }
    Ok(())
}

/// A run in this one process.
fn in_process(addr: SocketAddr, sources: usize) -> Spread {
    Spread {
        addr,
        procs: 1,
        sources,
    }
}

/// A stop nobody requests: an in-process run ends by its own measure (count, time, hold).
fn never() -> Result<Arc<netkit::Stop>> {
    Ok(Arc::new(netkit::Stop::new()?))
}

/// Runs an echo load in this process and reports it.
pub fn run_echo(config: &EchoConfig) -> Result<EchoReport> {
    let mode = Mode::Echo(config.stop);
    let (tally, _) = phases(config.settings()?, mode, Duration::ZERO, &never()?, None)?;
    Ok(EchoReport::new(
        in_process(config.addr, config.sources),
        config.size,
        tally,
        None,
    ))
}

/// Runs an idle load in this process and reports it.
pub fn run_idle(config: &IdleConfig) -> Result<IdleReport> {
    let (tally, _) = phases(config.settings()?, Mode::Idle, config.hold, &never()?, None)?;
    let spread = in_process(config.addr, config.sources);
    Ok(IdleReport::new(
        spread,
        config.hold.as_secs_f64(),
        tally,
        None,
    ))
}

/// Idle connections held open until this is dropped.
#[derive(Debug)]
pub struct IdleHold {
    engine: Engine,
    report: IdleReport,
}

impl IdleHold {
    /// How the connecting went.
    pub fn report(&self) -> &IdleReport {
        &self.report
    }

    /// Connections open now: all that were asked for, unless the server closed some since
    /// ([`hold_idle`] fails unless every one was established).
    pub fn open(&self) -> u64 {
        self.engine.open_established()
    }
}

/// Opens `conns` idle connections to `addr` and keeps them open until the returned handle is
/// dropped. Fails, with the reason, unless every one was established.
pub fn hold_idle(addr: SocketAddr, conns: u64) -> Result<IdleHold> {
    hold_idle_with(&IdleConfig::new(addr, conns))
}

/// [`hold_idle`] with every setting of an [`IdleConfig`] (`hold` is ignored).
pub fn hold_idle_with(config: &IdleConfig) -> Result<IdleHold> {
    let mut engine = Engine::new(config.settings()?, never()?)?;
    engine.connect_all()?;
    let tally = engine.snapshot();
    let spread = in_process(config.addr, config.sources);
    let report = IdleReport::new(spread, 0.0, tally, None);
    if report.established < config.conns {
        let reasons: Vec<&str> = report
            .run
            .explanations
            .values()
            .map(String::as_str)
            .collect();
        bail!(
            "only {} of {} idle connections to {} were established: {}",
            report.established,
            config.conns,
            config.addr,
            reasons.join("; ")
        );
    }
    Ok(IdleHold { engine, report })
}

/// Samples a server's resources before a run, naming the pid when it cannot.
///
/// The sample is the baseline the loaded descriptor count is compared with, so it waits (up to
/// 2 s) for the count to hold still: a server still closing the connections of a run that just
/// ended would otherwise make the baseline too high.
pub(crate) fn sample(pid: Option<u32>) -> Result<Option<ServerStats>> {
    let Some(pid) = pid else { return Ok(None) };
    let read =
        || server_stats(pid).with_context(|| format!("reading /proc/{pid} for --server-pid {pid}"));
    let give_up = Instant::now() + Duration::from_secs(2);
    let mut last = read()?;
    loop {
        std::thread::sleep(Duration::from_millis(50));
        let now = read()?;
        if now.fds == last.fds || Instant::now() >= give_up {
            return Ok(Some(now));
        }
        last = now;
    }
}

/// Samples the server while loadgen holds `open` established connections, and compares.
///
/// The kernel completes a handshake before the server calls `accept`, so a connection loadgen
/// sees as established may still wait in the listen backlog — forever, if the server stopped
/// accepting (e.g. at its own descriptor limit). The server's descriptor count tells: it rises
/// by one per accepted connection. A server catching up gets up to a second.
pub(crate) fn observe_loaded(
    pid: Option<u32>,
    before: Option<ServerStats>,
    open: u64,
) -> Option<ServerReport> {
    let (pid, before) = (pid?, before?);
    let give_up = Instant::now() + Duration::from_secs(1);
    let mut loaded = server_stats(pid).ok()?;
    while loaded.fds < before.fds + open && Instant::now() < give_up {
        std::thread::sleep(Duration::from_millis(20));
        loaded = server_stats(pid).unwrap_or(loaded);
    }
    // A count that fell means the baseline was not the server at rest: no conclusion then.
    let unaccepted = match loaded.fds.checked_sub(before.fds) {
        Some(accepted) => open.saturating_sub(accepted),
        None => 0,
    };
    Some(ServerReport {
        pid,
        before,
        loaded,
        open,
        unaccepted,
    })
}

/// Runs `f` and returns how much CPU this thread spent in it, so reading `/proc` for the
/// server is not billed as loadgen's load-generating work.
fn timed_cpu<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let start = thread_cpu_secs();
    let value = f();
    (value, thread_cpu_secs() - start)
}

/// One process's run: connect everything; an echo run then runs its traffic; sample the server
/// while every connection is still open; an idle run then holds them for `hold`; close.
pub(crate) fn phases(
    settings: Settings,
    mode: Mode,
    hold: Duration,
    stop: &Arc<netkit::Stop>,
    server_pid: Option<u32>,
) -> Result<(Tally, Option<ServerReport>)> {
    let before = sample(server_pid)?;
    let mut engine = Engine::new(settings, Arc::clone(stop))?;
    engine.connect_all()?;
    if let Mode::Echo(until) = mode
        && !stop.is_stopped()
    {
        engine.run_traffic(until)?;
    }
    let (server, sampling_cpu) =
        timed_cpu(|| observe_loaded(server_pid, before, engine.open_established()));
    if mode == Mode::Idle && !hold.is_zero() {
        engine.hold(Some(Instant::now() + hold), &|| false)?;
    }
    let mut tally = engine.snapshot();
    tally.cpu_secs -= sampling_cpu;
    tally.interrupted |= stop.is_stopped();
    Ok((tally, server))
}
