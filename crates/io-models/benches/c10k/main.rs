//! The C10K curve: how one active client's round trip changes as idle connections pile up, for
//! every multiplexing model of the chapter.
//!
//! Run:    cargo bench -p io-models --bench c10k
//!         cargo bench -p io-models --bench c10k -- --idle 10,1000 poll epoll
//! Quick:  cargo bench -p io-models --bench c10k -- --quick   (10 and 100 idle, 200 round trips)
//! Output: a markdown table (rows: idle connections; cells: median µs (p99)), the server's CPU
//!         time per round trip, the ratios the chapter claims, the machine/load line, and
//!         `c10k.csv` + `c10k.svg` in `--out DIR` (default: `<target dir>/c10k`).
//!
//! For each model the bench re-runs itself as a worker process (`--serve MODEL`) that serves on
//! `127.0.0.1:0` — the server's descriptors and the clients' must live in different processes,
//! because one process may hold only `ulimit -Hn` of them. The bench connects one *active*
//! client, then grows the idle set 10 → 100 → 1,000 → 10,000 (with `loadgen::hold_idle`), waits
//! until the server has accepted every one (its descriptor count in `/proc`), and times 64-byte
//! echoes: `--warmup` untimed, then `--round-trips` timed ones, reading the server's CPU clock
//! around them. Server and client are pinned to one CPU (`--cpu N`, or `--no-pin`; why:
//! `benchkit::pin`), so placement does not decide the numbers.
//!
//! What to expect: `select` and `poll` hand the kernel the whole interest set on every call and
//! the kernel checks every descriptor, so their cost per round trip grows with N; epoll (and
//! `polling` and the reactor, which sit on epoll) keep the interest set in the kernel and pay
//! only for the ready descriptor, so their curve stays flat; so does io_uring, which waits for
//! completions and never scans the idle connections (each holds a receive in flight, and its
//! buffer: memory, not time). The pitfall when reading the numbers: a loopback round trip is
//! mostly fixed cost (two context switches, the TCP stack on both sides, the client), so the
//! *round-trip* gap is smaller than the gap in the multiplexing call itself — TLPI's table 63-9
//! timed 100,000 monitoring calls, not round trips. The CPU column isolates the server's share.

mod report;

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use benchkit::{BenchArgs, Machine, PinArgs, Worker};
use clap::Parser;
use io_models::{epoll_edge, epoll_level, poll, reactor, select, selectors, uring};

/// One model of the chapter, as the bench runs it.
struct Model {
    name: &'static str,
    run: fn(TcpListener, &netkit::Stop) -> io::Result<()>,
    /// Descriptors must stay below this (select's `FD_SETSIZE`).
    fd_ceiling: Option<u64>,
}

const fn model(name: &'static str, run: fn(TcpListener, &netkit::Stop) -> io::Result<()>) -> Model {
    Model {
        name,
        run,
        fd_ceiling: None,
    }
}

const MODELS: [Model; 7] = [
    Model {
        fd_ceiling: Some(nix::sys::select::FD_SETSIZE as u64),
        ..model("select", select::run)
    },
    model("poll", poll::run),
    model("epoll_level", epoll_level::run),
    model("epoll_edge", epoll_edge::run),
    model("selectors", selectors::run),
    model("reactor", reactor::run),
    model("uring", uring::run),
];

/// Descriptors a server uses besides its connections: stdio, listener, Ctrl-C pipe, the
/// acceptor's spare, an epoll instance, the active client — with room to spare.
const SERVER_OVERHEAD: u64 = 16;
/// Handshakes in flight at once. Below the listen backlog (128 for `std`'s `TcpListener`):
/// with more half-open connections than that, Linux answers with SYN cookies, and a cookie
/// connection that finds the accept queue full is dropped by the server while the client
/// believes it established — an idle client never finds out.
const CONNECT_BATCH: usize = 64;
/// The echo request: 64 bytes.
const PAYLOAD: &[u8; 64] = b"the quick brown fox jumps over the lazy dog, 0123456789 abcdefg\n";

