//! The C10K curve: how one active client's round trip changes as idle connections pile up, for
//! every multiplexing model of the chapter.
//!
//! Run:    cargo bench -p io-models --bench c10k
//!         cargo bench -p io-models --bench c10k -- --idle 10,1000 poll epoll
//! Output: a markdown table (rows: idle connections; cells: median µs (p99)), the server's CPU
//!         time per round trip, the ratios the chapter claims, and `c10k.csv` + `c10k.svg` in
//!         `--out DIR` (default: `<target dir>/c10k`).
//!
//! For each model the bench re-runs itself as a child process (`--serve MODEL`) that serves on
//! `127.0.0.1:0` — the server's descriptors and the clients' must live in different processes,
//! because one process may hold only `ulimit -Hn` of them. The bench connects one *active*
//! client, then grows the idle set 10 → 100 → 1,000 → 10,000 (with `loadgen::hold_idle`), waits
//! until the server has accepted every one (its descriptor count in `/proc`), and times 64-byte
//! echoes: 200 to warm up, then `--round-trips` timed ones. It also reads the server's CPU clock
//! before and after, which gives the server's CPU time per round trip. Server and client are
//! pinned to one CPU (`--cpu N`, or `--no-pin`), so placement does not decide the numbers.
//!
//! What to expect: `select` and `poll` hand the kernel the whole interest set on every call and
//! the kernel checks every descriptor, so their cost per round trip grows with N; epoll (and
//! `polling` and the reactor, which sit on epoll) keep the interest set in the kernel and pay
//! only for the ready descriptor, so their curve stays flat. The pitfall when reading the
//! numbers: a loopback round trip is mostly fixed cost (two context switches, the TCP stack on
//! both sides, the client), so the *round-trip* gap is smaller than the gap in the multiplexing
//! call itself — TLPI's table 63-9 timed 100,000 monitoring calls, not round trips. The CPU
//! column isolates the server's share.

use std::fmt::Write as _;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use clap::Parser;
use io_models::{epoll_edge, epoll_level, poll, reactor, select, selectors};
use plotters::prelude::*;

/// One model of the chapter, as the bench runs it.
struct Model {
    name: &'static str,
    run: fn(TcpListener, &netkit::Stop) -> io::Result<()>,
    /// Descriptors must stay below this (select's `FD_SETSIZE`).
    fd_ceiling: Option<u64>,
}

