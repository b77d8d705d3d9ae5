//! Several producer processes put typed items on one `Queue`; the parent gets them all,
//! checks that each producer's items arrive complete and in order, then reaps the producers
//! (`ipc::queue::producers`).
//!
//! Run:    cargo run -p ipc --example process_queue
//! Output: 3 producers × 1000 items (payloads up to 20000 bytes: bigger than PIPE_BUF)
//!         got 3000 items: producer 0: 1000 in order, producer 1: 1000 in order, producer 2: 1000 in order
//!         the queue ended (every producer closed or exited); all producers exited with status 0
//! With `--pause` the parent waits for Enter before it gets anything, so the producers fill the
//! pipe and block. Kill the parent then (`kill -9 <pid>`, the pid is printed): the producers hold
//! only the queue's write end, so each gets EPIPE and exits — `pgrep -f process_queue` is empty.

use std::io::Write;

use clap::Parser;
use ipc::queue::Queue;
use ipc::queue::producers::{self, Item};
use labkit::Failure;

/// Payloads are up to this many bytes: far over PIPE_BUF (4096).
const MAX_PAYLOAD: usize = 20_000;

/// A multi-producer queue between processes.
#[derive(Parser)]
struct Args {
    /// Producer processes.
    #[arg(long, default_value_t = 3)]
    producers: u32,
    /// Items per producer.
    #[arg(long, default_value_t = 1000)]
    items: u32,
    /// Wait for Enter before getting anything (the producers block on the full pipe).
    #[arg(long)]
    pause: bool,
}

fn main() -> Result<(), Failure> {
    let args = Args::parse();
    // Only the parent gets: the children hold the write end alone, so the parent's death is
    // EPIPE in every producer rather than a wait that never ends.
    let mut queue = Queue::<Item>::read_by_parent()?;
    println!(
        "{} producers × {} items (payloads up to {MAX_PAYLOAD} bytes: bigger than PIPE_BUF)",
        args.producers, args.items
    );
    let children = producers::start(&queue, args.producers, args.items, MAX_PAYLOAD)?;
    queue.close(); // the parent puts nothing: only the producers' ends keep the queue open
    if args.pause {
        println!(
            "parent {} waits for Enter; the producers are blocking on the full pipe",
            std::process::id()
        );
        std::io::stdout().flush()?;
        std::io::stdin().read_line(&mut String::new())?;
    }
    let tally = producers::drain(&queue, args.producers, MAX_PAYLOAD)?;
    let summary: Vec<String> = tally
        .next
        .iter()
        .enumerate()
        .map(|(p, &n)| format!("producer {p}: {n} in order"))
        .collect();
    println!("got {} items: {}", tally.total, summary.join(", "));
    let all_ok = producers::reap(children)? && tally.broken == 0;
    println!(
        "the queue ended (every producer closed or exited); {}",
        if all_ok {
            "all producers exited with status 0"
        } else {
            "SOMETHING WENT WRONG"
        }
    );
    if !all_ok {
        return Err(Failure::new(format!(
            "{} items broken or out of order, or a producer did not exit with status 0",
            tally.broken
        )));
    }
    Ok(())
}
