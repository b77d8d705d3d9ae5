//! The HTTP server against nginx, in one run: requests per second measured by
//! `wrk -t2 -c100 -d10s` (keep-alive) for every model of the chapter (io_uring's where the
//! kernel allows it), for the epoll and uring models with two `SO_REUSEPORT` worker processes,
//! and for nginx with two workers, serving a 1 KiB page and a 1 MiB file; then the same with 10,000
//! idle keep-alive connections held open beside wrk.
//!
//! Run:   cargo bench -p http-server --bench vs_nginx              (about 4 minutes)
//!        cargo bench -p http-server --bench vs_nginx -- --quick   (a smoke test: seconds)
//! Needs: `wrk` and `nginx` on PATH (`apt-get install wrk nginx-light`; `.ci/run` installs them).
//!
//! Each server runs in its own process: this bench again (`--serve MODEL`, the same
//! `http_server::serve` the example runs, no access log; with `--workers 2` for epoll and
//! uring, two worker processes under `netkit::workers`) or nginx with a generated configuration
//! (`worker_processes 2`, `sendfile on`, `access_log off`). Nothing is pinned: the servers,
//! wrk's two threads and the idle holder share the machine's CPUs, as they would in production.
//! Read the ratios to nginx within one run, not the absolute numbers.

use std::fs;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use benchkit::{BenchArgs, Machine, Table, Worker};
use clap::Parser;
use http_server::{Model, Root, Site};

/// Requests per second of every model and of nginx, measured by wrk.
#[derive(Parser)]
struct Args {
    #[command(flatten)]
    bench: BenchArgs,
    /// Seconds per measurement [default: 10; 1 with --quick].
    #[arg(long)]
    seconds: Option<u64>,
    /// Idle keep-alive connections held beside wrk in the second table [default: 10000; 100
    /// with --quick].
    #[arg(long)]
    idle: Option<u64>,
    /// Write the plot here (SVG).
    #[arg(long)]
    plot: Option<std::path::PathBuf>,
    /// Internal: serve DIR with this model until stdin closes (or, as a worker, until SIGTERM).
    #[arg(long, hide = true, requires = "root")]
    serve: Option<Model>,
    /// Internal: the directory `--serve` serves.
    #[arg(long, hide = true)]
    root: Option<std::path::PathBuf>,
    /// Internal: worker processes of `--serve epoll`.
    #[arg(long, hide = true, default_value_t = 1)]
    workers: u32,
    /// Internal: run as one worker (started by `netkit::workers::supervise`).
    #[arg(long, hide = true)]
    worker: bool,
    /// Internal: the address a worker joins.
    #[arg(long, hide = true, default_value = "127.0.0.1:0")]
    addr: SocketAddr,
}

/// What is requested: a path and a name for the table.
const FILES: [(&str, &str, usize); 2] = [
    ("/page.html", "1 KiB", 1 << 10),
    ("/big.bin", "1 MiB", 1 << 20),
];

fn main() -> io::Result<()> {
    let args = Args::parse();
    if let (Some(model), Some(root)) = (args.serve, &args.root) {
        return serve(model, root, &args);
    }
    let machine = Machine::start();
    let plan = Plan {
        seconds: args.seconds.unwrap_or(args.bench.pick(10, 1)),
        connections: args.bench.pick(100, 10),
    };
    let dir = tempfile::tempdir()?;
    for (path, _, size) in FILES {
        fs::write(dir.path().join(&path[1..]), vec![b'x'; size])?;
    }
    let mut servers = vec![Server::Nginx, Server::Ours(Model::Epoll, 2)];
    servers.extend(runs_here(&Model::Uring).then_some(Server::Ours(Model::Uring, 2)));
    servers.extend(
        Model::ALL
            .into_iter()
            .filter(runs_here)
            .map(|m| Server::Ours(m, 1)),
    );
    let mut header = vec!["server".to_string()];
    header.extend(FILES.map(|(_, name, _)| format!("{name}: req/s [× nginx]")));
    let mut table = Table::new(header).numeric();
    let mut rates = Vec::new();
    for server in &servers {
        let running = start(server, dir.path())?;
        let row = FILES
            .iter()
            .map(|(path, ..)| wrk(running.addr, path, &plan))
            .collect::<io::Result<Vec<f64>>>()?;
        eprintln!("vs_nginx: {:<22} {row:?} req/s", server.name());
        rates.push(row);
    }
    for (server, row) in servers.iter().zip(&rates) {
        table.row(cells(&server.name(), row, &rates[0]));
    }
    println!("{table}");
    let idle = args.idle.unwrap_or(args.bench.pick(10_000, 100));
    println!("{}", with_idle(&servers[..2], dir.path(), idle, &plan)?);
    let mut single = vec![Server::Ours(Model::Threads, 1)];
    single.extend(runs_here(&Model::Uring).then_some(Server::Ours(Model::Uring, 1)));
    println!("{}", with_idle(&single, dir.path(), idle, &plan)?);
    println!(
        "\nwrk -t2 -c{} -d{}s, keep-alive, per cell; {}.",
        plan.connections,
        plan.seconds,
        machine.line()
    );
    if let Some(path) = &args.plot {
        // cargo runs a bench in its crate's directory: a relative path is the workspace's.
        let path = &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(path);
        plot(&servers, &rates, &plan, path)?;
        println!("plot written to {}", path.display());
    }
    Ok(())
}

