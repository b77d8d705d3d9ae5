//! An echo server on the `polling` crate: a portable event loop with per-connection buffers.
//!
//! Run:    cargo run -p io-models --example selectors_echo
//! Client: nc 127.0.0.1 7006      (open several: each is echoed at once)
//! Output: listening on 127.0.0.1:7006
//! Stop:   Ctrl-C (exits with status 0)

use std::net::SocketAddr;

use clap::Parser;
use labkit::Failure;

/// An echo server on the `polling` crate (the Rust counterpart of Python's `selectors`).
#[derive(Parser)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:7006", value_parser = netkit::parse_addr)]
    addr: SocketAddr,
}

fn main() -> Result<(), Failure> {
    let args = Args::parse();
    Ok(netkit::serve(args.addr, io_models::selectors::run)?)
}
