//! A counter in shared memory, incremented by several processes: lost updates without a lock,
//! none with a process-shared semaphore.
//!
//! Run:    cargo run -p ipc --example shm_counter
//! Output: forced interleaving: 2 increments left the counter at 1 (one update lost)
//!         unlocked: 2 processes × 1000000 increments = 1062345 (937655 lost)
//!         locked:   2 processes × 1000000 increments = 2000000 (0 lost)
//!         /dev/shm: nothing left behind
//! (the unlocked count varies from run to run; the locked one never does)

use clap::Parser;
use ipc::shm::{self, SharedCounter};
use labkit::Failure;

/// Shared-memory counter: broken, then fixed with a semaphore.
#[derive(Parser)]
struct Args {
    /// Processes incrementing at once.
    #[arg(long, default_value_t = 2)]
    processes: usize,
    /// Increments per process.
    #[arg(long, default_value_t = 1_000_000)]
    increments: u64,
}

fn main() -> Result<(), Failure> {
    let args = Args::parse();
    let forced = shm::forced_lost_update(&SharedCounter::new()?)?;
    println!("forced interleaving: 2 increments left the counter at {forced} (one update lost)");
    let expected = args.processes as u64 * args.increments;
    for (label, locked) in [("unlocked", false), ("locked  ", true)] {
        let counter = SharedCounter::new()?;
        let value = shm::run_increments(&counter, args.processes, args.increments, locked)?;
        println!(
            "{label}: {} processes × {} increments = {value} ({} lost)",
            args.processes,
            args.increments,
            expected - value
        );
    }
    let left = shm::leftover_names(std::process::id())?;
    if left.is_empty() {
        println!("/dev/shm: nothing left behind");
    } else {
        println!("/dev/shm: left behind: {left:?}");
    }
    Ok(())
}
