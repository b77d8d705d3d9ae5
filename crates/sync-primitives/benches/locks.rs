//! Lock/unlock cost of the chapter's four mutexes, uncontended and contended (2 and 4 threads on
//! this 2-core machine), and std's vs parking_lot's RwLock under read-heavy and write-heavy mixes.
//!
//! `cargo bench -p sync-primitives --bench locks`. Contended numbers are the total time divided
//! by the total operations of all threads (throughput, in ns per lock/unlock pair); the last
//! group holds the lock for about 3 µs of busy work each time, so holders get preempted while
//! holding it.
//!
//! Built with the crate feature `deadlock-detection`, every parking_lot lock would carry the
//! detector's bookkeeping; `cargo bench -p sync-primitives` builds without it, and this bench
//! refuses to run if it is on.

use std::hint::black_box;
use std::sync::Barrier;
use std::thread;
use std::time::{Duration, Instant};

use criterion::{
    BenchmarkGroup, Criterion, criterion_group, criterion_main, measurement::WallTime,
};
use sync_primitives::futex_mutex;
use sync_primitives::locks::{CounterLock, busy_work, hammer_with_work};
use sync_primitives::rwlock::ReadWriteLock;
use sync_primitives::spinlock::SpinLock;

/// Steps of busy work (`locks::busy_work`, about 1.5 ns each here) in the long critical sections.
const WORK: u32 = 2_000;

fn uncontended<L: CounterLock>(group: &mut BenchmarkGroup<'_, WallTime>) {
    let lock = L::new(0);
    group.bench_function(L::NAME, |b| b.iter(|| lock.increment()));
}

fn contended<L: CounterLock>(group: &mut BenchmarkGroup<'_, WallTime>, threads: usize, work: u32) {
    group.bench_function(L::NAME, |b| {
        b.iter_custom(|iters| {
            let lock = L::new(0);
            let per_thread = iters.div_ceil(threads as u64);
            let start = Instant::now();
            black_box(hammer_with_work(&lock, threads, per_thread, work));
            start.elapsed()
        })
    });
}

fn locks(c: &mut Criterion) {
    refuse_deadlock_detection();
    let mut group = c.benchmark_group("lock_unlock/uncontended");
    uncontended::<std::sync::Mutex<u64>>(&mut group);
    uncontended::<parking_lot::Mutex<u64>>(&mut group);
    uncontended::<futex_mutex::Mutex<u64>>(&mut group);
    uncontended::<SpinLock<u64>>(&mut group);
    group.finish();
    // Empty critical sections on 2 and 4 threads; then 4 threads holding the lock for about
    // 3 µs of work each time, where a holder is often preempted while holding it.
    for (threads, work) in [(2, 0), (4, 0), (4, WORK)] {
        let name = match work {
            0 => format!("lock_unlock/contended_{threads}_threads"),
            _ => format!("lock_unlock/contended_{threads}_threads_{work}_steps_inside"),
        };
        let mut group = c.benchmark_group(name);
        contended::<std::sync::Mutex<u64>>(&mut group, threads, work);
        contended::<parking_lot::Mutex<u64>>(&mut group, threads, work);
        contended::<futex_mutex::Mutex<u64>>(&mut group, threads, work);
        contended::<SpinLock<u64>>(&mut group, threads, work);
        group.finish();
    }
}

/// 4 threads; every `write_every`-th operation writes, the others read; each holds the lock for
/// `work` steps of busy work. Per operation.
fn rwlock_mix<L: ReadWriteLock>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    write_every: u64,
    work: u32,
) {
    const THREADS: usize = 4;
    group.bench_function(L::NAME, |b| {
        b.iter_custom(|iters| {
            let lock = L::default();
            let per_thread = iters.div_ceil(THREADS as u64);
            let start_line = Barrier::new(THREADS);
            let start = Instant::now();
            thread::scope(|s| {
                for _ in 0..THREADS {
                    s.spawn(|| {
                        start_line.wait();
                        for i in 0..per_thread {
                            if i % write_every == 0 {
                                lock.write_with(|| busy_work(work));
                            } else {
                                lock.read_with(|| busy_work(work));
                            }
                        }
                    });
                }
            });
            start.elapsed()
        })
    });
}

fn rwlocks(c: &mut Criterion) {
    let mixes = [
        ("read_heavy_1_in_100_writes", 100, 0),
        ("write_heavy_1_in_2_writes", 2, 0),
        ("read_heavy_1_in_100_writes_500_steps_inside", 100, 500),
        ("write_heavy_1_in_2_writes_500_steps_inside", 2, 500),
    ];
    for (name, write_every, work) in mixes {
        let mut group = c.benchmark_group(format!("rwlock/{name}"));
        rwlock_mix::<std::sync::Mutex<()>>(&mut group, write_every, work);
        rwlock_mix::<std::sync::RwLock<()>>(&mut group, write_every, work);
        rwlock_mix::<parking_lot::RwLock<()>>(&mut group, write_every, work);
        group.finish();
    }
}

fn refuse_deadlock_detection() {
    if cfg!(feature = "deadlock-detection") {
        eprintln!(
            "this build has parking_lot's deadlock detection on, which slows every parking_lot \
             lock; run `cargo bench -p sync-primitives` (without --workspace or --features)"
        );
        std::process::exit(2);
    }
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20)
}

criterion_group! { name = benches; config = config(); targets = locks, rwlocks }
criterion_main!(benches);
