//! The dining philosophers: the naive table deadlocks (detected), two fixed tables dine.
//!
//! Run:    cargo run -p sync-primitives --example philosophers --features deadlock-detection
//! Output: naive: deadlock detected, a cycle of 5: philosopher 0, philosopher 1, philosopher 2, philosopher 3, philosopher 4
//!         ordered forks: 5 philosophers ate [1000, 1000, 1000, 1000, 1000] meals
//!         a waiter with 4 seats: 5 philosophers ate [1000, 1000, 1000, 1000, 1000] meals

use std::time::Duration;

use clap::Parser;
use labkit::Failure;
use sync_primitives::deadlock::find_deadlock;
use sync_primitives::philosophers::{dine_naive, dine_ordered, dine_with_waiter};

/// The naive, the ordered and the waited-on table.
#[derive(Parser)]
struct Args {
    /// Philosophers (and forks).
    #[arg(long, default_value_t = 5)]
    n: usize,
    /// Meals each philosopher eats at the fixed tables.
    #[arg(long, default_value_t = 1000)]
    meals: usize,
}

fn main() -> Result<(), Failure> {
    let args = Args::parse();
    let philosophers = dine_naive(args.n);
    let cycle = find_deadlock(&philosophers, Duration::from_secs(10)).map_err(Failure::new)?;
    let names: Vec<&str> = philosophers.iter().map(|p| p.name.as_str()).collect();
    println!(
        "naive: deadlock detected, a cycle of {}: {}",
        cycle.len(),
        names.join(", ")
    );
    println!(
        "ordered forks: {} philosophers ate {:?} meals",
        args.n,
        dine_ordered(args.n, args.meals)
    );
    println!(
        "a waiter with {} seats: {} philosophers ate {:?} meals",
        args.n - 1,
        args.n,
        dine_with_waiter(args.n, args.meals)
    );
    Ok(())
}
