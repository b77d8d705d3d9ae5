//! What starting a process costs against the parent's resident memory: fork grows with it,
//! posix_spawn and threads do not. `cargo bench -p multiprocess --bench spawn`.
//!
//! The `spawn_cost` bench prints the same comparison as one table (medians from one run), with
//! every method; this bench gives criterion's confidence intervals for each cell.

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use multiprocess::spawn_cost::{self, Ballast, Method};

fn spawn_cost_by_rss(c: &mut Criterion) {
    let mut group = c.benchmark_group("start_and_wait");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_millis(500));
    for mib in [10, 100, 1024] {
        let ballast = Ballast::of_mib(mib);
        for method in [Method::ForkExit, Method::PosixSpawn, Method::Thread] {
            group.bench_with_input(
                BenchmarkId::new(method.to_string(), format!("{mib} MiB")),
                &method,
                |b, &method| {
                    b.iter(|| spawn_cost::measure(method, 1).expect("start and wait"));
                },
            );
        }
        drop(ballast);
    }
    group.finish();
}

criterion_group!(benches, spawn_cost_by_rss);
criterion_main!(benches);
