//! Standard signals coalesce, real-time signals queue: counted, with nothing left to timing.
//!
//! Run:    cargo run -p ipc --example signal_queue
//! Output: sent 10 × SIGUSR1 (kill) and 10 × SIGRTMIN (sigqueue, values 0..10) while blocked
//!         handlers: SIGUSR1 delivered 1 time, SIGRTMIN 10 times
//!         signalfd: SIGUSR1 read 1 time, SIGRTMIN 10 times, values [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]

use clap::Parser;
use ipc::signals::{self, Via};
use labkit::Failure;

/// Sends N standard and N real-time signals to a child that blocks them, then counts.
#[derive(Parser)]
struct Args {
    /// Signals of each kind.
    #[arg(long, default_value_t = 10)]
    count: usize,
}

fn main() -> Result<(), Failure> {
    let args = Args::parse();
    let n = args.count;
    println!(
        "sent {n} × SIGUSR1 (kill) and {n} × SIGRTMIN (sigqueue, values 0..{n}) while blocked"
    );
    let by_handler = signals::send_while_blocked(n, Via::Handler)?;
    println!(
        "handlers: SIGUSR1 delivered {} time{}, SIGRTMIN {} times",
        by_handler.standard,
        if by_handler.standard == 1 { "" } else { "s" },
        by_handler.realtime
    );
    let by_fd = signals::send_while_blocked(n, Via::Signalfd)?;
    println!(
        "signalfd: SIGUSR1 read {} time{}, SIGRTMIN {} times, values {:?}",
        by_fd.standard,
        if by_fd.standard == 1 { "" } else { "s" },
        by_fd.realtime,
        by_fd.values
    );
    Ok(())
}
