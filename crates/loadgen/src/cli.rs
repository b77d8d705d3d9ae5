//! The `loadgen` command line: argument parsing, choosing processes and sources, printing.
//!
//! `loadgen echo` and `loadgen idle` are the two runs; the hidden `loadgen worker` is what the
//! parent re-executes itself as (see [`crate::workers`]). Every run first raises its soft
//! descriptor limit to the hard one, then picks `--procs` and `--sources` from the limits unless
//! given, warns when a given value cannot work, runs (in this process when one is enough), and
//! prints a table or JSON. Failures are explained on stderr, one line per kind.
//!
//! Exit status: 0 when every connection was established and nothing failed, 1 when something
//! failed (the report says what) or the run could not start, 130 when Ctrl-C ended it early
//! (the report covers what was done).

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result, anyhow};
use clap::{Args, Parser, Subcommand};

use crate::engine::Settings;
use crate::engine::Stop;
use crate::limits::{self, FdLimit, PortRange};
use crate::report::{EchoReport, IdleReport, RunReport, ServerReport, Spread, Tally};
use crate::run::{self, EchoConfig, IdleConfig};
use crate::workers::{self, Mode};

/// loadgen — the workspace's load generator.
#[derive(Debug, Parser)]
#[command(
    name = "loadgen",
    version,
    about = "Load generator: echo request/response runs and idle-connection (C10K) runs",
    long_about = "Load generator for the Concurrency Labs servers.\n\n\
        `echo` measures requests/s and latency percentiles of an echo server under N connections \
        (optionally with M idle ones held open); `idle` opens and holds M connections and reports \
        how many were established, how fast, and what stopped the rest.\n\n\
        loadgen raises its soft RLIMIT_NOFILE to the hard limit, spreads connections over worker \
        processes (--procs) and loopback source addresses (--sources) as the limits require, and \
        names the limit that stopped a run instead of printing a bare errno."
)]
pub struct Cli {
    /// The run to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The runs.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// N connections each writing S bytes, reading the echo, verifying it, repeating; reports
    /// requests/s, latency p50/p99/max, errors by kind.
    Echo(EchoArgs),
    /// Open M connections and hold them (the C10K picture); reports how many were established,
    /// connects/s, and failures by reason.
    Idle(IdleArgs),
    /// Internal: one worker process of a multi-process run (job on stdin, reports on stdout).
    #[command(hide = true)]
    Worker,
}

/// Flags of both runs.
#[derive(Debug, Args)]
pub struct Common {
    /// The server, HOST:PORT (echo_target listens on 127.0.0.1:7700 by default).
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:7700")]
    pub addr: String,
    /// Worker processes to spread the connections over [default: ceil(connections /
    /// (RLIMIT_NOFILE hard − 64)): 1 up to 19,936 connections under a hard limit of 20,000].
    #[arg(long, value_name = "P")]
    pub procs: Option<usize>,
    /// Connect from the source addresses 127.0.0.1 ..= 127.0.0.K, round robin, so each needs
    /// at most ~10,000 local ports [default: ceil(connections / min(10,000, 35% of the ephemeral
    /// port range)) for a loopback IPv4 server, else 1].
    #[arg(long, value_name = "K")]
    pub sources: Option<usize>,
    /// Report this server process's resident memory (VmRSS), open descriptors and CPU time,
    /// summed with its descendants', before the run and with every connection open.
    #[arg(long, value_name = "PID")]
    pub server_pid: Option<u32>,
    /// Print the report as JSON (stable field names, see the README) instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Most connects in flight at once (per process), so the server's listen backlog is not
    /// overrun.
    #[arg(long, value_name = "N", default_value_t = run::CONNECT_BATCH)]
    pub connect_batch: usize,
    /// Seconds a connect may take before it counts as a connect_timeout failure.
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = seconds)]
    pub connect_timeout: Duration,
    /// Testing aid: lower every loadgen process's soft RLIMIT_NOFILE to N.
    #[arg(long, value_name = "N", hide = true)]
    pub max_fds: Option<u64>,
}

