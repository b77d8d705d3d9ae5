//! The UDP chat room server. Members are known by address, so nobody speaks or quits as
//! someone else; silent members time out; lines typed on stdin go to everyone as announcements.
//!
//! Run:    cargo run -p multiprocess --example udp_chat_server
//! Client: cargo run -p multiprocess --example udp_chat_client -- --name alice
//!         (or by hand: `nc -u 127.0.0.1 8000`, then type `L alice`, `C alice hello`, `Q alice`)
//! Output: listening on 127.0.0.1:8000
//! Admin:  type a line on the server's stdin: every member receives `admin: <line>`
//! Stop:   Ctrl-C (every member receives `BYE server shutting down`; exits with status 0)

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use clap::Parser;
use labkit::Failure;
use multiprocess::udp_chat::server::{self, Admin};

/// A UDP chat room server.
#[derive(Parser)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8000", value_parser = netkit::parse_addr)]
    addr: SocketAddr,
    /// Drop a member not heard from for this long (clients send a heartbeat every 5 s).
    #[arg(long, default_value_t = 15_000)]
    timeout_ms: u64,
}

fn main() -> Result<(), Failure> {
    let args = Args::parse();
    let socket = UdpSocket::bind(args.addr).map_err(|e| netkit::explain_bind(args.addr, e))?;
    let addr = socket.local_addr()?;
    let stop = netkit::Stop::on_ctrl_c()?;
    netkit::announce(addr)?;
    let admin = Admin::new(std::io::stdin());
    server::run(
        socket,
        &stop,
        Some(admin),
        Duration::from_millis(args.timeout_ms),
    )?;
    Ok(())
}
