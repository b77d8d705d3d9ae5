//! Writes lines from stdin (or `--line`s) into a FIFO that a reader has open.
//!
//! Run:    cargo run -p ipc --example fifo_writer -- /tmp/labs-fifo-…   (the path fifo_reader printed)
//! Output: connected to /tmp/labs-fifo-…; type lines, Ctrl-D to end
//!         sent 2 lines
//! With no reader: `error: no reader has /tmp/x open (ENXIO): start the reader first`, status 1.
//! Given anything but a FIFO (`fifo_writer notes.txt`, `/dev/null`) it writes nothing:
//! `error: notes.txt is a regular file, not a FIFO: refusing to use it (…)`, status 1.
//! Start the reader first: cargo run -p ipc --example fifo_reader

use std::io::{BufRead, Write};
use std::path::PathBuf;

use clap::Parser;
use ipc::fifo;
use labkit::Failure;

/// Sends lines to a FIFO.
#[derive(Parser)]
struct Args {
    /// The FIFO (fifo_reader prints it).
    path: PathBuf,
    /// Send these lines instead of reading stdin.
    #[arg(long)]
    line: Vec<String>,
}

fn main() -> Result<(), Failure> {
    let args = Args::parse();
    Ok(run(&args)?)
}

fn run(args: &Args) -> std::io::Result<()> {
    let mut out = fifo::open_writer(&args.path)?;
    let mut sent = 0;
    if args.line.is_empty() {
        eprintln!(
            "connected to {}; type lines, Ctrl-D to end",
            args.path.display()
        );
        for line in std::io::stdin().lock().lines() {
            // One write per line: a line of up to PIPE_BUF bytes never mixes with another
            // writer's.
            out.write_all(format!("{}\n", line?).as_bytes())?;
            sent += 1;
        }
    } else {
        for line in &args.line {
            out.write_all(format!("{line}\n").as_bytes())?;
            sent += 1;
        }
    }
    println!("sent {sent} lines");
    Ok(())
}