/// The C10K curve of the chapter's IO models.
#[derive(Parser, Debug)]
pub struct Args {
    /// Models to run (names containing any of these; all when none is given).
    filters: Vec<String>,
    /// Idle connection counts [default: 10,100,1000,10000; quick: 10,100].
    #[arg(long, value_delimiter = ',')]
    idle: Vec<u64>,
    /// Timed round trips per point, after the warm-up [default: 3000; quick: 200].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    round_trips: Option<u32>,
    /// Untimed round trips before each point [default: 200; quick: 20].
    #[arg(long)]
    warmup: Option<u32>,
    #[command(flatten)]
    bench: BenchArgs,
    #[command(flatten)]
    pin: PinArgs,
    /// Internal: serve MODEL on 127.0.0.1:0 until stdin closes or SIGTERM.
    #[arg(long, value_name = "MODEL", hide = true)]
    serve: Option<String>,
}

/// The plan a run follows, the arguments' defaults filled in.
#[derive(Debug)]
pub struct Plan {
    pub idle: Vec<u64>,
    pub round_trips: u32,
    pub warmup: u32,
}

/// One measured point.
#[derive(Debug, Clone, Copy)]
pub struct Point {
    pub idle: u64,
    pub median_us: f64,
    pub p99_us: f64,
    /// The server's CPU time (user + system) per timed round trip.
    pub server_cpu_us: f64,
}

/// A point measured, or why it was not.
#[derive(Debug, Clone)]
pub enum Cell {
    Measured(Point),
    Skipped(String),
}

fn main() -> io::Result<()> {
    let args = Args::parse();
    let machine = Machine::start(); // before pinning
    let _pinned = args.pin.apply()?;
    if let Some(name) = &args.serve {
        return serve(name);
    }
    let mut idle = match &args.idle[..] {
        [] => args.bench.pick(vec![10, 100, 1000, 10_000], vec![10, 100]),
        given => given.to_vec(),
    };
    idle.sort_unstable(); // the idle set only grows: measure in ascending order
    idle.dedup();
    let plan = Plan {
        idle,
        round_trips: args.round_trips.unwrap_or(args.bench.pick(3000, 200)),
        warmup: args.warmup.unwrap_or(args.bench.pick(200, 20)),
    };
    let limit = loadgen::raise_fd_limit()?;
    let models: Vec<&Model> = MODELS
        .iter()
        .filter(|m| args.filters.is_empty() || args.filters.iter().any(|f| m.name.contains(f)))
        .collect();
    eprintln!(
        "c10k: RLIMIT_NOFILE {}/{}, {}",
        limit.soft,
        limit.hard,
        machine.line()
    );
    let mut results = Vec::new();
    for model in &models {
        results.push(measure_model(model, &args.pin, &plan, limit.soft)?);
    }
    let names: Vec<&str> = models.iter().map(|m| m.name).collect();
    print!("{}", report::markdown(&names, &plan, &results));
    println!(
        "\n{} round trips per point after {} warm-up; server and client {}; {}.",
        plan.round_trips,
        plan.warmup,
        args.pin.describe(),
        args.bench.footer(&machine)
    );
    let out = args.bench.out_dir("c10k")?;
    std::fs::write(out.join("c10k.csv"), report::csv(&names, &results))?;
    report::chart(&names, &results).write_svg(&out.join("c10k.svg"), (820, 520))?;
    eprintln!("c10k: wrote {}/c10k.csv and c10k.svg", out.display());
    Ok(())
}

/// The worker: serve one model on 127.0.0.1:0 until stdin reaches EOF or SIGTERM/SIGINT.
/// The one place the bench calls a model's server loop.
fn serve(name: &str) -> io::Result<()> {
    let model = MODELS
        .iter()
        .find(|m| m.name == name)
        .ok_or_else(|| io::Error::other(format!("unknown model {name:?}")))?;
    benchkit::worker::die_with_parent()?;
    loadgen::raise_fd_limit()?;
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let stop = netkit::Stop::on_ctrl_c()?;
    let on_eof = std::sync::Arc::clone(&stop);
    benchkit::worker::on_stdin_eof(move || on_eof.stop());
    netkit::announce(addr)?;
    (model.run)(listener, &stop)
}

