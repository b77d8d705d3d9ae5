//! A prefork echo server: N worker processes share one listening socket, each serving one
//! client at a time; client N+1 waits in the listen queue until a worker is free.
//!
//! Run:    cargo run -p multiprocess --example prefork_echo -- --workers 2
//! Client: nc 127.0.0.1 7102      (a third nc waits until one of the first two quits)
//! Output: listening on 127.0.0.1:7102   (and, on stderr, the server's pid)
//! Stop:   Ctrl-C (the workers are stopped and reaped; exits with status 0)
//! Try:    kill -9 one worker (`ps --ppid <server pid>`): the server starts another.
//! Also:   `-- --uppercase` serves the line-uppercasing protocol instead (`hi` → `HI`): the same
//!         server, another handler.
//! Bound:  `-- --idle-timeout 5`: a worker lets a client that sends nothing for 5 s go (and logs
//!         it), so silent clients cannot hold every worker (default 60 s; 0: never).

use std::net::SocketAddr;

use clap::Parser;
use labkit::Failure;
use multiprocess::per_process_server::prefork_limited;
use multiprocess::server_limits::{self, LimitArgs};

/// A prefork echo server.
#[derive(Parser)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:7102", value_parser = netkit::parse_addr)]
    addr: SocketAddr,
    /// Worker processes (each serves one client at a time).
    #[arg(long, default_value_t = 8, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1024))]
    workers: usize,
    #[command(flatten)]
    limits: LimitArgs,
}

fn main() -> Result<(), Failure> {
    let args = Args::parse();
    server_limits::show_pid();
    let limits = args.limits.limits();
    let handler = args.limits.handler();
    Ok(netkit::serve(args.addr, |listener, stop| {
        prefork_limited(listener, stop, args.workers, &limits, handler)
    })?)
}
