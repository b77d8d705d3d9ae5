//! Sums 1..=N with scoped threads that borrow one vector (no Arc, no copy) and checks the
//! result against N(N+1)/2.
//!
//! Run:    cargo run -p multithread --release --example scoped_sum -- --n 10000000 --threads 4
//! Output: sum of 1..=10000000 with 4 threads: 50000005000000 (expected 50000005000000) in 4.1ms

use std::time::Instant;

use clap::Parser;
use labkit::Failure;

/// Sum a vector with scoped threads.
#[derive(Parser)]
struct Args {
    /// Sum the numbers 1 to N.
    #[arg(long, default_value_t = 1_000_000)]
    n: u64,
    /// Threads to split the work over (at least 1).
    #[arg(long, default_value_t = 4,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    threads: usize,
}

fn main() -> Result<(), Failure> {
    let args = Args::parse();
    let data: Vec<u64> = (1..=args.n).collect();
    let start = Instant::now();
    let sum = multithread::basics::scoped_sum(&data, args.threads);
    let took = start.elapsed();
    let expected = args.n * (args.n + 1) / 2;
    let threads = match args.threads {
        1 => "1 thread".to_string(),
        n => format!("{n} threads"),
    };
    println!(
        "sum of 1..={} with {threads}: {sum} (expected {expected}) in {took:.1?}",
        args.n
    );
    if sum != expected {
        return Err(Failure::new(format!("the sum is {sum}, not {expected}")));
    }
    Ok(())
}
