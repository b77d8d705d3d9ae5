//! The chat room of the course: one thread, one select(2), every client and the server's stdin.
//!
//! Run:    cargo run -p io-models --example select_chat
//! Client: nc 127.0.0.1 8888      (or: cargo run -p io-models --example chat_client)
//! Output: listening on 127.0.0.1:8888
//! Stop:   Ctrl-C (every client is told the server is closing; exits with status 0)
//!
//! A session in three terminals (`<` marks what you type; the rest is what appears):
//!
//! ```text
//! ── terminal 1: the server ─────────────────────────────────────────────────
//! $ cargo run -p io-models --example select_chat
//! listening on 127.0.0.1:8888
//! type a line here to speak as [server]; Ctrl-C closes the room
//! (connection from 127.0.0.1:40312)
//! * alice joined
//! (connection from 127.0.0.1:40314)
//! * bob joined
//! [alice] hi bob
//! lunch at noon                                        <
//! [server] lunch at noon
//! * bob left
//! ^C
//! ── terminal 2: alice ──────────────────────────────────────────────────────
//! $ nc 127.0.0.1 8888
//! * welcome to the select(2) chat room: 0 people here
//! * what is your name? (one word, at most 32 bytes)
//! alice                                                <
//! * hello alice! type a line to talk; /who lists who is here, /quit leaves
//! * bob joined
//! hi bob                                               <
//! [server] lunch at noon
//! /who                                                 <
//! * in the room (2): alice, bob
//! * bob left
//! * the server is closing. goodbye!
//! ── terminal 3: bob ────────────────────────────────────────────────────────
//! $ nc 127.0.0.1 8888
//! * welcome to the select(2) chat room: 1 person here
//! * what is your name? (one word, at most 32 bytes)
//! Alice                                                <
//! ! that name is taken: "Alice"
//! * what is your name? (one word, at most 32 bytes)
//! bob                                                  <
//! * hello bob! type a line to talk; /who lists who is here, /quit leaves
//! [alice] hi bob
//! [server] lunch at noon
//! /quit                                                <
//! * bye, bob!
//! ```
//!
//! `--exit-on-eof` closes the room when stdin ends (for scripts: `echo hi | select_chat …`);
//! without it, the room goes on after stdin ends. A connection that chooses no name within
//! `--name-timeout` seconds (30) is told `! no name within 30s: goodbye` and closed; a line with a
//! control character (CR, ESC) is refused, not relayed.

use std::io;
use std::net::SocketAddr;
use std::os::fd::AsFd;
use std::time::Duration;

use clap::Parser;
use io_models::chat::{self, Console, Limits};
use labkit::Failure;

/// A chat room on select(2): nc to it, pick a name, talk.
#[derive(Parser)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8888", value_parser = netkit::parse_addr)]
    addr: SocketAddr,
    /// Close the room when stdin ends, instead of just no longer reading it.
    #[arg(long)]
    exit_on_eof: bool,
    /// Close a connection that has not chosen a name within this many seconds.
    #[arg(long, default_value_t = chat::NAME_TIMEOUT.as_secs_f64())]
    name_timeout: f64,
}

fn main() -> Result<(), Failure> {
    let args = Args::parse();
    let listener = netkit::bind(args.addr)?;
    let addr = listener.local_addr()?;
    let stop = netkit::Stop::on_ctrl_c()?;
    netkit::announce(addr)?;
    println!("type a line here to speak as [server]; Ctrl-C closes the room");
    let stdin = io::stdin();
    let console = Console {
        input: stdin.as_fd(),
        show: chat::print_line,
        exit_on_eof: args.exit_on_eof,
    };
    let limits = Limits {
        name_timeout: Duration::try_from_secs_f64(args.name_timeout).map_err(io::Error::other)?,
    };
    Ok(chat::run(listener, console, limits, &stop)?)
}
