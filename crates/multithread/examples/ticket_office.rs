//! The course's ticket office: tickets T1–T500 sold strictly in order by windows w1–w10
//! (threads), each sale taking --sale-ms (0.1 s by default, as in the course).
//!
//! Run:    cargo run -p multithread --example ticket_office
//! Try:    -- --sale-ms 0 --jitter-ms 2 --seed 7   (fast, with a seeded random delay per sale)
//! Output: w1 ---- T1
//!         w4 ---- T2
//!         ...
//!         w7 ---- T500
//!         sold 500 tickets from 10 windows

use std::time::Duration;

use clap::Parser;
use labkit::Failure;
use multithread::ticket_office::{self, Plan};

/// Sell numbered tickets in order from several windows.
#[derive(Parser)]
struct Args {
    /// Tickets T1..=TN.
    #[arg(long, default_value_t = 500)]
    tickets: u32,
    /// Windows (threads).
    #[arg(long, default_value_t = 10)]
    windows: usize,
    /// Milliseconds each sale takes.
    #[arg(long, default_value_t = 100)]
    sale_ms: u64,
    /// Up to this many more milliseconds per sale, at random.
    #[arg(long, default_value_t = 0.0)]
    jitter_ms: f64,
    /// Seed of the random delays.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

fn main() -> Result<(), Failure> {
    let args = Args::parse();
    let plan = Plan {
        tickets: args.tickets,
        windows: args.windows,
        sale: Duration::from_millis(args.sale_ms),
        jitter: Duration::from_secs_f64(args.jitter_ms.max(0.0) / 1000.0),
        seed: args.seed,
    };
    let sales = ticket_office::run(&plan, &|sale| println!("{}", ticket_office::line(sale)));
    let mut windows: Vec<usize> = sales.iter().map(|s| s.window).collect();
    windows.sort_unstable();
    windows.dedup();
    println!(
        "sold {} tickets from {} windows",
        sales.len(),
        windows.len()
    );
    Ok(())
}
