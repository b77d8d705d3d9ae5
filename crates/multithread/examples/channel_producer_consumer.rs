//! Producers and consumers over a bounded channel: every item consumed exactly once, each
//! producer's items in order, producers held back when the queue is full.
//!
//! Run:    cargo run -p multithread --example channel_producer_consumer -- --producers 3 --consumers 2 --items 10000 --capacity 4
//! Output: 30000 items from 3 producers consumed by 2 consumers: [15211, 14789]
//!         every item exactly once, in each producer's order; producers waited 9721 times for room

use std::collections::HashMap;

use clap::Parser;
use labkit::Failure;
use multithread::producer_consumer;

/// Producers and consumers over a bounded queue.
#[derive(Parser)]
struct Args {
    #[arg(long, default_value_t = 3)]
    producers: usize,
    #[arg(long, default_value_t = 2)]
    consumers: usize,
    /// Items per producer.
    #[arg(long, default_value_t = 10_000)]
    items: u64,
    /// Queue slots.
    #[arg(long, default_value_t = 4)]
    capacity: usize,
}

fn main() -> Result<(), Failure> {
    let args = Args::parse();
    let report = producer_consumer::run(args.producers, args.consumers, args.items, args.capacity);
    let mut per_consumer = vec![0u64; args.consumers.max(1)];
    let mut last_seq: HashMap<(usize, usize), u64> = HashMap::new();
    let mut in_order = true;
    for (consumer, item) in &report.consumed {
        per_consumer[*consumer] += 1;
        if let Some(previous) = last_seq.insert((*consumer, item.producer), item.seq) {
            in_order &= previous < item.seq;
        }
    }
    let mut items: Vec<_> = report.consumed.iter().map(|(_, item)| *item).collect();
    items.sort_unstable();
    let total = items.len();
    items.dedup();
    let exactly_once = items.len() == total && total as u64 == args.producers as u64 * args.items;
    println!(
        "{total} items from {} producers consumed by {} consumers: {per_consumer:?}",
        args.producers,
        per_consumer.len()
    );
    if exactly_once && in_order {
        println!(
            "every item exactly once, in each producer's order; producers waited {} times for room",
            report.waits
        );
        Ok(())
    } else {
        Err(Failure::new("items were lost, duplicated or reordered"))
    }
}
