//! An echo server on epoll: level-triggered by default, edge-triggered with `--edge`; one
//! process, or with `--workers N` N processes sharing the port through `SO_REUSEPORT`, each
//! with its own listener and its own epoll loop (how nginx scales past one process's
//! descriptor limit — the chapter's C100K measurement runs this).
//!
//! Run:    cargo run -p io-models --example epoll_echo
//!         cargo run -p io-models --example epoll_echo -- --edge
//!         cargo run -p io-models --example epoll_echo -- --workers 6
//! Client: nc 127.0.0.1 7005      (open several: each is echoed at once)
//! Output: listening on 127.0.0.1:7005
//! Stop:   Ctrl-C (exits with status 0; with --workers every worker stops and is reaped)

use std::io;
use std::net::{SocketAddr, TcpListener};

use clap::Parser;
use io_models::{epoll_edge, epoll_level};
use labkit::Failure;
use netkit::{Stop, workers};

/// An echo server on epoll.
#[derive(Parser)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:7005", value_parser = netkit::parse_addr)]
    addr: SocketAddr,
    /// Edge-triggered epoll (EPOLLET) instead of level-triggered.
    #[arg(long)]
    edge: bool,
    /// Run N worker processes, each with its own SO_REUSEPORT listener and epoll loop.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    workers: Option<u32>,
    /// Internal: run as one worker of `--workers`.
    #[arg(long, hide = true)]
    worker: bool,
}

fn main() -> Result<(), Failure> {
    let args = Args::parse();
    // One connection is one descriptor: take all the kernel allows (`ulimit -Hn`).
    if let Err(e) = workers::raise_fd_limit() {
        eprintln!("epoll_echo: could not raise the open-file limit: {e}");
    }
    if args.worker {
        workers::become_worker()?;
        serve(workers::reuseport_listener(args.addr)?, args.edge)?;
    } else if let Some(count) = args.workers {
        workers::supervise(count, args.addr, if args.edge { &["--edge"] } else { &[] })?;
    } else {
        serve(netkit::bind(args.addr)?, args.edge)?;
    }
    Ok(())
}

/// Serves on `listener` until Ctrl-C, after printing the `listening on` banner.
fn serve(listener: TcpListener, edge: bool) -> io::Result<()> {
    let stop = Stop::on_ctrl_c()?;
    netkit::announce(listener.local_addr()?)?;
    if edge {
        epoll_edge::run(listener, &stop)
    } else {
        epoll_level::run(listener, &stop)
    }
}
