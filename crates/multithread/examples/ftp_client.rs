//! The course's FTP client: log in, then a prompt — list, cd DIR, get NAME, put PATH, quit.
//!
//! Run:    cargo run -p multithread --example ftp_client -- --addr 127.0.0.1:2121
//!         (with `cargo run -p multithread --example ftp_server -- --root DIR --allow-uploads`
//!         running; without `--allow-uploads` the server is read-only and `put` gets 550)
//! Output: connected to 127.0.0.1:2121 as anonymous
//!         commands: list | cd DIR | get NAME | put PATH | quit
//!         ftp> list
//!         notes.txt
//!         ftp> get notes.txt
//!         got notes.txt (1234 bytes)

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use labkit::Failure;
use multithread::ftp::client::{self, Client};

/// An interactive FTP client.
#[derive(Parser)]
struct Args {
    /// The server.
    #[arg(long, default_value = "127.0.0.1:2121", value_parser = netkit::parse_addr)]
    addr: SocketAddr,
    #[arg(long, default_value = "anonymous")]
    user: String,
    #[arg(long, default_value = "guest@")]
    password: String,
    /// Where downloads go.
    #[arg(long, default_value = ".")]
    dir: PathBuf,
}

fn main() -> Result<(), Failure> {
    let args = Args::parse();
    let mut ftp = Client::connect(args.addr, &args.user, &args.password).map_err(|e| {
        std::io::Error::new(e.kind(), format!("cannot log in to {}: {e}", args.addr))
    })?;
    println!("connected to {} as {}", args.addr, args.user);
    client::interactive(
        &mut ftp,
        &args.dir,
        std::io::stdin().lock(),
        &mut std::io::stdout(),
    )?;
    ftp.quit()?;
    println!("bye");
    Ok(())
}
