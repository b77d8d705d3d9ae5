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
use std::os::fd::AsFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::Parser;
use io_models::{epoll_edge, epoll_level};
use netkit::workers;
use nix::sys::eventfd::{EfdFlags, EventFd};

/// An echo server on epoll.
#[derive(Parser)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:7005")]
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

fn main() -> Result<(), netkit::Failure> {
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
    let addr = listener.local_addr()?;
    // The usual wake-up (connect to our own listener) may land on another worker's listener
    // under SO_REUSEPORT, so Ctrl-C wakes the loop through an eventfd instead.
    let waker = Arc::new(EventFd::from_flags(EfdFlags::EFD_CLOEXEC)?);
    let stop = Arc::new(AtomicBool::new(false));
    let (flag, wake) = (Arc::clone(&stop), Arc::clone(&waker));
    netkit::shutdown::on_ctrl_c(move || {
        flag.store(true, Ordering::SeqCst);
        let _ = wake.write(1);
    })?;
    netkit::announce(addr)?;
    if edge {
        let config = epoll_edge::Config {
            waker: Some(waker.as_fd()),
            ..epoll_edge::Config::default()
        };
        epoll_edge::run_with(listener, &stop, config)
    } else {
        epoll_level::run_with_waker(listener, &stop, Some(waker.as_fd()))
    }
}
