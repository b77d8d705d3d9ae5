//! An echo server with one thread per connection (scoped threads; Ctrl-C shuts every open
//! connection down and joins its thread).
//!
//! Run:    cargo run -p multithread --example thread_echo
//! Client: nc 127.0.0.1 7201      (open several; `ps -T -p <server pid>` shows a thread each)
//! Output: listening on 127.0.0.1:7201
//! Stop:   Ctrl-C (exits with status 0)

use std::net::SocketAddr;

use clap::Parser;
use labkit::Failure;

/// A thread-per-connection echo server.
#[derive(Parser)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:7201")]
    addr: SocketAddr,
}

fn main() -> Result<(), Failure> {
    let args = Args::parse();
    Ok(netkit::serve(
        args.addr,
        multithread::per_thread_server::thread_per_connection,
    )?)
}
