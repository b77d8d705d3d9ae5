//! An echo server with one thread per connection (scoped threads; Ctrl-C shuts every open
//! connection down and joins its thread).
//!
//! Run:    cargo run -p multithread --example thread_echo
//! Client: nc 127.0.0.1 7201      (open several; `ps -T -p <server pid>` shows a thread each)
//! Output: listening on 127.0.0.1:7201
//! Stop:   Ctrl-C (exits with status 0)
//! Bound:  `-- --max-threads 2`: a third client reads "server busy, try again later" and is
//!         closed at once; the server logs it on stderr (at most a line a second).

use std::net::SocketAddr;

use clap::Parser;
use labkit::Failure;
use multithread::per_thread_server::{DEFAULT_MAX_THREADS, Limits, thread_per_connection_limited};

/// A thread-per-connection echo server.
#[derive(Parser)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:7201", value_parser = netkit::parse_addr)]
    addr: SocketAddr,
    /// Clients served at once (a thread each); the next one is told the server is busy.
    #[arg(long, default_value_t = DEFAULT_MAX_THREADS, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    max_threads: usize,
}

fn main() -> Result<(), Failure> {
    let args = Args::parse();
    let limits = Limits {
        max_threads: args.max_threads,
        ..Limits::default()
    };
    Ok(netkit::serve(args.addr, |listener, stop| {
        thread_per_connection_limited(listener, stop, &limits)
    })?)
}
