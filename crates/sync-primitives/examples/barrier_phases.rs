//! A parallel computation in phases: rule 90 on threads, a barrier between rounds.
//!
//! Run:    cargo run -p sync-primitives --example barrier_phases
//! Output: ...............................#................................
//!         ..............................#.#...............................
//!         (a Sierpinski triangle, one row per round)
//!         4 threads, 16 rounds: parallel == sequential: true
//!         every thread finished round k before any thread started round k + 1: true

use std::sync::Mutex;

use clap::Parser;
use labkit::Failure;
use sync_primitives::barrier::{render, rule90_parallel, rule90_sequential, single_cell};

/// Rule 90 on several threads with a barrier between rounds, checked against one thread.
#[derive(Parser)]
struct Args {
    /// Worker threads.
    #[arg(long, default_value_t = 4)]
    threads: usize,
    /// Cells in the row.
    #[arg(long, default_value_t = 64)]
    cells: usize,
    /// Rounds (phases).
    #[arg(long, default_value_t = 16)]
    rounds: usize,
}

fn main() -> Result<(), Failure> {
    let args = Args::parse();
    let start = single_cell(args.cells);
    for round in 0..args.rounds {
        println!("{}", render(&rule90_sequential(&start, round)));
    }
    let log = Mutex::new(Vec::new()); // (round, thread) in the order threads finished rounds
    let parallel = rule90_parallel(&start, args.rounds, args.threads, |thread, round| {
        log.lock().unwrap().push((round, thread));
    });
    let sequential = rule90_sequential(&start, args.rounds);
    println!(
        "{} threads, {} rounds: parallel == sequential: {}",
        args.threads,
        args.rounds,
        parallel == sequential
    );
    let log = log.into_inner().unwrap();
    let in_phases = log.windows(2).all(|pair| pair[0].0 <= pair[1].0);
    println!("every thread finished round k before any thread started round k + 1: {in_phases}");
    Ok(())
}
