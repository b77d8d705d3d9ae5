//! The UDP chat room client: joins, then forks — one process prints what arrives, the other
//! sends what you type. `quit`, EOF or Ctrl-C leave the room; both processes end together.
//!
//! Run:    cargo run -p multiprocess --example udp_chat_client -- --name alice
//!         (with udp_chat_server running; without --name it asks for one)
//! Output: joined as alice; type a message, or quit
//!         * bob joined the room
//!         bob: hello alice
//!         BYE left

use labkit::Failure;
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use clap::Parser;
use multiprocess::udp_chat::client;

/// A UDP chat room client.
#[derive(Parser)]
struct Args {
    /// The server's address.
    #[arg(long, default_value = "127.0.0.1:8000", value_parser = netkit::parse_addr)]
    server: SocketAddr,
    /// Your name in the room (asked for on stdin if missing).
    #[arg(long)]
    name: Option<String>,
    /// How often to tell the server we are still here.
    #[arg(long, default_value_t = 5_000)]
    heartbeat_ms: u64,
}

fn main() -> Result<(), Failure> {
    Ok(run(&Args::parse())?)
}

fn run(args: &Args) -> std::io::Result<()> {
    let socket = UdpSocket::bind(client::local_address_for(args.server))?;
    let name = match &args.name {
        Some(name) => {
            if let Err(reason) = client::join(&socket, args.server, name)? {
                return Err(std::io::Error::other(format!("refused: {reason}")));
            }
            name.clone()
        }
        None => client::ask_name_and_join(&socket, args.server)?,
    };
    println!("joined as {name}; type a message, or quit");
    client::chat(
        socket,
        args.server,
        &name,
        Duration::from_millis(args.heartbeat_ms),
    )
}
