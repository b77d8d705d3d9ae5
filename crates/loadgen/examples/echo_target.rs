//! echo_target: a multi-process epoll echo server (SO_REUSEPORT, one listener per worker) that
//! loadgen's tests and scale runs aim at. The logic is in `loadgen::target`, built on netkit.
//!
//! Run:     cargo run -p loadgen --example echo_target -- --addr 127.0.0.1:7700 --procs 2
//! Client:  nc 127.0.0.1 7700
//! Expect:  `listening on 127.0.0.1:7700`; every line typed into nc comes back; Ctrl-C stops the
//!          server and its workers and exits with status 0.
//! Load:    cargo run -p loadgen --release -- idle --conns 10000 --server-pid <pid>

use labkit::Failure;
use std::net::SocketAddr;

use clap::Parser;

/// A multi-process epoll echo server for load tests.
#[derive(Debug, Parser)]
struct Args {
    /// Where to listen; port 0 picks a free port (printed on the first line).
    #[arg(long, default_value = "127.0.0.1:7700", value_parser = netkit::parse_addr)]
    addr: SocketAddr,
    /// Worker processes, each with its own SO_REUSEPORT listener; 1 serves in this process.
    #[arg(long, default_value_t = 1)]
    procs: u32,
    /// Lower each worker's soft descriptor limit (RLIMIT_NOFILE) to N, to watch a server at its
    /// limit: it pauses accepting instead of spinning, and clients wait in the backlog.
    #[arg(long, value_name = "N")]
    max_fds: Option<u64>,
    /// Internal: run as one worker of `--procs`.
    #[arg(long, hide = true)]
    worker: bool,
}

fn main() -> Result<(), Failure> {
    let args = Args::parse();
    let config = loadgen::target::TargetConfig {
        addr: args.addr,
        procs: args.procs,
        max_fds: args.max_fds,
        worker: args.worker,
    };
    // anyhow's error, with its chain of causes ({:#}), as the sentence.
    loadgen::target::run(&config).map_err(|e| Failure::new(format!("{e:#}")))
}