/// Flags of `loadgen echo`.
#[derive(Debug, Args)]
pub struct EchoArgs {
    /// Active connections; each sends a request, waits for its whole echo, sends the next.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub conns: u64,
    /// Bytes per request; the server must echo exactly these bytes back.
    #[arg(long, value_name = "S", default_value_t = 64)]
    pub size: usize,
    /// Run for SECS seconds (decimals allowed); requests still in flight then are not counted
    /// [default: 5, unless --requests is given].
    #[arg(long, value_name = "SECS", conflicts_with = "requests", value_parser = seconds)]
    pub duration: Option<Duration>,
    /// Stop after R requests in total, over all connections.
    #[arg(long, value_name = "R")]
    pub requests: Option<u64>,
    /// Idle connections to hold open during the run (connected before the traffic starts).
    #[arg(long, value_name = "M", default_value_t = 0)]
    pub idle: u64,
    /// Seconds a request may wait for its whole echo before it counts as a request_timeout
    /// failure.
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = seconds)]
    pub request_timeout: Duration,
    #[command(flatten)]
    pub common: Common,
}

/// Flags of `loadgen idle`.
#[derive(Debug, Args)]
pub struct IdleArgs {
    /// Idle connections to open and hold.
    #[arg(long, value_name = "M", default_value_t = 1000)]
    pub conns: u64,
    /// Seconds to hold the connections once all are established; 0 reports as soon as they
    /// are.
    #[arg(long, value_name = "SECS", default_value = "0", value_parser = seconds)]
    pub hold: Duration,
    #[command(flatten)]
    pub common: Common,
}

fn seconds(text: &str) -> Result<Duration, String> {
    let secs: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    Duration::try_from_secs_f64(secs).map_err(|_| format!("{text:?} is not a valid duration"))
}

/// Parses the arguments, runs, prints; the binary's whole `main`.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Worker => workers::worker_main().map(|()| ExitCode::SUCCESS),
        Command::Echo(args) => echo(&args),
        Command::Idle(args) => idle(&args),
    };
    outcome.unwrap_or_else(|e| {
        eprintln!("loadgen: error: {e:#}");
        ExitCode::FAILURE
    })
}

/// What every run decides before it starts.
struct Prepared {
    spread: Spread,
    /// Ctrl-C or SIGTERM: every phase ends, and the report covers what was done.
    cancel: Arc<netkit::Stop>,
}

fn prepare(common: &Common, total: u64) -> Result<Prepared> {
    let mut fd = limits::raise_fd_limit().context("raising RLIMIT_NOFILE")?;
    if let Some(max) = common.max_fds {
        fd = limits::set_fd_soft_limit(max).context("lowering RLIMIT_NOFILE (--max-fds)")?;
    }
    let cancel = netkit::Stop::on_ctrl_c()?;
    let addr = resolve(&common.addr)?;
    let ports = limits::port_range();
    let loopback_v4 = addr.is_ipv4() && addr.ip().is_loopback();
    let plan = limits::plan(total, fd, ports, loopback_v4);
    let procs = common
        .procs
        .unwrap_or(plan.procs)
        .clamp(1, total.max(1) as usize);
    let sources = common.sources.unwrap_or(plan.sources);
    warn_about_limits(total, procs, sources, fd, ports, plan.procs);
    Ok(Prepared {
        spread: Spread {
            addr,
            procs,
            sources,
        },
        cancel,
    })
}

fn resolve(addr: &str) -> Result<SocketAddr> {
    netkit::parse_addr(addr).map_err(|e| anyhow!("--addr {e}"))
}

