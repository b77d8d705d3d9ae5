//! Makes a FIFO, prints what writers send through it, removes it on EOF or Ctrl-C.
//!
//! Run:    cargo run -p ipc --example fifo_reader
//! Output: fifo at /tmp/labs-fifo-4242-0-123456789
//!         (then, for each line a writer sends:) got: hello
//!         writers gone: removing /tmp/labs-fifo-4242-0-123456789
//! Then, in another terminal: cargo run -p ipc --example fifo_writer -- /tmp/labs-fifo-… and
//! type lines (Ctrl-D ends). Or `echo hi > /tmp/labs-fifo-…`. `--keep` waits for the next
//! writer instead of ending at EOF; Ctrl-C ends it either way, and the FIFO is removed. A reader
//! killed with `kill -9` cannot remove it: the next fifo_reader does (`removed /tmp/labs-fifo-…
//! (its reader was killed)` on stderr).

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use ipc::fifo::{self, Ended, Fifo};
use labkit::Failure;

/// Reads lines from a new FIFO until its writers are gone (or Ctrl-C).
#[derive(Parser)]
struct Args {
    /// Where to make the FIFO (default: a unique path in the temporary directory).
    #[arg(long)]
    path: Option<PathBuf>,
    /// After the writers close, wait for new ones instead of exiting.
    #[arg(long)]
    keep: bool,
}

fn main() -> Result<(), Failure> {
    let args = Args::parse();
    let stop = ipc::stop_on_ctrl_c()?;
    // A reader killed with SIGKILL could not remove its FIFO: this run does.
    for path in ipc::stale::remove_dead_fifos()? {
        eprintln!("removed {} (its reader was killed)", path.display());
    }
    let fifo = match args.path {
        Some(path) => Fifo::create_at(path)?,
        None => Fifo::create()?,
    };
    // Open the read end before announcing the path: a writer that comes at once must find a
    // reader, or its non-blocking open fails with ENXIO.
    let mut reader = fifo::open_reader(fifo.path())?;
    println!("fifo at {}", fifo.path().display());
    std::io::stdout().flush()?;
    let mut pending = Vec::new();
    loop {
        let ended = fifo::pump(&reader, &stop, Duration::from_millis(100), |bytes| {
            pending.extend_from_slice(bytes);
            while let Some(end) = pending.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = pending.drain(..=end).collect();
                println!("got: {}", String::from_utf8_lossy(&line[..end]));
            }
        })?;
        if ended == Ended::Stopped || !args.keep {
            let why = if ended == Ended::Stopped {
                "interrupted"
            } else {
                "writers gone"
            };
            println!("{why}: removing {}", fifo.path().display());
            return Ok(()); // `fifo` is dropped here: the path is unlinked
        }
        // A fresh read end for the next writers, opened before the old one closes: with no
        // reader at all for a moment, a writer arriving then would get ENXIO.
        reader = fifo::open_reader(fifo.path())?;
    }
}
