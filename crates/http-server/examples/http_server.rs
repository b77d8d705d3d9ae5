//! A static HTTP/1.1 file server, on any concurrency model of the workspace.
//!
//! Run:    cargo run -p http-server --example http_server -- --root docs
//!         cargo run -p http-server --example http_server -- --model prefork --workers 4
//!         mdbook build docs && cargo run -p http-server --example http_server -- --root docs/book
//!           (then open http://127.0.0.1:8080/ in a browser: the book, served by this server)
//! Models: --model select|poll|epoll|async|uring|threads|pool|prefork   (default: epoll)
//! Client: curl -i http://127.0.0.1:8080/
//! Output: listening on 127.0.0.1:8080
//!         127.0.0.1 - - [04/Dec/2026:19:02:11 +0000] "GET / HTTP/1.1" 200 2113
//!         (one access-log line per response; --quiet for none)
//! Stop:   Ctrl-C: no new connections; responses in flight are finished (for at most --grace
//!         seconds), then it exits with status 0 (with --workers every worker stops and is
//!         reaped). A second Ctrl-C cuts them at once.
//! Where the kernel refuses io_uring, `--model uring` prints one sentence saying why and how to
//! check (`sysctl kernel.io_uring_disabled`) and exits with status 1.

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use http_server::{Limits, Model, Root, Site};
use labkit::{Context, Failure};
use netkit::{Stop, workers};

/// A static HTTP/1.1 file server.
#[derive(Parser)]
struct Args {
    /// The concurrency model: select, poll, epoll, async, uring, threads, pool or prefork.
    #[arg(long, default_value = "epoll")]
    model: Model,
    /// The directory to serve (nothing outside it is ever read).
    #[arg(long, default_value = ".")]
    root: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", value_parser = netkit::parse_addr)]
    addr: SocketAddr,
    /// Threads of the pool, processes of prefork (default 16: each serves one keep-alive
    /// connection at a time, and a browser opens six); for epoll and uring, N processes each
    /// with its own SO_REUSEPORT listener and event loop (default 1).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    workers: Option<u32>,
    /// Connections served at once (per process); more are answered 503 and closed.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    max_connections: usize,
    /// No access log.
    #[arg(long)]
    quiet: bool,
    /// Seconds a stop (Ctrl-C) waits for the responses in flight before it cuts them.
    #[arg(long, value_name = "SECS", default_value_t = 10.0, value_parser = labkit::args::seconds)]
    grace: f64,
    /// Internal: run as one worker of `--model epoll|uring --workers N`.
    #[arg(long, hide = true)]
    worker: bool,
}

fn main() -> Result<(), Failure> {
    let args = Args::parse();
    if args.model == Model::Uring {
        io_models::uring::available()?; // before the banner: a refusal is all that is printed
    }
    let root =
        Root::open(&args.root).context(format_args!("cannot serve {}", args.root.display()))?;
    let site = Site {
        root: Arc::new(root),
        limits: Limits::default(),
        access_log: !args.quiet,
        workers: args.workers.unwrap_or(16) as usize,
        max_connections: args.max_connections,
    };
    // One connection is one descriptor: take all the kernel allows (`ulimit -Hn`).
    if let Err(e) = workers::raise_fd_limit() {
        eprintln!("http_server: could not raise the open-file limit: {e}");
    }
    let per_process = matches!(args.model, Model::Epoll | Model::Uring);
    if per_process && args.workers.is_some_and(|n| n > 1) && !args.worker {
        let root = args.root.to_string_lossy().into_owned();
        let max = args.max_connections.to_string();
        let grace = args.grace.to_string();
        let mut forwarded = vec![
            "--model",
            args.model.name(),
            "--root",
            &root,
            "--max-connections",
            &max,
            "--grace",
            &grace,
        ];
        if args.quiet {
            forwarded.push("--quiet");
        }
        let count = args.workers.unwrap_or(1);
        return Ok(workers::supervise(count, args.addr, &forwarded)?);
    }
    let listener = if args.worker {
        workers::become_worker()?;
        workers::reuseport_listener(args.addr)?
    } else {
        netkit::bind(args.addr)?
    };
    serve(
        args.model,
        listener,
        &site,
        Duration::from_secs_f64(args.grace),
    )
}

/// Serves until Ctrl-C, after printing the `listening on` banner.
fn serve(model: Model, listener: TcpListener, site: &Site, grace: Duration) -> Result<(), Failure> {
    let stop = Stop::on_ctrl_c_with_grace(grace)?;
    netkit::announce(listener.local_addr()?)?;
    Ok(http_server::serve(model, listener, &stop, site)?)
}
