//! The HTTP server against nginx, in one run: requests per second measured by `wrk` for every
//! model of the chapter and for nginx, serving a 1 KiB page and a 1 MiB file over keep-alive
//! connections.
//!
//! Run:   cargo bench -p http-server --bench vs_nginx              (about 2 minutes)
//!        cargo bench -p http-server --bench vs_nginx -- --quick   (a smoke test: seconds)
//! Needs: `wrk` and `nginx` on PATH (`apt-get install wrk nginx-light`; `.ci/run` installs them).
//!
//! Each server runs in its own process: this bench again (`--serve MODEL`, the same
//! `http_server::serve` the example runs, no access log) or nginx with a generated
//! configuration (one worker process, `sendfile on`, no access log). `wrk` runs one thread.
//! Nothing is pinned: the pool and prefork models need both CPUs, and so does nginx's worker
//! next to `wrk`. Read the ratios to nginx within one run, not the absolute numbers.

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
    /// Seconds per measurement [default: 5; 1 with --quick].
    #[arg(long)]
    seconds: Option<u64>,
    /// Internal: serve DIR with this model until stdin closes.
    #[arg(long, hide = true, requires = "root")]
    serve: Option<Model>,
    /// Internal: the directory `--serve` serves.
    #[arg(long, hide = true)]
    root: Option<std::path::PathBuf>,
}

/// What is requested: a path and a name for the table.
const FILES: [(&str, &str, usize); 2] = [
    ("/page.html", "1 KiB", 1 << 10),
    ("/big.bin", "1 MiB", 1 << 20),
];

fn main() -> io::Result<()> {
    let args = Args::parse();
    if let (Some(model), Some(root)) = (args.serve, &args.root) {
        return serve(model, root);
    }
    let machine = Machine::start();
    let seconds = args.seconds.unwrap_or(args.bench.pick(5, 1));
    let connections: Vec<usize> = args.bench.pick(vec![10, 100], vec![10]);
    let dir = tempfile::tempdir()?;
    for (path, _, size) in FILES {
        fs::write(dir.path().join(&path[1..]), vec![b'x'; size])?;
    }
    let mut header = vec!["server".to_string()];
    let mut plan = Vec::new();
    for (path, name, _) in FILES {
        for &c in &connections {
            header.push(format!("{name}, {c} conns: req/s [× nginx]"));
            plan.push((path, c));
        }
    }
    let mut table = Table::new(header).numeric();
    let nginx = measure_all(&Server::Nginx, dir.path(), &plan, seconds)?;
    table.row(cells("nginx (1 worker)", &nginx, &nginx));
    for model in Model::ALL {
        let ours = measure_all(&Server::Ours(model), dir.path(), &plan, seconds)?;
        table.row(cells(
            &format!("http_server --model {model}"),
            &ours,
            &nginx,
        ));
    }
    print!("{table}");
    println!("\nwrk -t1 for {seconds} s per cell; {}.", machine.line());
    Ok(())
}

/// A server under test.
enum Server {
    Nginx,
    Ours(Model),
}

/// A running server, stopped when dropped: ours when its stdin closes; nginx by SIGTERM to its
/// master, which stops its worker first (a killed master would leave the worker serving).
#[allow(dead_code)] // held for its Drop
enum Running {
    Nginx(Worker),
    Ours(Worker),
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Running::Nginx(master) = self {
            let pid = nix::unistd::Pid::from_raw(master.pid() as i32);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        }
    }
}

/// Requests per second of `server` for each (path, connections) of `plan`.
fn measure_all(
    server: &Server,
    root: &Path,
    plan: &[(&str, usize)],
    seconds: u64,
) -> io::Result<Vec<f64>> {
    let (_process, addr) = match server {
        Server::Nginx => {
            let (nginx, addr) = start_nginx(root)?;
            (Running::Nginx(nginx), addr)
        }
        Server::Ours(model) => {
            let root = root.to_string_lossy().into_owned();
            let mut worker = Worker::start(["--serve", model.name(), "--root", &root])?;
            let addr = worker.announced_addr()?;
            (Running::Ours(worker), addr)
        }
    };
    let mut rates = Vec::new();
    for &(path, connections) in plan {
        let rate = wrk(addr, path, connections, seconds)?;
        eprintln!(
            "vs_nginx: {:<16} {path:<11} {connections:>4} conns: {rate:>10.0} req/s",
            name(server)
        );
        rates.push(rate);
    }
    Ok(rates)
}

fn name(server: &Server) -> String {
    match server {
        Server::Nginx => "nginx".to_string(),
        Server::Ours(model) => model.to_string(),
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
fn wrk(addr: SocketAddr, path: &str, connections: usize, seconds: u64) -> io::Result<f64> {
    let url = format!("http://{addr}{path}");
    let output = Command::new("wrk")
        .args([
            "-t1",
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

/// The worker side: serves `root` with `model` until stdin closes.
fn serve(model: Model, root: &Path) -> io::Result<()> {
    benchkit::worker::die_with_parent()?;
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let stop = netkit::Stop::on_ctrl_c()?;
    let on_eof = Arc::clone(&stop);
    benchkit::worker::on_stdin_eof(move || on_eof.stop());
    let site = Site {
        workers: 2,
        ..Site::new(Arc::new(Root::open(root)?))
    };
    netkit::announce(listener.local_addr()?)?;
    http_server::serve(model, listener, &stop, &site)
}

/// Starts nginx (one worker, no daemon) serving `root` on a free port; waits until it accepts.
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
            "worker_processes 1;\ndaemon off;\nuser root;\npid {prefix}/nginx.pid;\n\
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
