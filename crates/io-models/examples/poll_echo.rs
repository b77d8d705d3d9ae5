//! An echo server that serves every client from one thread with poll(2).
//!
//! Run:    cargo run -p io-models --example poll_echo
//! Client: nc 127.0.0.1 7004      (open several: each is echoed at once)
//! Output: listening on 127.0.0.1:7004
//! Stop:   Ctrl-C (exits with status 0)

use std::net::SocketAddr;

use clap::Parser;
use labkit::Failure;

/// An echo server on poll(2).
#[derive(Parser)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:7004", value_parser = netkit::parse_addr)]
    addr: SocketAddr,
}

fn main() -> Result<(), Failure> {
    let args = Args::parse();
    Ok(netkit::serve(args.addr, io_models::poll::run)?)
}
