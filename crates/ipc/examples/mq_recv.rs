//! Creates a POSIX message queue and prints each message with its priority; removes the queue
//! on `quit`, after `--count` messages, or on Ctrl-C.
//!
//! Run:    cargo run -p ipc --example mq_recv
//! Output: queue /labs-mq-4242-0-123456789 (maxmsg 10, msgsize 8192; system msgsize_max 8192)
//!         (then, for each message:) priority 5: urgent
//!         quit: removing /labs-mq-4242-0-123456789
//! Then, in another terminal: cargo run -p ipc --example mq_send -- /labs-mq-… hello --priority 5
//! Send several with different priorities while `--pause` holds the receiver, and they arrive
//! highest priority first. A receiver killed with `kill -9` cannot remove its queue: the next
//! mq_recv does, where `/dev/mqueue` is mounted to list queues (`removed /labs-mq-… (its receiver
//! was killed)` on stderr).

use std::io::Write;
use std::sync::atomic::Ordering;
use std::time::Duration;

use clap::Parser;
use ipc::mqueue::{Limits, MessageQueue};
use labkit::Failure;

/// Receives messages from a new POSIX message queue.
#[derive(Parser)]
struct Args {
    /// Most messages the queue holds.
    #[arg(long, default_value_t = 10)]
    maxmsg: usize,
    /// Largest message, in bytes.
    #[arg(long, default_value_t = 8192)]
    msgsize: usize,
    /// Stop after this many messages.
    #[arg(long)]
    count: Option<usize>,
    /// Wait for Enter before receiving (so messages pile up and priorities show).
    #[arg(long)]
    pause: bool,
}

fn main() -> Result<(), Failure> {
    let args = Args::parse();
    let stop = ipc::stop_on_ctrl_c()?;
    // A receiver killed with SIGKILL could not remove its queue: this run does (if /dev/mqueue
    // is mounted to list them).
    for name in ipc::stale::remove_dead_queues()? {
        eprintln!("removed {name} (its receiver was killed)");
    }
    let queue = MessageQueue::create(args.maxmsg, args.msgsize)?;
    let attr = queue.attr()?;
    println!(
        "queue {} (maxmsg {}, msgsize {}; system msgsize_max {})",
        queue.name(),
        attr.maxmsg,
        attr.msgsize,
        Limits::of_system()?.msgsize_max
    );
    std::io::stdout().flush()?;
    if args.pause {
        println!("press Enter to start receiving");
        std::io::stdin().read_line(&mut String::new())?;
    }
    let mut received = 0;
    let why = loop {
        if stop.load(Ordering::SeqCst) {
            break "interrupted";
        }
        if args.count.is_some_and(|count| received >= count) {
            break "count reached";
        }
        // A timeout, so Ctrl-C is noticed: mq_receive is restarted after a handler runs.
        let Some((message, priority)) = queue.receive_timeout(Duration::from_millis(100))? else {
            continue;
        };
        received += 1;
        let text = String::from_utf8_lossy(&message);
        println!("priority {priority}: {text}");
        if text == "quit" {
            break "quit";
        }
    };
    println!("{why}: removing {}", queue.name());
    Ok(()) // `queue` is dropped here: mq_unlink
}
