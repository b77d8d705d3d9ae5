//! An echo server on a fixed pool of worker threads: `--workers` clients are served at once;
//! the next `--queue` wait accepted in the pool's queue, each served in order as a worker is
//! freed; any more are told the server is busy and closed at once (logged on stderr, at most a
//! line a second).
//!
//! Run:    cargo run -p multithread --example pool_echo -- --workers 2 --queue 1
//! Client: nc 127.0.0.1 7202      (open four: the third is answered only when one leaves; the
//!         fourth reads "server busy, try again later" and is closed)
//! Output: listening on 127.0.0.1:7202
//! Stop:   Ctrl-C (exits with status 0)

use std::net::SocketAddr;

use clap::Parser;
use labkit::Failure;

/// A thread-pool echo server.
#[derive(Parser)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:7202", value_parser = netkit::parse_addr)]
    addr: SocketAddr,
    /// Worker threads: how many clients are served at once.
    #[arg(long, default_value_t = 1000)]
    workers: usize,
    /// Accepted connections that may wait for a worker; any more are turned away.
    #[arg(long, default_value_t = 64)]
    queue: usize,
}

fn main() -> Result<(), Failure> {
    let args = Args::parse();
    Ok(netkit::serve(args.addr, |listener, stop| {
        multithread::per_thread_server::pooled(listener, stop, args.workers, args.queue)
    })?)
}
