//! Moving items between threads: the chapter's BoundedQueue against std's `sync_channel` (the
//! same bounded idea, tuned) and std's unbounded `mpsc::channel` (crossbeam's lock-free list).
//!
//! `cargo bench -p sync-primitives --bench queues`. Time per item, with 1 producer and 1
//! consumer, then 2 and 2 (consumers of std's channels share the receiver behind a mutex, as
//! they must: it has one owner), capacity 64 for the bounded two.

use std::hint::black_box;
use std::sync::{Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use sync_primitives::bounded_queue::BoundedQueue;

const CAPACITY: usize = 64;

/// Sends `items` numbers from `producers` threads to `consumers` threads; returns the elapsed time.
fn bounded_queue(items: u64, producers: u64, consumers: usize) -> Duration {
    let queue = BoundedQueue::new(CAPACITY);
    let start = Instant::now();
    thread::scope(|s| {
        let putters: Vec<_> = (0..producers)
            .map(|_| s.spawn(|| (0..items / producers).for_each(|i| queue.put(i).unwrap())))
            .collect();
        for _ in 0..consumers {
            s.spawn(|| {
                while let Some(item) = queue.take() {
                    black_box(item);
                }
            });
        }
        putters.into_iter().for_each(|p| p.join().unwrap());
        queue.close();
    });
    start.elapsed()
}

/// The sending half of either std channel.
trait Sender: Clone + Send {
    fn put(&self, item: u64);
}

impl Sender for mpsc::Sender<u64> {
    fn put(&self, item: u64) {
        self.send(item).unwrap();
    }
}

impl Sender for mpsc::SyncSender<u64> {
    fn put(&self, item: u64) {
        self.send(item).unwrap();
    }
}

/// The same exchange through a std channel; consumers share the one receiver behind a mutex.
fn std_channel(
    (tx, rx): (impl Sender, mpsc::Receiver<u64>),
    items: u64,
    producers: u64,
    consumers: usize,
) -> Duration {
    let rx = Mutex::new(rx);
    let start = Instant::now();
    thread::scope(|s| {
        for _ in 0..producers {
            let tx = tx.clone();
            s.spawn(move || (0..items / producers).for_each(|i| tx.put(i)));
        }
        drop(tx); // the channel ends when the last producer's sender is dropped
        for _ in 0..consumers {
            s.spawn(|| {
                while let Ok(item) = rx.lock().unwrap().recv() {
                    black_box(item);
                }
            });
        }
    });
    start.elapsed()
}

fn bench_sizes(c: &mut Criterion) {
    for (producers, consumers) in [(1, 1), (2, 2)] {
        let mut group =
            c.benchmark_group(format!("queue/{producers}_producers_{consumers}_consumers"));
        group.bench_function("BoundedQueue (lesson)", |b| {
            b.iter_custom(|iters| bounded_queue(iters.max(producers), producers, consumers))
        });
        group.bench_function("mpsc::sync_channel", |b| {
            b.iter_custom(|iters| {
                let channel = mpsc::sync_channel(CAPACITY);
                std_channel(channel, iters.max(producers), producers, consumers)
            })
        });
        group.bench_function("mpsc::channel (unbounded)", |b| {
            b.iter_custom(|iters| {
                std_channel(mpsc::channel(), iters.max(producers), producers, consumers)
            })
        });
        group.finish();
    }
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20)
}

criterion_group! { name = benches; config = config(); targets = bench_sizes }
criterion_main!(benches);
