//! A shared counter that loses updates, then the two fixes.
//!
//! Run:    cargo run -p sync-primitives --example lost_updates
//!         cargo run -p sync-primitives --release --example lost_updates -- --threads 4 --increments 10000000
//! Output: forced interleaving: 2 increments, counter = 1 (1 lost)
//!         load then store: counter = 1187412 of 2000000 (812588 lost)   <- differs every run
//!         Mutex: counter = 2000000 of 2000000 (0 lost)
//!         fetch_add: counter = 2000000 of 2000000 (0 lost)

use clap::Parser;
use labkit::Failure;
use sync_primitives::race;

/// Lose increments on purpose, then count exactly with a Mutex and with fetch_add.
#[derive(Parser)]
struct Args {
    /// Threads incrementing the counter together.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Increments per thread.
    #[arg(long, default_value_t = 1_000_000)]
    increments: u64,
}

fn main() -> Result<(), Failure> {
    let args = Args::parse();
    let forced = race::forced_lost_update();
    println!(
        "forced interleaving: 2 increments, counter = {forced} ({} lost)",
        2 - forced
    );
    for (name, run) in [
        (
            "load then store",
            race::split_increments as fn(usize, u64) -> race::Tally,
        ),
        ("Mutex", race::mutex_increments),
        ("fetch_add", race::atomic_increments),
    ] {
        let tally = run(args.threads, args.increments);
        println!(
            "{name}: counter = {} of {} ({} lost)",
            tally.actual,
            tally.expected,
            tally.lost()
        );
    }
    Ok(())
}