/// Grows the idle set step by step and measures the active client at each step.
fn measure_model(model: &Model, pin: &PinArgs, plan: &Plan, fd_soft: u64) -> io::Result<Vec<Cell>> {
    let mut worker_args = vec!["--serve".to_string(), model.name.to_string()];
    worker_args.extend(pin.to_args());
    let mut server = Worker::start(worker_args)?;
    let addr = server.announced_addr()?;
    let mut active = TcpStream::connect(addr)?;
    active.set_nodelay(true)?;
    active.set_read_timeout(Some(Duration::from_secs(10)))?;
    round_trip(&mut active)?; // accepted and served before the idle set counts from here
    let base_fds = harness::leaks::fd_count(server.pid())? as u64;
    let mut holds = Vec::new();
    let mut held = 0;
    let mut cells = Vec::new();
    for &idle in &plan.idle {
        let skip = |why: String, cells: &mut Vec<Cell>| {
            eprintln!("c10k: {} with {idle} idle: skipped: {why}", model.name);
            cells.push(Cell::Skipped(why));
        };
        if let Some(reason) = cannot_hold(model, idle, base_fds, fd_soft) {
            skip(reason, &mut cells);
            continue;
        }
        if idle > held {
            let config = loadgen::IdleConfig {
                connect_batch: CONNECT_BATCH,
                ..loadgen::IdleConfig::new(addr, idle - held)
            };
            match loadgen::hold_idle_with(&config) {
                Ok(hold) => holds.push(hold),
                Err(e) => {
                    skip(format!("{e:#}"), &mut cells);
                    continue;
                }
            }
            held = idle;
        }
        wait_until_accepted(server.pid(), base_fds + held)?;
        let point = time_round_trips(&mut active, &server, held, plan)?;
        eprintln!(
            "c10k: {:<11} {:>6} idle: median {:8.1} µs, p99 {:8.1} µs, server CPU {:8.1} µs/rt",
            model.name, held, point.median_us, point.p99_us, point.server_cpu_us
        );
        cells.push(Cell::Measured(point));
    }
    drop(active);
    drop(server); // the server goes first, so it, not our ports, holds the TIME_WAITs
    drop(holds);
    Ok(cells)
}

/// Why `idle` connections cannot be held, if they cannot.
fn cannot_hold(model: &Model, idle: u64, base_fds: u64, fd_soft: u64) -> Option<String> {
    if let Some(ceiling) = model.fd_ceiling
        && base_fds + idle >= ceiling
    {
        return Some(format!(
            "its descriptors would reach {ceiling} (FD_SETSIZE)"
        ));
    }
    let needed = idle + loadgen::limits::FD_HEADROOM.max(SERVER_OVERHEAD);
    (needed > fd_soft).then(|| {
        format!(
            "needs about {needed} descriptors per process, RLIMIT_NOFILE is {fd_soft} \
             (raise `ulimit -Hn`, see the chapter docs)"
        )
    })
}

/// Waits until the server holds `fds` descriptors: every idle connection accepted, so it is
/// in the interest set and not just waiting in the listen backlog.
fn wait_until_accepted(pid: u32, fds: u64) -> io::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let now = harness::leaks::fd_count(pid)? as u64;
        if now >= fds {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(io::Error::other(format!(
                "server {pid} holds {now} descriptors after 60 s, expected {fds}"
            )));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Warm-up, then the timed round trips; the server's CPU clock is read around the timed ones.
fn time_round_trips(
    active: &mut TcpStream,
    server: &Worker,
    idle: u64,
    plan: &Plan,
) -> io::Result<Point> {
    for _ in 0..plan.warmup {
        round_trip(active)?;
    }
    let cpu_before = server.cpu_time()?;
    let times = benchkit::time_runs(plan.round_trips as usize, || round_trip(active))?;
    let cpu = server.cpu_time()? - cpu_before;
    let us = |q| benchkit::percentile(&times, q).as_secs_f64() * 1e6;
    Ok(Point {
        idle,
        median_us: us(0.5),
        p99_us: us(0.99),
        server_cpu_us: cpu.as_secs_f64() * 1e6 / f64::from(plan.round_trips),
    })
}

/// One 64-byte echo.
fn round_trip(stream: &mut TcpStream) -> io::Result<()> {
    stream.write_all(PAYLOAD)?;
    let mut echo = [0u8; PAYLOAD.len()];
    stream.read_exact(&mut echo)?;
    if &echo != PAYLOAD {
        return Err(io::Error::other("the echo differs from the request"));
    }
    Ok(())
}
