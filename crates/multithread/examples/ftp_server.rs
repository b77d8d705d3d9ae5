//! An FTP server with a thread per control connection, confined to --root: list, download,
//! upload, directories; anonymous, or the users of a --users file (`name:password` lines).
//!
//! Run:    cargo run -p multithread --example ftp_server -- --root /tmp/ftp-root
//! Client: curl ftp://127.0.0.1:2121/            (a listing; `curl ftp://127.0.0.1:2121/file -o file`,
//!         `curl -T local ftp://127.0.0.1:2121/`), `lftp -p 2121 127.0.0.1`, or
//!         cargo run -p multithread --example ftp_client
//! Output: listening on 127.0.0.1:2121
//! Stop:   Ctrl-C (open sessions and transfers are shut down; exits with status 0)

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use multithread::ftp::{self, Config};

/// An FTP file server (RFC 959 subset, EPSV/EPRT).
#[derive(Parser)]
struct Args {
    /// The directory to serve; nothing outside it can be read or written.
    #[arg(long, default_value = ".")]
    root: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:2121")]
    addr: SocketAddr,
    /// A file of `name:password` lines; without it, only anonymous logins.
    #[arg(long)]
    users: Option<PathBuf>,
}

fn main() -> Result<(), netkit::Failure> {
    let args = Args::parse();
    let config = match &args.users {
        Some(users) => Config::with_users(&args.root, users),
        None => Config::anonymous(&args.root),
    }
    .map_err(|e| {
        std::io::Error::new(
            e.kind(),
            format!("cannot serve {}: {e}", args.root.display()),
        )
    })?;
    eprintln!("serving {}", config.root.dir().display());
    Ok(netkit::serve(args.addr, |listener, stop| {
        ftp::run(listener, stop, &config)
    })?)
}
