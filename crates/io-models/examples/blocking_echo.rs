//! A blocking echo server: one client at a time.
//!
//! Run:    cargo run -p io-models --example blocking_echo
//! Client: nc 127.0.0.1 7001      (type a line: it comes back)
//!         then a second `nc 127.0.0.1 7001` in another terminal: it connects, but gets no echo
//!         until the first client quits (Ctrl-D) — the lesson of this model.
//! Output: listening on 127.0.0.1:7001
//! Stop:   Ctrl-C (exits with status 0)

use std::net::SocketAddr;

use clap::Parser;
use labkit::Failure;

/// A blocking echo server that serves one client at a time.
#[derive(Parser)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:7001", value_parser = netkit::parse_addr)]
    addr: SocketAddr,
}

fn main() -> Result<(), Failure> {
    let args = Args::parse();
    // This server cannot look at a stop while it serves a client, so Ctrl-C ends the process;
    // it holds no state worth saving.
    netkit::stop::on_ctrl_c(|| std::process::exit(0))?;
    let listener = netkit::bind(args.addr)?;
    netkit::announce(listener.local_addr()?)?;
    Ok(io_models::blocking::run(listener, &netkit::Stop::new()?)?)
}
