//! An FTP server with a thread per control connection, confined to --root: list, download,
//! upload, directories; anonymous (read-only unless --allow-uploads), or the users of a --users
//! file (`name:password` lines). Without --root it serves an empty folder made for the run.
//!
//! Run:    cargo run -p multithread --example ftp_server -- --root /tmp/ftp-root --allow-uploads
//! Client: curl ftp://127.0.0.1:2121/            (a listing; `curl ftp://127.0.0.1:2121/file -o file`,
//!         `curl -T local ftp://127.0.0.1:2121/`), `lftp -p 2121 127.0.0.1`, or
//!         cargo run -p multithread --example ftp_client
//! Output: listening on 127.0.0.1:2121
//!         serving /tmp/ftp-root to anonymous logins, anonymous uploads allowed
//! Stop:   Ctrl-C (open sessions and transfers are shut down; exits with status 0)

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use labkit::Failure;
use multithread::ftp::{self, Config};

/// An FTP file server (RFC 959 subset, EPSV/EPRT).
#[derive(Parser)]
struct Args {
    /// The directory to serve; nothing outside it can be read or written. Without it, an empty
    /// folder made for this run (and removed at exit) is served.
    #[arg(long)]
    root: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:2121", value_parser = netkit::parse_addr)]
    addr: SocketAddr,
    /// A file of `name:password` lines; without it, only anonymous logins.
    #[arg(long)]
    users: Option<PathBuf>,
    /// Let anonymous sessions upload, delete and make or remove directories (read-only
    /// otherwise).
    #[arg(long)]
    allow_uploads: bool,
}

fn main() -> Result<(), Failure> {
    let args = Args::parse();
    // Never the current directory by default: in a repository that would be `.git` and all.
    let (root, empty) = match args.root {
        Some(root) => (root, None),
        None => {
            let empty = tempfile::Builder::new().prefix("ftp_server-").tempdir()?;
            (empty.path().to_path_buf(), Some(empty))
        }
    };
    let config = match &args.users {
        Some(users) => Config::with_users(&root, users),
        None => Config::anonymous(&root),
    }
    .map_err(|e| std::io::Error::new(e.kind(), format!("cannot serve {}: {e}", root.display())))?;
    let config = if args.allow_uploads {
        config.with_anonymous_uploads()
    } else {
        config
    };
    let note = match empty {
        Some(_) => " (an empty folder made for this run, removed at exit; --root DIR serves one)",
        None => "",
    };
    Ok(netkit::serve(args.addr, |listener, stop| {
        println!("{}{note}", config.describe());
        ftp::run(listener, stop, &config)
    })?)
}