const MODELS: [Model; 6] = [
    Model {
        name: "select",
        run: select::run,
        fd_ceiling: Some(nix::sys::select::FD_SETSIZE as u64),
    },
    Model {
        name: "poll",
        run: poll::run,
        fd_ceiling: None,
    },
    Model {
        name: "epoll_level",
        run: epoll_level::run,
        fd_ceiling: None,
    },
    Model {
        name: "epoll_edge",
        run: epoll_edge::run,
        fd_ceiling: None,
    },
    Model {
        name: "selectors",
        run: selectors::run,
        fd_ceiling: None,
    },
    Model {
        name: "reactor",
        run: reactor::run,
        fd_ceiling: None,
    },
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
struct Args {
    /// Models to run (names containing any of these; all when none is given).
    filters: Vec<String>,
    /// Idle connection counts.
    #[arg(long, value_delimiter = ',', default_value = "10,100,1000,10000")]
    idle: Vec<u64>,
    /// Timed round trips per point (after the warm-up).
    #[arg(long, default_value_t = 3000, value_parser = clap::value_parser!(u32).range(1..))]
    round_trips: u32,
    /// Untimed round trips before each point.
    #[arg(long, default_value_t = 200)]
    warmup: usize,
    /// Where to write c10k.csv and c10k.svg [default: <target dir>/c10k].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Run the server and the active client on this one CPU (see `pin_to_cpu`).
    #[arg(long, value_name = "N", default_value_t = 0)]
    cpu: usize,
    /// Let the scheduler place the server and the client (noisier: see `pin_to_cpu`).
    #[arg(long)]
    no_pin: bool,
    /// Internal: serve MODEL on 127.0.0.1:0 until stdin closes or SIGTERM.
    #[arg(long, value_name = "MODEL", hide = true)]
    serve: Option<String>,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

/// One measured point.
#[derive(Debug, Clone, Copy)]
struct Point {
    idle: u64,
    median_us: f64,
    p99_us: f64,
    /// The server's CPU time (user + system) per timed round trip.
    server_cpu_us: f64,
}

/// Why a point has no number.
#[derive(Debug, Clone)]
enum Cell {
    Measured(Point),
    Skipped(String),
}

fn main() -> io::Result<()> {
    let mut args = Args::parse();
    args.idle.sort_unstable(); // the idle set only grows: measure in ascending order
    args.idle.dedup();
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get()); // before pinning
    if !args.no_pin {
        pin_to_cpu(args.cpu)?;
    }
    if let Some(name) = &args.serve {
        return serve(name);
    }
    let limit = loadgen::raise_fd_limit()?;
    let models: Vec<&Model> = MODELS
        .iter()
        .filter(|m| {
            args.filters.is_empty() || args.filters.iter().any(|f| m.name.contains(f.as_str()))
        })
        .collect();
    let load_before = load_average();
    eprintln!(
        "c10k: RLIMIT_NOFILE {}/{}, load average {load_before}",
        limit.soft, limit.hard
    );
    let started = Instant::now();
    let mut results = Vec::new();
    for model in &models {
        results.push(measure_model(model, &args, limit.soft)?);
    }
    let load_after = load_average();
    let machine = Machine {
        cpus,
        pinned: (!args.no_pin).then_some(args.cpu),
        load_before,
        load_after,
        took: started.elapsed(),
    };
    let table = report(&models, &args, &results, &machine);
    print!("{table}");
    let out = args.out.clone().unwrap_or_else(default_out_dir);
    std::fs::create_dir_all(&out)?;
    write_csv(&out.join("c10k.csv"), &models, &results)?;
    plot(&out.join("c10k.svg"), &models, &results).map_err(|e| io::Error::other(e.to_string()))?;
    eprintln!("c10k: wrote {}/c10k.csv and c10k.svg", out.display());
    Ok(())
}

/// The child: serve one model on 127.0.0.1:0 until stdin reaches EOF or SIGTERM/SIGINT.
fn serve(name: &str) -> io::Result<()> {
    let model = MODELS
        .iter()
        .find(|m| m.name == name)
        .ok_or_else(|| io::Error::other(format!("unknown model {name:?}")))?;
    // If the bench dies without cleaning up, do not outlive it.
    // SAFETY: prctl(PR_SET_PDEATHSIG) takes a signal number and touches no memory of ours.
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) };
    loadgen::raise_fd_limit()?;
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let stop = netkit::Stop::on_ctrl_c()?;
    let on_eof = std::sync::Arc::clone(&stop);
    std::thread::spawn(move || {
        let _ = io::copy(&mut io::stdin(), &mut io::sink());
        on_eof.stop();
    });
    netkit::announce(addr)?;
    (model.run)(listener, &stop)
}

