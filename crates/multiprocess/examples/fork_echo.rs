//! An echo server that forks a child process for every connection, and reaps each child as it
//! exits (SIGCHLD + waitpid), so no zombie stays.
//!
//! Run:    cargo run -p multiprocess --example fork_echo
//! Client: nc 127.0.0.1 7101      (open several; `ps --ppid <server pid>` lists one child each;
//!         OpenBSD nc needs `-N` to hang up when its input ends: `echo hi | nc -N 127.0.0.1 7101`)
//! Output: listening on 127.0.0.1:7101   (and, on stderr, the server's pid)
//! Stop:   Ctrl-C (the children are stopped and reaped; exits with status 0)
//! Also:   `-- --uppercase` serves the line-uppercasing protocol instead (`hi` → `HI`): the same
//!         server, another handler.
//! Bound:  `-- --max-children 2`: a third client reads "server busy, try again later" and is
//!         closed at once, logged on stderr; `--idle-timeout 5`: a silent client is let go.

use std::net::SocketAddr;

use clap::Parser;
use labkit::Failure;
use multiprocess::per_process_server::fork_per_connection_limited;
use multiprocess::server_limits::{self, DEFAULT_MAX_CHILDREN, LimitArgs, Limits};

/// A fork-per-connection echo server.
#[derive(Parser)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:7101", value_parser = netkit::parse_addr)]
    addr: SocketAddr,
    /// Children at once (a client each); the next client is told the server is busy.
    #[arg(long, default_value_t = DEFAULT_MAX_CHILDREN, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=100_000))]
    max_children: usize,
    #[command(flatten)]
    limits: LimitArgs,
}

fn main() -> Result<(), Failure> {
    let args = Args::parse();
    server_limits::show_pid();
    let limits = Limits {
        max_children: args.max_children,
        ..args.limits.limits()
    };
    let handler = args.limits.handler();
    Ok(netkit::serve(args.addr, |listener, stop| {
        fork_per_connection_limited(listener, stop, &limits, handler)
    })?)
}
