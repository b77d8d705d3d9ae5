//! A chat client for select_chat: what you type goes to the room, what the room says is printed.
//! One thread waits on the keyboard and the socket at once with poll(2) — no `nc` needed.
//!
//! Run:    cargo run -p io-models --example chat_client
//!         cargo run -p io-models --example chat_client -- --addr 127.0.0.1:8888
//! Server: cargo run -p io-models --example select_chat      (in another terminal, first)
//! Output: connected to 127.0.0.1:8888; type a line and press Enter; /quit or Ctrl-D leaves
//!         * welcome to the select(2) chat room: 0 people here
//!         * what is your name? (one word, at most 32 bytes)
//! Stop:   /quit, or Ctrl-D (leaves the room: the server says `* bye, <name>!` and hangs up;
//!         exits with status 0)

use std::io;
use std::net::TcpStream;
use std::os::fd::AsFd;

use clap::Parser;
use labkit::{Context, Failure};

/// A chat client: stdin to the server, the server to stdout.
#[derive(Parser)]
struct Args {
    /// The chat server to connect to.
    #[arg(long, default_value = "127.0.0.1:8888")]
    addr: String,
}

fn main() -> Result<(), Failure> {
    let args = Args::parse();
    let stream = TcpStream::connect(&args.addr).context(format!(
        "cannot connect to {} (is select_chat running?)",
        args.addr
    ))?;
    eprintln!(
        "connected to {}; type a line and press Enter; /quit or Ctrl-D leaves",
        args.addr
    );
    let stdin = io::stdin();
    io_models::chat_client::run(stream, stdin.as_fd(), &mut io::stdout())
        .context("connection lost")?;
    eprintln!("the server closed the connection");
    Ok(())
}