/// Every model runs here but `uring` where the kernel refuses io_uring: that row is left out,
/// and the reason said.
fn runs_here(model: &Model) -> bool {
    if *model != Model::Uring {
        return true;
    }
    io_models::uring::available()
        .map_err(|refusal| eprintln!("vs_nginx: no uring row: {refusal}"))
        .is_ok()
}

/// How long and how hard wrk loads each cell.
struct Plan {
    seconds: u64,
    connections: usize,
}

/// The bound on open connections the bench's servers run with: the idle table's and wrk's.
const MAX_CONNECTIONS: usize = 12_000;

/// How many idle connections `server` is given, of `idle`. The thread-per-connection server
/// holds two descriptors per connection (the socket, and the handle its stop shuts down), so
/// 10,000 idle and wrk's 100 would pass the process's 20,000-descriptor limit: it gets 9,000.
fn idle_for(server: &Server, idle: u64) -> u64 {
    match server {
        Server::Ours(Model::Threads, _) => idle.min(9_000),
        _ => idle,
    }
}

/// Requests per second of the 1 KiB page with and without `idle` idle connections held open,
/// and the server's resident memory (workers included) with them.
fn with_idle(servers: &[Server], root: &Path, idle: u64, plan: &Plan) -> io::Result<Table> {
    let mut table = Table::new([
        "server".to_string(),
        "1 KiB: req/s".to_string(),
        format!("… with up to {idle} idle connections"),
        "resident memory, then".to_string(),
    ])
    .numeric();
    for server in servers {
        let running = start(server, root)?;
        let alone = wrk(running.addr, FILES[0].0, plan)?;
        let idle = idle_for(server, idle);
        let config = loadgen::IdleConfig {
            hold: Duration::from_secs(plan.seconds * 3),
            ..loadgen::IdleConfig::new(running.addr, idle)
        };
        let _held = loadgen::hold_idle_with(&config)
            .map_err(|e| io::Error::other(format!("holding {idle} idle connections: {e:#}")))?;
        let loaded = wrk(running.addr, FILES[0].0, plan)?;
        let memory = resident_kib(running.pid);
        eprintln!(
            "vs_nginx: {:<22} {alone:.0} → {loaded:.0} req/s with {idle} idle",
            server.name()
        );
        table.row([
            server.name(),
            format!("{alone:.0}"),
            format!("{loaded:.0} [{:.2}×] ({idle} idle)", loaded / alone),
            format!("{:.0} MiB", memory as f64 / 1024.0),
        ]);
    }
    Ok(table)
}

/// Resident memory of `pid` and all its descendants, in KiB (`VmRSS`).
fn resident_kib(pid: u32) -> u64 {
    let mut pids = vec![pid];
    pids.extend(labkit::proc::descendants(pid).unwrap_or_default());
    pids.iter()
        .filter_map(|p| fs::read_to_string(format!("/proc/{p}/status")).ok())
        .filter_map(|status| {
            let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        })
        .sum()
}

