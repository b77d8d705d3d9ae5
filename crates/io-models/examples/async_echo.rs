//! An echo server written with async/await on a hand-made reactor and executor (no tokio).
//!
//! Run:    cargo run -p io-models --example async_echo
//! Client: nc 127.0.0.1 7007      (open several: one task per connection, one thread for all)
//! Output: listening on 127.0.0.1:7007
//! Stop:   Ctrl-C (exits with status 0)

use std::net::SocketAddr;

use clap::Parser;
use labkit::Failure;

/// An async echo server on a minimal reactor + executor.
#[derive(Parser)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:7007", value_parser = netkit::parse_addr)]
    addr: SocketAddr,
}

fn main() -> Result<(), Failure> {
    let args = Args::parse();
    Ok(netkit::serve(args.addr, io_models::reactor::run)?)
}
