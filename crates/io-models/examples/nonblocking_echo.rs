//! An echo server that never blocks: it tries every socket in turn, over and over — and burns a
//! whole core doing it, even with no clients (watch it in `top`).
//!
//! Run:    cargo run -p io-models --example nonblocking_echo
//! Client: nc 127.0.0.1 7002      (open several: each is echoed at once)
//! Output: listening on 127.0.0.1:7002
//! Stop:   Ctrl-C (exits with status 0)

use std::net::SocketAddr;

use clap::Parser;
use labkit::Failure;

/// An echo server on non-blocking sockets and a busy loop.
#[derive(Parser)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:7002", value_parser = netkit::parse_addr)]
    addr: SocketAddr,
}

fn main() -> Result<(), Failure> {
    let args = Args::parse();
    Ok(netkit::serve(args.addr, io_models::nonblocking::run)?)
}
