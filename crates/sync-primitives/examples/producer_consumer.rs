//! Producers and consumers through the chapter's BoundedQueue, then through std's sync_channel.
//!
//! Run:    cargo run -p sync-primitives --release --example producer_consumer
//!         cargo run -p sync-primitives --example producer_consumer -- --producers 3 --consumers 1 --capacity 4
//! Output: BoundedQueue: 200000 items from 2 producers to 2 consumers, each exactly once, in 41 ms
//!         sync_channel: 200000 items from 2 producers to 2 consumers, each exactly once, in 35 ms

use std::sync::Mutex;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use clap::Parser;
use labkit::Failure;
use sync_primitives::bounded_queue::BoundedQueue;

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
    let (received, took) = through_bounded_queue(&args);
    report("BoundedQueue", &args, received, took);
    let (received, took) = through_sync_channel(&args);
    report("sync_channel", &args, received, took);
    Ok(())
}

/// The item numbers each producer sends: producer p sends p, p + producers, p + 2·producers, …
fn items_of(producer: usize, args: &Args) -> impl Iterator<Item = usize> {
    (producer..args.items).step_by(args.producers)
}

fn through_bounded_queue(args: &Args) -> (Vec<usize>, Duration) {
    let queue = BoundedQueue::new(args.capacity);
    let received = Mutex::new(Vec::with_capacity(args.items));
    let start = Instant::now();
    thread::scope(|s| {
        let producers: Vec<_> = (0..args.producers)
            .map(|p| {
                let queue = &queue;
                s.spawn(move || items_of(p, args).for_each(|i| queue.put(i).expect("open")))
            })
            .collect();
        for _ in 0..args.consumers {
            s.spawn(|| {
                let mut mine = Vec::new();
                while let Some(item) = queue.take() {
                    mine.push(item);
                }
                received.lock().unwrap().extend(mine);
            });
        }
        producers.into_iter().for_each(|p| p.join().unwrap());
        queue.close(); // consumers drain the rest, then see None
    });
    (received.into_inner().unwrap(), start.elapsed())
}

fn through_sync_channel(args: &Args) -> (Vec<usize>, Duration) {
    let (tx, rx) = mpsc::sync_channel(args.capacity);
    let rx = Mutex::new(rx); // std's Receiver has one owner; consumers share it behind a lock
    let received = Mutex::new(Vec::with_capacity(args.items));
    let start = Instant::now();
    thread::scope(|s| {
        for p in 0..args.producers {
            let tx = tx.clone();
            s.spawn(move || items_of(p, args).for_each(|i| tx.send(i).expect("open")));
        }
        drop(tx); // the channel closes when the last producer's sender is dropped
        for _ in 0..args.consumers {
            s.spawn(|| {
                let mut mine = Vec::new();
                while let Ok(item) = rx.lock().unwrap().recv() {
                    mine.push(item);
                }
                received.lock().unwrap().extend(mine);
            });
        }
    });
    (received.into_inner().unwrap(), start.elapsed())
}

fn report(name: &str, args: &Args, mut received: Vec<usize>, took: Duration) {
    received.sort_unstable();
    let exactly_once = received.iter().copied().eq(0..args.items);
    println!(
        "{name}: {} items from {} producers to {} consumers, {}, in {} ms",
        received.len(),
        args.producers,
        args.consumers,
        if exactly_once {
            "each exactly once"
        } else {
            "LOST OR DUPLICATED"
        },
        took.as_millis()
    );
}