/// Every server's requests per second as a multiple of nginx's (the first row), one line per
/// server from the 1 KiB page to the 1 MiB file: above 1.0 is faster than nginx.
fn plot(servers: &[Server], rates: &[Vec<f64>], plan: &Plan, path: &Path) -> io::Result<()> {
    use benchkit::plot::{SeriesLabelPosition, color};
    use benchkit::{Axis, Chart, Marker, Series};
    let ratios: Vec<Vec<f64>> = (rates.iter())
        .map(|row| row.iter().zip(&rates[0]).map(|(r, n)| r / n).collect())
        .collect();
    let most = ratios.iter().flatten().copied().fold(1.0, f64::max);
    let caption = format!(
        "requests/s as a multiple of nginx's, wrk -t2 -c{}, keep-alive",
        plan.connections
    );
    let mut chart = Chart::new(caption)
        .legend(Some(SeriesLabelPosition::LowerLeft))
        .x(Axis::linear("file served", -0.6..1.2)
            .key_points(vec![0.0, 1.0])
            .format(|x| match x {
                x if x.abs() < 1e-6 => "1 KiB page".to_string(),
                x if (x - 1.0).abs() < 1e-6 => "1 MiB file".to_string(),
                _ => String::new(),
            }))
        .y(Axis::linear("× nginx", 0.0..most * 1.1).format(|y| format!("{y:.1}")));
    for (i, (server, row)) in servers.iter().zip(ratios).enumerate() {
        let points = row
            .into_iter()
            .enumerate()
            .map(|(x, r)| (x as f64, r))
            .collect();
        let series = Series::new(server.name(), points).color(color(i));
        chart = chart.series(series.marker(Marker::cycle(i)));
    }
    chart.write_svg(path, (900, 560))
}

/// Threads of the pool, processes of prefork: more than wrk's 100 keep-alive connections.
const BLOCKING_WORKERS: usize = 128;

/// A server under test: nginx, or ours with a model and its worker processes.
enum Server {
    Nginx,
    Ours(Model, u32),
}

impl Server {
    fn name(&self) -> String {
        match self {
            Server::Nginx => "nginx (2 workers)".to_string(),
            Server::Ours(model @ (Model::Pool | Model::Prefork), _) => {
                format!("--model {model} --workers {BLOCKING_WORKERS}")
            }
            Server::Ours(model, 1) => format!("--model {model}"),
            Server::Ours(model, n) => format!("--model {model} --workers {n}"),
        }
    }
}

/// A server's process, stopped when dropped: ours when its stdin closes; nginx by SIGTERM to
/// its master, which stops its workers first (a killed master would leave them serving).
#[allow(dead_code)] // held for its Drop
enum Process {
    Nginx(Worker),
    Ours(Worker),
}

impl Drop for Process {
    fn drop(&mut self) {
        if let Process::Nginx(master) = self {
            let pid = nix::unistd::Pid::from_raw(master.pid() as i32);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        }
    }
}

/// A running server, stopped when dropped.
struct Running {
    addr: SocketAddr,
    pid: u32,
    _process: Process,
}

/// Starts `server` serving `root`, and waits until it listens.
fn start(server: &Server, root: &Path) -> io::Result<Running> {
    match server {
        Server::Nginx => {
            let (nginx, addr) = start_nginx(root)?;
            let pid = nginx.pid();
            Ok(Running {
                addr,
                pid,
                _process: Process::Nginx(nginx),
            })
        }
        Server::Ours(model, workers) => {
            let root = root.to_string_lossy().into_owned();
            let workers = workers.to_string();
            let args = [
                "--serve",
                model.name(),
                "--root",
                &root,
                "--workers",
                &workers,
            ];
            let mut worker = Worker::start(args)?;
            let addr = worker.announced_addr()?;
            let pid = worker.pid();
            Ok(Running {
                addr,
                pid,
                _process: Process::Ours(worker),
            })
        }
    }
}

/// One row: each rate, and its ratio to nginx's.
fn cells(name: &str, rates: &[f64], nginx: &[f64]) -> Vec<String> {
    let mut row = vec![name.to_string()];
    for (rate, base) in rates.iter().zip(nginx) {
        row.push(format!("{rate:.0} [{:.2}×]", rate / base));
    }
    row
}