/// Says up front when the chosen `--procs`/`--sources` cannot hold the run.
fn warn_about_limits(
    total: u64,
    procs: usize,
    sources: usize,
    fd: FdLimit,
    ports: PortRange,
    auto_procs: usize,
) {
    let per_process = total.div_ceil(procs as u64);
    if per_process > fd.conns_per_process() {
        eprintln!(
            "loadgen: warning: {per_process} connections per process, but RLIMIT_NOFILE \
             (soft {}, hard {}) leaves room for about {} (soft − 64): the descriptor limit will \
             stop this run (use --procs {auto_procs}, or leave --procs out to let loadgen choose)",
            fd.soft,
            fd.hard,
            fd.conns_per_process()
        );
    }
    let per_source = total.div_ceil(sources.max(1) as u64);
    if per_source > ports.len() {
        eprintln!(
            "loadgen: warning: {per_source} connections per source address, but the ephemeral \
             port range {}–{} has only {} ports: the ports will run out (raise --sources)",
            ports.low,
            ports.high,
            ports.len()
        );
    }
}

fn echo(args: &EchoArgs) -> Result<ExitCode> {
    let common = &args.common;
    let p = prepare(common, args.conns + args.idle)?;
    let stop = match (args.requests, args.duration) {
        (Some(requests), _) => Stop::Requests(requests),
        (None, Some(duration)) => Stop::Duration(duration),
        (None, None) => Stop::Duration(Duration::from_secs(5)),
    };
    let config = EchoConfig {
        addr: p.spread.addr,
        conns: args.conns,
        size: args.size,
        stop,
        idle: args.idle,
        sources: p.spread.sources,
        connect_batch: common.connect_batch,
        connect_timeout: common.connect_timeout,
        request_timeout: args.request_timeout,
    };
    let (tally, server) = load(
        &p,
        common,
        config.settings()?,
        Mode::Echo(stop),
        Duration::ZERO,
    )?;
    let report = EchoReport::new(p.spread, args.size, tally, server);
    print_report(&report, common.json)?;
    Ok(conclude(&report.run, report.is_clean()))
}

fn idle(args: &IdleArgs) -> Result<ExitCode> {
    let common = &args.common;
    let p = prepare(common, args.conns)?;
    let config = IdleConfig {
        addr: p.spread.addr,
        conns: args.conns,
        hold: args.hold,
        sources: p.spread.sources,
        connect_batch: common.connect_batch,
        connect_timeout: common.connect_timeout,
    };
    let started = std::time::Instant::now();
    let (tally, server) = load(&p, common, config.settings()?, Mode::Idle, args.hold)?;
    // Held for what was asked, or less if Ctrl-C cut the hold short.
    let held =
        (started.elapsed().as_secs_f64() - tally.connect_secs).clamp(0.0, args.hold.as_secs_f64());
    let report = IdleReport::new(p.spread, held, tally, server);
    print_report(&report, common.json)?;
    Ok(conclude(&report.run, report.is_clean()))
}

/// Runs the load: in this process when one is enough, else in worker processes.
fn load(
    p: &Prepared,
    common: &Common,
    settings: Settings,
    mode: Mode,
    hold: Duration,
) -> Result<(Tally, Option<ServerReport>)> {
    if p.spread.procs == 1 {
        return run::phases(settings, mode, hold, &p.cancel, common.server_pid);
    }
    let jobs = workers::split(&settings, mode, p.spread.procs, common.max_fds);
    let exe = std::env::current_exe().context("locating the loadgen binary")?;
    workers::run_fleet(&exe, &jobs, hold, &p.cancel, common.server_pid)
}

/// Explains every kind of failure on stderr and picks the exit status.
fn conclude(run: &RunReport, clean: bool) -> ExitCode {
    let stopped_by = &run.stopped_by;
    if let Some(limit) = stopped_by {
        eprintln!("loadgen: stopped by {limit}");
    }
    for text in run.explanations.values() {
        if Some(text) != stopped_by.as_ref() {
            eprintln!("loadgen: {text}");
        }
    }
    if run.interrupted {
        ExitCode::from(130)
    } else if clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Writes the report to stdout, as JSON or as the human table. A reader that went away
/// (`loadgen … | head`) is not an error worth a panic: `print!` would panic on `EPIPE`.
fn print_report<R: serde::Serialize + std::fmt::Display>(report: &R, json: bool) -> Result<()> {
    use std::io::Write;
    let text = if json {
        serde_json::to_string_pretty(report)? + "\n"
    } else {
        report.to_string()
    };
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other.context("writing the report to stdout")?),
    }
}
