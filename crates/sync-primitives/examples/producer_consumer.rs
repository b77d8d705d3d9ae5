//! Producers and consumers through the chapter's BoundedQueue, then through std's sync_channel
//! (`sync_primitives::producer_consumer`).
//!
//! Run:    cargo run -p sync-primitives --release --example producer_consumer
//!         cargo run -p sync-primitives --example producer_consumer -- --producers 3 --consumers 1 --capacity 4
//! Output: BoundedQueue: 200000 items from 2 producers to 2 consumers, each exactly once, in 41 ms
//!         sync_channel: 200000 items from 2 producers to 2 consumers, each exactly once, in 35 ms

use clap::Parser;
use labkit::Failure;
use sync_primitives::producer_consumer::{
    Delivery, Load, through_bounded_queue, through_sync_channel,
};

/// Moves numbered items from producers to consumers and checks every one arrived once.
#[derive(Parser)]
struct Args {
    /// Producer threads.
    #[arg(long, default_value_t = 2)]
    producers: usize,
    /// Consumer threads.
    #[arg(long, default_value_t = 2)]
    consumers: usize,
    /// Items in total.
    #[arg(long, default_value_t = 200_000)]
    items: usize,
    /// Queue capacity.
    #[arg(long, default_value_t = 16)]
    capacity: usize,
}

fn main() -> Result<(), Failure> {
    let args = Args::parse();
    if args.capacity == 0 || args.producers == 0 || args.consumers == 0 {
        return Err(Failure::new(
            "--capacity, --producers and --consumers must each be at least 1",
        ));
    }
    let load = Load {
        producers: args.producers,
        consumers: args.consumers,
        items: args.items,
        capacity: args.capacity,
    };
    report("BoundedQueue", &load, &through_bounded_queue(&load));
    report("sync_channel", &load, &through_sync_channel(&load));
    Ok(())
}

fn report(name: &str, load: &Load, delivery: &Delivery) {
    println!(
        "{name}: {} items from {} producers to {} consumers, {}, in {} ms",
        delivery.received.len(),
        load.producers,
        load.consumers,
        if delivery.exactly_once(load) {
            "each exactly once"
        } else {
            "LOST OR DUPLICATED"
        },
        delivery.took.as_millis()
    );
}
