//! A UDP echo server driven by signals: the kernel signals when a datagram arrives (Linux only).
//!
//! Run:    cargo run -p io-models --example sigio_udp_echo
//! Client: nc -u 127.0.0.1 7008   (each line you type comes back as one datagram)
//! Output: listening on 127.0.0.1:7008
//! Stop:   Ctrl-C (exits with status 0)

use std::net::{SocketAddr, UdpSocket};

use clap::Parser;
use labkit::Failure;

/// A UDP echo server on O_ASYNC/F_SETSIG (signal-driven IO).
#[derive(Parser)]
struct Args {
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1:7008", value_parser = netkit::parse_addr)]
    addr: SocketAddr,
}

fn main() -> Result<(), Failure> {
    let args = Args::parse();
    let socket = UdpSocket::bind(args.addr)?;
    let addr = socket.local_addr()?;
    let stop = netkit::Stop::on_ctrl_c()?;
    netkit::announce(addr)?;
    Ok(io_models::signal_driven::run(socket, &stop)?)
}
