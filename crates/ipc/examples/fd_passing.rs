//! A child opens a file, deletes it, and sends the open descriptor to its parent over a Unix
//! socket (SCM_RIGHTS); the parent reads the file that no longer has a name.
//!
//! Run:    cargo run -p ipc --example fd_passing
//! Output: child 4243 opened /tmp/labs-passed-4242-0-123, wrote 31 bytes, unlinked it, sent the descriptor
//!         parent: /tmp/labs-passed-4242-0-123 exists: false
//!         parent read through the received descriptor: "a file with no name, still open"
//!         SO_PEERCRED: the sender is pid 4243 (uid 0, gid 0)
//! Try `--text 'anything'`. With `--max-open 5` the child runs out of descriptors before it can
//! open the file, and the parent says so: `Error: the child could not send the descriptor: Too
//! many open files (os error 24)`, status 1.

use clap::Parser;
use ipc::unix_socket;
use labkit::Failure;

/// Passes an open file descriptor from a child to its parent.
#[derive(Parser)]
struct Args {
    /// What the child writes into the file.
    #[arg(long, default_value = "a file with no name, still open")]
    text: String,
    /// Lower the open-file limit (RLIMIT_NOFILE) to this first; the child inherits it.
    #[arg(long)]
    max_open: Option<u64>,
}

fn main() -> Result<(), Failure> {
    let args = Args::parse();
    if let Some(limit) = args.max_open {
        use nix::sys::resource::{Resource, setrlimit};
        setrlimit(Resource::RLIMIT_NOFILE, limit, limit).map_err(std::io::Error::from)?;
    }
    let passed = unix_socket::pass_unlinked_file(&args.text)?;
    println!(
        "child {} opened {}, wrote {} bytes, unlinked it, sent the descriptor",
        passed.child,
        passed.path.display(),
        args.text.len()
    );
    println!(
        "parent: {} exists: {}",
        passed.path.display(),
        passed.path_exists
    );
    println!(
        "parent read through the received descriptor: {:?}",
        passed.content
    );
    println!(
        "SO_PEERCRED: the sender is pid {} (uid {}, gid {})",
        passed.peer.pid, passed.peer.uid, passed.peer.gid
    );
    Ok(())
}
