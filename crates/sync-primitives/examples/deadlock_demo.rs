//! Two threads, two locks, opposite order: a deadlock made on purpose, detected by parking_lot,
//! then the two fixes.
//!
//! Run:    cargo run -p sync-primitives --example deadlock_demo --features deadlock-detection
//! Output: deadlock detected: a cycle of 2 threads
//!           transfer A→B (ThreadId(2)) blocked in sync_primitives::deadlock::transfer_naive_with
//!           transfer B→A (ThreadId(3)) blocked in sync_primitives::deadlock::transfer_naive_with
//!         lock ordering: 2 x 100000 opposite transfers done, total 200 (expected 200)
//!         try_lock + back-off: 2 x 100000 opposite transfers done, total 200 (expected 200), 1234 retries
//! The deadlocked threads stay blocked; the program exits anyway when main returns.

use std::thread;
use std::time::Duration;

use clap::Parser;
use labkit::Failure;
use sync_primitives::deadlock::{
    Account, find_deadlock, make_deadlock, transfer_backoff, transfer_ordered,
};

/// Deadlock, detection, and the fixes.
#[derive(Parser)]
struct Args {
    /// Transfers each way for each fix.
    #[arg(long, default_value_t = 100_000)]
    transfers: usize,
    /// How long to look for the deadlock before giving up, in seconds.
    #[arg(long, default_value_t = 10)]
    detect_secs: u64,
}

/// A fix's name and one transfer with it (returning the retries it needed).
type Fix = (&'static str, fn(&Account, &Account) -> u32);

fn main() -> Result<(), Failure> {
    let args = Args::parse();
    let parties = make_deadlock();
    let cycle =
        find_deadlock(&parties, Duration::from_secs(args.detect_secs)).map_err(Failure::new)?;
    println!("deadlock detected: a cycle of {} threads", cycle.len());
    for party in &parties {
        let thread = cycle
            .iter()
            .find(|t| t.id == party.id)
            .expect("in the cycle");
        let innermost = thread.blocked_in.first().map_or("?", String::as_str);
        println!("  {} ({:?}) blocked in {innermost}", party.name, party.id);
    }

    let fixes: [Fix; 2] = [
        ("lock ordering", |from, to| {
            transfer_ordered(from, to, 1);
            0
        }),
        ("try_lock + back-off", |from, to| {
            transfer_backoff(from, to, 1)
        }),
    ];
    for (name, transfer) in fixes {
        let (a, b) = (Account::new(1, 100), Account::new(2, 100));
        let retries: u32 = thread::scope(|s| {
            let there = s.spawn(|| (0..args.transfers).map(|_| transfer(&a, &b)).sum::<u32>());
            let back = s.spawn(|| (0..args.transfers).map(|_| transfer(&b, &a)).sum::<u32>());
            there.join().unwrap() + back.join().unwrap()
        });
        let total = a.balance() + b.balance();
        let retried = if name == "lock ordering" {
            String::new()
        } else {
            format!(", {retries} retries")
        };
        println!(
            "{name}: 2 x {} opposite transfers done, total {total} (expected 200){retried}",
            args.transfers
        );
    }
    Ok(())
}
