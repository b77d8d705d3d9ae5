//! Sends messages to a POSIX message queue that mq_recv created.
//!
//! Run:    cargo run -p ipc --example mq_send -- /labs-mq-… hello world --priority 5
//! Output: sent 2 messages at priority 5 (queue now holds 2 of 10)
//! A message longer than the queue's msgsize gets
//! `error: a 9000-byte message is over the 8192-byte msgsize of /labs-mq-… (EMSGSIZE)`, status 1;
//! a name nobody created gets `error: mq_open /nope: ENOENT: No such file or directory`.
//! Start the receiver first: cargo run -p ipc --example mq_recv

use clap::Parser;
use ipc::mqueue::MessageQueue;
use labkit::Failure;

/// Sends messages to an existing POSIX message queue.
#[derive(Parser)]
struct Args {
    /// The queue's name (mq_recv prints it).
    name: String,
    /// The messages, one per argument.
    messages: Vec<String>,
    /// Their priority (higher is received first).
    #[arg(long, default_value_t = 0)]
    priority: u32,
    /// Also send one message of this many bytes (to see EMSGSIZE).
    #[arg(long)]
    bytes: Option<usize>,
    /// Fail with EAGAIN instead of waiting when the queue is full.
    #[arg(long)]
    nonblocking: bool,
}

fn main() -> Result<(), Failure> {
    let args = Args::parse();
    Ok(run(&args)?)
}

fn run(args: &Args) -> std::io::Result<()> {
    let queue = MessageQueue::open(&args.name)?;
    queue.set_nonblocking(args.nonblocking)?;
    let mut sent = 0;
    for message in &args.messages {
        queue.send(message.as_bytes(), args.priority)?;
        sent += 1;
    }
    if let Some(bytes) = args.bytes {
        queue.send(&vec![b'x'; bytes], args.priority)?;
        sent += 1;
    }
    let attr = queue.attr()?;
    let plural = if sent == 1 { "" } else { "s" };
    println!(
        "sent {sent} message{plural} at priority {} (queue now holds {} of {})",
        args.priority, attr.curmsgs, attr.maxmsg
    );
    Ok(())
}
