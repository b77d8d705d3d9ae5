//! Threads in std, one demonstration each: spawn and join (with a panic contained), a named
//! thread with its own stack size, thread-local counters, and a park/unpark handshake.
//!
//! Run:    cargo run -p multithread --example thread_basics
//! Output: spawn/join: [0, 1, 4, 9] and thread 2: panicked: thread 2 gave up
//!         builder: ran on "worker-7" with a 64 KiB stack, recursion depth 100 -> 5050
//!         thread_local: 4 threads each counted to 1000; main's own counter is still 0
//!         park/unpark: woke after the flag was set (1 return(s) from park)

use clap::Parser;
use labkit::Failure;
use multithread::basics;

/// Threads in std: spawn, join, Builder, thread_local!, park/unpark.
#[derive(Parser)]
struct Args {
    /// How many threads to spawn and join.
    #[arg(long, default_value_t = 4)]
    threads: usize,
}

fn depth_sum(n: u64) -> u64 {
    if n == 0 { 0 } else { n + depth_sum(n - 1) }
}

fn main() -> Result<(), Failure> {
    let args = Args::parse();
    let panicking = args.threads.checked_sub(2);
    if let Some(i) = panicking {
        eprintln!("(thread {i} panics on purpose: the panic message below is expected)");
    }
    let results = basics::spawn_and_join(args.threads, panicking);
    let values: Vec<usize> = results
        .iter()
        .filter_map(|r| r.as_ref().ok().copied())
        .collect();
    let failed: Vec<String> = results
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            r.as_ref()
                .err()
                .map(|m| format!("thread {i}: panicked: {m}"))
        })
        .collect();
    println!("spawn/join: {values:?} and {}", failed.join(", "));
    let (name, sum) = basics::named_thread("worker-7", 64 * 1024, || depth_sum(100))?;
    println!("builder: ran on {name:?} with a 64 KiB stack, recursion depth 100 -> {sum}");
    let (counts, main_count) = basics::thread_local_counts(4, 1000);
    let all = counts.iter().all(|&c| c == 1000);
    println!(
        "thread_local: {} threads each counted to {}; main's own counter is still {main_count}",
        counts.len(),
        if all {
            "1000".to_string()
        } else {
            format!("{counts:?}")
        }
    );
    let wakeups = basics::park_handshake();
    println!("park/unpark: woke after the flag was set ({wakeups} return(s) from park)");
    Ok(())
}