/// Runs wrk against `http://addr{path}` and returns its requests per second; an error if any
/// response was not 2xx/3xx or a socket error happened.
fn wrk(addr: SocketAddr, path: &str, plan: &Plan) -> io::Result<f64> {
    let url = format!("http://{addr}{path}");
    let (connections, seconds) = (plan.connections, plan.seconds);
    let output = Command::new("wrk")
        .args([
            "-t2",
            &format!("-c{connections}"),
            &format!("-d{seconds}s"),
            &url,
        ])
        .output()
        .map_err(|e| io::Error::new(e.kind(), format!("cannot run wrk (is it installed?): {e}")))?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() || text.contains("Non-2xx") || text.contains("Socket errors") {
        return Err(io::Error::other(format!(
            "wrk against {url} reported trouble:\n{text}"
        )));
    }
    text.lines()
        .find_map(|line| line.strip_prefix("Requests/sec:"))
        .and_then(|rate| rate.trim().parse().ok())
        .ok_or_else(|| io::Error::other(format!("no Requests/sec in wrk's output:\n{text}")))
}

/// The server side: serves `root` with `model` until stdin closes — or, with `--workers N`,
/// supervises N worker processes that each serve with their own `SO_REUSEPORT` listener.
fn serve(model: Model, root: &Path, args: &Args) -> io::Result<()> {
    benchkit::worker::die_with_parent()?;
    netkit::workers::raise_fd_limit()?;
    if args.workers > 1 && !args.worker {
        // Stdin's end means stop: pass it on to the workers as the SIGTERM they stop on.
        benchkit::worker::on_stdin_eof(|| {
            let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGTERM);
        });
        let root = root.to_string_lossy().into_owned();
        let forwarded = ["--serve", model.name(), "--root", &root];
        return netkit::workers::supervise(args.workers, args.addr, &forwarded);
    }
    let stop = netkit::Stop::on_ctrl_c()?;
    let listener = if args.worker {
        netkit::workers::become_worker()?;
        netkit::workers::reuseport_listener(args.addr)?
    } else {
        let on_eof = Arc::clone(&stop);
        benchkit::worker::on_stdin_eof(move || on_eof.stop());
        TcpListener::bind(args.addr)?
    };
    // A pool thread or a prefork process serves one keep-alive connection until it ends:
    // they are sized for wrk's connections, as such servers are configured in practice.
    let workers = match model {
        Model::Pool | Model::Prefork => BLOCKING_WORKERS,
        _ => 2,
    };
    // Room for the idle table's connections beside wrk's: the default bound would answer
    // wrk's requests with 503 once the idle holder has taken its place.
    let site = Site {
        workers,
        max_connections: MAX_CONNECTIONS,
        ..Site::new(Arc::new(Root::open(root)?))
    };
    netkit::announce(listener.local_addr()?)?;
    http_server::serve(model, listener, &stop, &site)
}

/// Starts nginx (two workers, no daemon) serving `root` on a free port; waits until it accepts.
fn start_nginx(root: &Path) -> io::Result<(Worker, SocketAddr)> {
    // nginx cannot be given port 0: take a free port and hand it over (another program could
    // take it in between; then nginx fails to start and says so).
    let addr = TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    let prefix = root.join("nginx");
    fs::create_dir_all(prefix.join("logs"))?;
    let conf = prefix.join("nginx.conf");
    fs::write(
        &conf,
        format!(
            "worker_processes 2;\ndaemon off;\nuser root;\npid {prefix}/nginx.pid;\n\
             error_log {prefix}/logs/error.log;\nevents {{ worker_connections 4096; }}\n\
             http {{ access_log off; sendfile on; tcp_nopush on; keepalive_requests 1000000;\n\
             server {{ listen {addr}; root {root}; }} }}\n",
            prefix = prefix.display(),
            root = root.display(),
        ),
    )?;
    let prefix_arg = prefix.to_string_lossy().into_owned();
    let conf_arg = conf.to_string_lossy().into_owned();
    let nginx = Path::new("nginx");
    let worker = Worker::start_program(nginx, ["-p", &prefix_arg, "-c", &conf_arg, "-e", "stderr"])
        .map_err(|e| io::Error::new(e.kind(), format!("{e} (is nginx installed?)")))?
        .grace(Duration::from_secs(1));
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(addr).is_err() {
        if Instant::now() > deadline {
            return Err(io::Error::other(format!(
                "nginx did not listen on {addr} within 10 s"
            )));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok((worker, addr))
}
