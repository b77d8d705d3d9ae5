//! Several producer processes put typed items on one `Queue`; the parent gets them all,
//! checks that each producer's items arrive complete and in order, then reaps the producers.
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
use labkit::Failure;
use multiprocess::spawn;
use serde::{Deserialize, Serialize};

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

/// What goes through the queue.
#[derive(Debug, Serialize, Deserialize)]
struct Item {
    producer: u32,
    seq: u32,
    /// Every byte is `seq as u8`, so a frame mixed with another's would show.
    payload: Vec<u8>,
}

fn main() -> Result<(), Failure> {
    let args = Args::parse();
    // Only the parent gets: the children hold the write end alone, so the parent's death is
    // EPIPE in every producer rather than a wait that never ends.
    let mut queue = Queue::<Item>::read_by_parent()?;
    println!(
        "{} producers × {} items (payloads up to 20000 bytes: bigger than PIPE_BUF)",
        args.producers, args.items
    );
    let mut children = Vec::new();
    for producer in 0..args.producers {
        let queue = &queue;
        children.push(spawn::fork_run(move || {
            for seq in 0..args.items {
                let len = (seq as usize * 7919) % 20_000;
                let item = Item {
                    producer,
                    seq,
                    payload: vec![seq as u8; len],
                };
                if queue.put(&item).is_err() {
                    return 1;
                }
            }
            0
        })?);
    }
    queue.close(); // the parent puts nothing: only the producers' ends keep the queue open
    if args.pause {
        println!(
            "parent {} waits for Enter; the producers are blocking on the full pipe",
            std::process::id()
        );
        std::io::stdout().flush()?;
        std::io::stdin().read_line(&mut String::new())?;
    }
    let mut next = vec![0u32; args.producers as usize];
    let mut broken = 0;
    let mut total = 0;
    while let Some(item) = queue.get()? {
        total += 1;
        let expected = &mut next[item.producer as usize];
        if item.seq != *expected || item.payload.iter().any(|&b| b != item.seq as u8) {
            broken += 1;
        }
        *expected = item.seq + 1;
    }
    let summary: Vec<String> = next
        .iter()
        .enumerate()
        .map(|(p, &n)| format!("producer {p}: {n} in order"))
        .collect();
    println!("got {total} items: {}", summary.join(", "));
    let mut all_ok = broken == 0;
    for child in children {
        all_ok &= spawn::wait_for(child)?.success();
    }
    println!(
        "the queue ended (every producer closed or exited); {}",
        if all_ok {
            "all producers exited with status 0"
        } else {
            "SOMETHING WENT WRONG"
        }
    );
    if !all_ok {
        return Err(Failure::new("a producer did not exit with status 0"));
    }
    Ok(())
}
