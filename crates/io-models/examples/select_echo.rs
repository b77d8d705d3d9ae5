//! An echo server that serves every client from one thread with select(2).
//!
//! Run:    cargo run -p io-models --example select_echo
//! Client: nc 127.0.0.1 7003      (open several: each is echoed at once)
//! Output: listening on 127.0.0.1:7003
//! Stop:   Ctrl-C (exits with status 0)
//!
//! A client whose socket would be descriptor 1024 or above (select's FD_SETSIZE ceiling) gets
//! one line, "server full: …", and is hung up on; the server keeps serving the others.

use std::net::SocketAddr;

use clap::Parser;
use labkit::Failure;

/// An echo server on select(2).
#[derive(Parser)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:7003", value_parser = netkit::parse_addr)]
    addr: SocketAddr,
}

fn main() -> Result<(), Failure> {
    let args = Args::parse();
    Ok(netkit::serve(args.addr, io_models::select::run)?)
}
