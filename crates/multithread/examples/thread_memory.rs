//! What an idle thread and an idle process cost in resident memory: N of each, measured from
//! /proc (VmRSS of this process for threads; Rss and Pss of each child for processes).
//!
//! Run:    cargo run -p multithread --release --example thread_memory -- --count 1000
//! Output: 1000 idle threads: RSS 2.1 MiB -> 12.6 MiB, 10.8 KiB per thread
//!         1000 idle processes: 1850 KiB RSS each (shared pages counted in full), 290 KiB PSS each

use clap::Parser;
use labkit::Failure;
use multithread::memory;

/// Idle threads vs idle processes, in resident memory.
#[derive(Parser)]
struct Args {
    /// How many threads, and how many processes.
    #[arg(long, default_value_t = 1000)]
    count: usize,
    /// (internal) be an idle child: print `ready`, wait for stdin to close.
    #[arg(long, hide = true)]
    idle: bool,
}

fn main() -> Result<(), Failure> {
    let args = Args::parse();
    if args.idle {
        return Ok(memory::be_idle()?);
    }
    let (before, during) = memory::idle_threads(args.count)?;
    println!(
        "{} idle threads: RSS {:.1} MiB -> {:.1} MiB, {:.1} KiB per thread",
        args.count,
        before as f64 / 1024.0,
        during as f64 / 1024.0,
        during.saturating_sub(before) as f64 / args.count.max(1) as f64
    );
    let program = std::env::current_exe()?;
    let (rss, pss) = memory::idle_processes(&program, args.count)?;
    println!(
        "{} idle processes: {rss} KiB RSS each (shared pages counted in full), {pss} KiB PSS each",
        args.count
    );
    Ok(())
}