/// A model's server in a child process; killed and reaped when dropped, even on panic.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    fn start(model: &Model, args: &Args) -> io::Result<Server> {
        let mut command = Command::new(std::env::current_exe()?);
        command.args(["--serve", model.name, "--cpu", &args.cpu.to_string()]);
        if args.no_pin {
            command.arg("--no-pin");
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut server = Server {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        server.addr = line
            .strip_prefix("listening on ")
            .and_then(|rest| rest.trim().parse().ok())
            .ok_or_else(|| io::Error::other(format!("{} server said {line:?}", model.name)))?;
        Ok(server)
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        drop(self.child.stdin.take()); // EOF on stdin: the server stops by itself
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Grows the idle set step by step and measures the active client at each step.
fn measure_model(model: &Model, args: &Args, fd_soft: u64) -> io::Result<Vec<Cell>> {
    let server = Server::start(model, args)?;
    let mut active = TcpStream::connect(server.addr)?;
    active.set_nodelay(true)?;
    active.set_read_timeout(Some(Duration::from_secs(10)))?;
    round_trip(&mut active)?; // accepted and served before the idle set counts from here
    let base_fds = harness::leaks::fd_count(server.pid())? as u64;
    let mut holds = Vec::new();
    let mut held = 0;
    let mut cells = Vec::new();
    for &idle in &args.idle {
        if let Some(reason) = cannot_hold(model, idle, base_fds, fd_soft) {
            eprintln!("c10k: {} with {idle} idle: skipped: {reason}", model.name);
            cells.push(Cell::Skipped(reason));
            continue;
        }
        if idle > held {
            let config = loadgen::IdleConfig {
                connect_batch: CONNECT_BATCH,
                ..loadgen::IdleConfig::new(server.addr, idle - held)
            };
            match loadgen::hold_idle_with(&config) {
                Ok(hold) => holds.push(hold),
                Err(e) => {
                    eprintln!("c10k: {} with {idle} idle: skipped: {e:#}", model.name);
                    cells.push(Cell::Skipped(format!("{e:#}")));
                    continue;
                }
            }
            held = idle;
        }
        wait_until_accepted(server.pid(), base_fds + held)?;
        let point = time_round_trips(&mut active, server.pid(), held, args)?;
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
fn time_round_trips(active: &mut TcpStream, pid: u32, idle: u64, args: &Args) -> io::Result<Point> {
    for _ in 0..args.warmup {
        round_trip(active)?;
    }
    let mut times = Vec::with_capacity(args.round_trips as usize);
    let cpu_before = process_cpu(pid)?;
    for _ in 0..args.round_trips {
        let start = Instant::now();
        round_trip(active)?;
        times.push(start.elapsed());
    }
    let cpu = process_cpu(pid)? - cpu_before;
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1e6;
    Ok(Point {
        idle,
        median_us: at(0.5),
        p99_us: at(0.99),
        server_cpu_us: cpu.as_secs_f64() * 1e6 / f64::from(args.round_trips),
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

/// Process `pid`'s CPU time (user + system, all threads), with nanosecond resolution —
/// `/proc/<pid>/stat` counts in 10 ms ticks, too coarse for a few thousand round trips.
fn process_cpu(pid: u32) -> io::Result<Duration> {
    let mut clock: libc::clockid_t = 0;
    // SAFETY: clock_getcpuclockid writes one clockid_t to `clock`, a valid local.
    let err = unsafe { libc::clock_getcpuclockid(pid as libc::pid_t, &mut clock) };
    if err != 0 {
        return Err(io::Error::from_raw_os_error(err));
    }
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec to `now`, a valid local.
    if unsafe { libc::clock_gettime(clock, &mut now) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(Duration::new(now.tv_sec as u64, now.tv_nsec as u32))
}

/// Pins this process (the server child, or the bench with its active client) to one CPU.
///
/// Why: a loopback round trip is two wake-ups, and where the two processes run decides their
/// cost more than the model does. On this (virtual) machine a wake-up on another, idle CPU
/// costs tens of µs (an inter-processor interrupt to a halted vCPU), one on the same CPU a
/// context switch — and the scheduler moves them between the two placements from one run to
/// the next: unpinned, we saw medians of ~15 µs and ~60 µs for the same model in back-to-back
/// runs. Pinned, every model pays the same fixed cost and the differences are the models'.
/// (One side effect: the client cannot run while the server computes, so a server's work
/// after sending the echo — poll's next scan of every descriptor — is part of the round trip.)
fn pin_to_cpu(cpu: usize) -> io::Result<()> {
    // SAFETY: an all-zero cpu_set_t is a valid, empty CPU set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: CPU_SET writes one bit of `set`, a valid local; it checks `cpu` against its size.
    unsafe { libc::CPU_SET(cpu, &mut set) };
    // SAFETY: sched_setaffinity reads one cpu_set_t of the given size from `set`.
    if unsafe { libc::sched_setaffinity(0, std::mem::size_of_val(&set), &set) } != 0 {
        return Err(io::Error::other(format!(
            "cannot pin to CPU {cpu} ({}); try --cpu or --no-pin",
            io::Error::last_os_error()
        )));
    }
    Ok(())
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").map_or_else(|_| "?".into(), |s| s.trim().to_string())
}

/// `<target dir>/c10k`: the bench binary lives in `<target dir>/release/deps/`.
fn default_out_dir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.parent()?.join("c10k")))
        .unwrap_or_else(|| PathBuf::from("target/c10k"))
}

fn measured(cells: &[Cell], idle: u64) -> Option<Point> {
    cells.iter().find_map(|cell| match cell {
        Cell::Measured(p) if p.idle == idle => Some(*p),
        _ => None,
    })
}

/// Where and how the bench ran, for the report.
#[derive(Debug)]
struct Machine {
    cpus: usize,
    pinned: Option<usize>,
    load_before: String,
    load_after: String,
    took: Duration,
}

/// The markdown report: both tables, the ratios against the chapter's targets, the machine.
fn report(models: &[&Model], args: &Args, results: &[Vec<Cell>], machine: &Machine) -> String {
    let mut out = String::new();
    let header: Vec<&str> = models.iter().map(|m| m.name).collect();
    let rule = "| --- ".repeat(models.len() + 1);
    for (title, cell) in [
        ("Round trip of one active client, median µs (p99)", 0),
        (
            "Server CPU time per round trip (total over the timed round trips / their number), µs",
            1,
        ),
    ] {
        let _ = writeln!(
            out,
            "\n{title}:\n\n| idle | {} |\n{rule}|",
            header.join(" | ")
        );
        for (row, &n) in args.idle.iter().enumerate() {
            let cells: Vec<String> = results
                .iter()
                .map(|cells| match cells.get(row) {
                    Some(Cell::Measured(p)) if cell == 0 => {
                        format!("{:.1} ({:.1})", p.median_us, p.p99_us)
                    }
                    Some(Cell::Measured(p)) => format!("{:.1}", p.server_cpu_us),
                    Some(Cell::Skipped(why)) => format!("— ({})", short(why)),
                    None => "—".into(),
                })
                .collect();
            let _ = writeln!(out, "| {n} | {} |", cells.join(" | "));
        }
    }
    let point = |name: &str, n: u64| {
        let index = models.iter().position(|m| m.name == name)?;
        measured(&results[index], n)
    };
    let _ = writeln!(
        out,
        "\nRatios (medians; CPU = server CPU per round trip):\n"
    );
    // The largest idle count where both were measured (a small `ulimit -n` skips the top).
    let largest_common = |a: &str, b: &str| {
        let both = |&&n: &&u64| point(a, n).is_some() && point(b, n).is_some();
        args.idle.iter().rev().find(both).copied()
    };
    for epoll in ["epoll_level", "epoll_edge"] {
        let low = args
            .idle
            .iter()
            .copied()
            .find(|&n| point(epoll, n).is_some());
        if let (Some(low), Some(high)) = (low, largest_common(epoll, epoll))
            && let (Some(a), Some(b)) = (point(epoll, high), point(epoll, low))
        {
            let ratio = a.median_us / b.median_us;
            let _ = writeln!(
                out,
                "- {epoll} at {high} idle vs {low} idle: {ratio:.2}× (target ≤ 1.5×: {}); CPU {:.2}×",
                verdict(ratio <= 1.5),
                a.server_cpu_us / b.server_cpu_us
            );
        }
    }
    for epoll in ["epoll_level", "epoll_edge"] {
        if let Some(high) = largest_common("poll", epoll)
            && let (Some(p), Some(e)) = (point("poll", high), point(epoll, high))
        {
            let ratio = p.median_us / e.median_us;
            let _ = writeln!(
                out,
                "- poll vs {epoll} at {high} idle: {ratio:.1}× (target ≥ 10×: {}); CPU {:.1}×",
                verdict(ratio >= 10.0),
                p.server_cpu_us / e.server_cpu_us
            );
        }
    }
    let _ = writeln!(
        out,
        "\n{} round trips per point after {} warm-up; server and client {}; {} CPUs; load \
         average before {}, after {}; took {:.0} s.",
        args.round_trips,
        args.warmup,
        machine
            .pinned
            .map_or("not pinned".into(), |cpu| format!("pinned to CPU {cpu}")),
        machine.cpus,
        machine.load_before,
        machine.load_after,
        machine.took.as_secs_f64()
    );
    out
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "missed" }
}

fn short(why: &str) -> &str {
    if why.contains("FD_SETSIZE") {
        "FD_SETSIZE"
    } else {
        "fd limit"
    }
}

fn write_csv(path: &Path, models: &[&Model], results: &[Vec<Cell>]) -> io::Result<()> {
    let mut csv = String::from("model,idle,median_us,p99_us,server_cpu_us_per_round_trip\n");
    for (model, cells) in models.iter().zip(results) {
        for cell in cells {
            if let Cell::Measured(p) = cell {
                let _ = writeln!(
                    csv,
                    "{},{},{:.2},{:.2},{:.2}",
                    model.name, p.idle, p.median_us, p.p99_us, p.server_cpu_us
                );
            }
        }
    }
    std::fs::write(path, csv)
}

/// Log-log plot: idle connections → median round trip, one line per model.
fn plot(
    path: &Path,
    models: &[&Model],
    results: &[Vec<Cell>],
) -> Result<(), Box<dyn std::error::Error>> {
    let series: Vec<(&str, Vec<(f64, f64)>)> = models
        .iter()
        .zip(results)
        .map(|(model, cells)| {
            let points = cells
                .iter()
                .filter_map(|c| match c {
                    Cell::Measured(p) => Some((p.idle as f64, p.median_us)),
                    Cell::Skipped(_) => None,
                })
                .collect();
            (model.name, points)
        })
        .collect();
    let all = series.iter().flat_map(|(_, points)| points.iter());
    let (x_max, y_max) = all.fold((10.0f64, 100.0f64), |(x, y), &(px, py)| {
        (x.max(px), y.max(py))
    });
    let y_key_points: Vec<f64> = [
        10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4,
    ]
    .into_iter()
    .filter(|&y| y <= y_max * 1.5)
    .collect();
    let root = SVGBackend::new(path, (820, 520)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "One client's 64-byte echo round trip (median) with N idle connections",
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(42)
        .y_label_area_size(60)
        .build_cartesian_2d(
            (8.0..x_max * 1.25).log_scale(),
            (9.0..y_max * 1.5).log_scale().with_key_points(y_key_points),
        )?;
    chart
        .configure_mesh()
        .x_desc("idle connections (log scale)")
        .y_desc("median round trip, µs (log scale)")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .draw()?;
    // Four of the lines lie on top of each other (that is the point): vary the markers.
    let colors = [
        RED,
        RGBColor(230, 140, 0),
        BLUE,
        RGBColor(0, 160, 160),
        GREEN,
        MAGENTA,
    ];
    for (index, (name, points)) in series.into_iter().enumerate() {
        let color = colors[index % colors.len()];
        chart
            .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))?
            .label(name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
        let style = color.stroke_width(2);
        match index % 3 {
            0 => chart.draw_series(points.into_iter().map(|p| Circle::new(p, 4, style)))?,
            1 => chart.draw_series(points.into_iter().map(|p| TriangleMarker::new(p, 5, style)))?,
            _ => chart.draw_series(points.into_iter().map(|p| Cross::new(p, 4, style)))?,
        };
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}
