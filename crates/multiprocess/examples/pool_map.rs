//! Squares or counts primes over a range with a pool of worker processes, and shows which
//! worker computed what.
//!
//! Run:    cargo run -p multiprocess --example pool_map -- --primes --to 200000 --workers 4
//! Output: 4 workers: [4301, 4302, 4303, 4304]
//!         primes below 200000: 17984 (in 8 chunks)
//!           chunk 0..25000 -> 2762 primes, by worker 4301
//!           ...
//! Try:    --to 10 (squares: prints each square and the pid of the worker that computed it)

use clap::Parser;
use labkit::Failure;
use multiprocess::pool::Pool;

/// Maps a function over a range with a process pool.
#[derive(Parser)]
struct Args {
    /// Worker processes.
    #[arg(long, default_value_t = 4, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1024))]
    workers: usize,
    /// The end of the range (exclusive).
    #[arg(long, default_value_t = 10)]
    to: u64,
    /// Count primes in chunks of the range (default: square each number).
    #[arg(long)]
    primes: bool,
}

fn main() -> Result<(), Failure> {
    let args = Args::parse();
    if args.primes {
        let chunks = 8u64;
        let size = args.to.div_ceil(chunks).max(1);
        let ranges: Vec<(u64, u64)> = (0..chunks)
            .map(|i| (i * size, ((i + 1) * size).min(args.to)))
            .filter(|(start, end)| start < end)
            .collect();
        let mut pool = Pool::new(args.workers, |(start, end): (u64, u64)| {
            (
                (start..end).filter(|&n| is_prime(n)).count() as u64,
                std::process::id(),
            )
        })?;
        println!("{} workers: {:?}", args.workers, pids(&pool));
        let results = pool.map(ranges.clone())?;
        let mut total = 0;
        let mut lines = Vec::new();
        for ((start, end), result) in ranges.iter().zip(results) {
            let (count, pid) = result.map_err(std::io::Error::other)?;
            total += count;
            lines.push(format!(
                "  chunk {start}..{end} -> {count} primes, by worker {pid}"
            ));
        }
        println!(
            "primes below {}: {total} (in {} chunks)",
            args.to,
            ranges.len()
        );
        lines.iter().for_each(|line| println!("{line}"));
    } else {
        let mut pool = Pool::new(args.workers, |x: u64| (x * x, std::process::id()))?;
        println!("{} workers: {:?}", args.workers, pids(&pool));
        for (x, result) in (0..args.to).zip(pool.map(0..args.to)?) {
            let (square, pid) = result.map_err(std::io::Error::other)?;
            println!("{x}^2 = {square} (worker {pid})");
        }
    }
    Ok(())
}

fn pids<T, R>(pool: &Pool<T, R>) -> Vec<i32> {
    pool.pids().iter().map(|pid| pid.as_raw()).collect()
}

fn is_prime(n: u64) -> bool {
    n >= 2
        && (2..)
            .take_while(|d| d * d <= n)
            .all(|d| !n.is_multiple_of(d))
}
