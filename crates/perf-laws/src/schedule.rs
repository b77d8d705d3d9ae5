//! Handing tasks to workers: static (decided before the run) or dynamic (manager/worker).
//!
//! A workload is a range of numbered tasks (`0..n`: numbers to test, image rows, array
//! elements). How they are split among `p` workers decides whether the workers finish together:
//!
//! | schedule | who does what | good when |
//! | --- | --- | --- |
//! | [`Schedule::Block`] | worker `i` takes the `i`-th contiguous `n/p` | tasks cost the same |
//! | [`Schedule::Cyclic`] | chunks dealt round-robin, `i`, `i+p`, `i+2p`, … | cost drifts smoothly along the range |
//! | [`Schedule::Dynamic`] | each idle worker claims the next chunk from a shared counter | cost is lumpy and unknown in advance |
//!
//! The run lasts as long as the *slowest* worker, so a static split of uneven work wastes the
//! others' time: in the imbalanced Mandelbrot image one block holds most of the set and its
//! worker is still busy long after the others are done. Dynamic scheduling is the course's
//! manager/worker pattern (管理者/执行者): the "manager" here is just an atomic counter, and a
//! worker that got cheap chunks simply comes back for more.
//!
//! The pitfall is the chunk size (agglomeration, 聚集): one task per claim balances best but
//! pays the claiming cost (an atomic add between threads; a pipe round trip between processes)
//! for every task; huge chunks are cheap to hand out and balance badly.

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;

use anyhow::Result;

/// How the tasks of a workload are split among workers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schedule {
    /// Worker `i` of `p` takes the `i`-th contiguous block.
    Block,
    /// Chunks of `chunk` tasks dealt round-robin.
    Cyclic { chunk: u64 },
    /// Chunks of `chunk` tasks claimed on demand by whichever worker is free.
    Dynamic { chunk: u64 },
}

/// The tasks worker `index` of `of` does under a static schedule (`Dynamic` has no fixed share,
/// and is treated as `Block`).
pub fn static_share(schedule: Schedule, tasks: Range<u64>, index: u64, of: u64) -> Vec<Range<u64>> {
    assert!(of > 0 && index < of, "worker {index} of {of}");
    let n = tasks.end.saturating_sub(tasks.start);
    match schedule {
        Schedule::Block | Schedule::Dynamic { .. } => {
            let at = |i: u64| tasks.start + (u128::from(n) * u128::from(i) / u128::from(of)) as u64;
            std::iter::once(at(index)..at(index + 1)).collect()
        }
        Schedule::Cyclic { chunk } => {
            let chunk = chunk.max(1);
            let mut share = Vec::new();
            let mut start = tasks.start + index * chunk;
            while start < tasks.end {
                share.push(start..(start + chunk).min(tasks.end));
                start += of * chunk;
            }
            share
        }
    }
}

/// Runs worker `i`'s static share on `p` threads at once and sums their results (wrapping, so
/// the sum does not depend on the order).
pub fn run_static(
    schedule: Schedule,
    tasks: Range<u64>,
    p: usize,
    work: impl Fn(Range<u64>) -> u64 + Sync,
) -> u64 {
    let work = &work;
    thread::scope(|scope| {
        let handles: Vec<_> = (0..p as u64)
            .map(|index| {
                let share = static_share(schedule, tasks.clone(), index, p as u64);
                scope.spawn(move || {
                    share
                        .into_iter()
                        .fold(0u64, |sum, r| sum.wrapping_add(work(r)))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().expect("a worker thread panicked"))
            .fold(0, u64::wrapping_add)
    })
}

/// Manager/worker: runs every worker in `workers` on a thread of its own; each claims the next
/// `chunk` of `tasks` from a shared counter until none are left. Returns the wrapping sum of
/// every chunk's result, or the first error a worker met.
///
/// A worker is a closure so that it may carry state: for threads it computes the chunk itself,
/// for processes it sends the chunk to its child process and reads back the answer.
pub fn run_dynamic<W>(tasks: Range<u64>, chunk: u64, workers: Vec<W>) -> Result<u64>
where
    W: FnMut(Range<u64>) -> Result<u64> + Send,
{
    // BEGIN SOLUTION: perf-dynamic-schedule
    let chunk = chunk.max(1);
    let next = AtomicU64::new(tasks.start);
    let next = &next;
    thread::scope(|scope| {
        let handles: Vec<_> = workers
            .into_iter()
            .map(|mut worker| {
                let end = tasks.end;
                scope.spawn(move || -> Result<u64> {
                    let mut sum = 0u64;
                    loop {
                        // Relaxed is enough: the counter only hands out distinct numbers; the
                        // results travel back through `join`, which synchronises.
                        let start = next.fetch_add(chunk, Ordering::Relaxed);
                        if start >= end {
                            return Ok(sum);
                        }
                        sum = sum.wrapping_add(worker(start..(start + chunk).min(end))?);
                    }
                })
            })
            .collect();
        let mut total = 0u64;
        for handle in handles {
            total = total.wrapping_add(handle.join().expect("a worker thread panicked")?);
        }
        Ok(total)
    })
    // END SOLUTION
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    /// Blocks until `count` callers are inside at once (proof they ran concurrently), or fails
    /// after the deadline.
    fn wait_until_all_inside(inside: &AtomicUsize, count: usize) {
        inside.fetch_add(1, Ordering::SeqCst);
        harness::Deadline::after(
            Duration::from_secs(10),
            format!("{count} workers inside at once"),
        )
        .poll(|| (inside.load(Ordering::SeqCst) >= count).then_some(()))
        .unwrap();
    }

    fn covered(shares: &[Vec<Range<u64>>]) -> Vec<u64> {
        let mut all: Vec<u64> = shares.iter().flatten().flat_map(|r| r.clone()).collect();
        all.sort();
        all
    }

    #[test]
    fn static_shares_cover_every_task_exactly_once() {
        for schedule in [Schedule::Block, Schedule::Cyclic { chunk: 3 }] {
            for of in 1..=7 {
                let shares: Vec<_> = (0..of)
                    .map(|i| static_share(schedule, 5..48, i, of))
                    .collect();
                assert_eq!(
                    covered(&shares),
                    (5..48).collect::<Vec<_>>(),
                    "{schedule:?} of {of}"
                );
            }
        }
        // More workers than tasks: some get nothing, none gets a task twice.
        let shares: Vec<_> = (0..5)
            .map(|i| static_share(Schedule::Block, 0..3, i, 5))
            .collect();
        assert_eq!(covered(&shares), vec![0, 1, 2]);
    }

    #[test]
    fn cyclic_deals_chunks_round_robin() {
        let share = static_share(Schedule::Cyclic { chunk: 2 }, 0..11, 1, 2);
        assert_eq!(share, vec![2..4, 6..8, 10..11]);
    }

    #[test]
    fn run_static_runs_its_workers_at_once_and_sums() {
        let inside = AtomicUsize::new(0);
        let sum = run_static(Schedule::Block, 0..100, 2, |range| {
            wait_until_all_inside(&inside, 2);
            range.sum()
        });
        assert_eq!(sum, 4950);
    }

    #[test]
    fn dynamic_hands_each_task_to_exactly_one_worker() {
        let claimed = Mutex::new(Vec::new());
        let workers: Vec<_> = (0..3)
            .map(|_| {
                |range: Range<u64>| {
                    claimed.lock().unwrap().extend(range.clone());
                    Ok(range.sum::<u64>())
                }
            })
            .collect();
        assert_eq!(
            run_dynamic(10..1010, 7, workers).unwrap(),
            (10..1010).sum::<u64>()
        );
        let mut claimed = claimed.into_inner().unwrap();
        claimed.sort();
        assert_eq!(claimed, (10..1010).collect::<Vec<_>>());
    }

    #[test]
    fn dynamic_workers_run_at_once_and_a_free_one_takes_more() {
        // Both workers must be inside their first chunk at the same time, or
        // `wait_until_all_inside` fails. Then worker 0 holds its first chunk until worker 1 has
        // done 30 of the 40: only a dynamic schedule lets a free worker take that many.
        let inside = AtomicUsize::new(0);
        let counts = [AtomicUsize::new(0), AtomicUsize::new(0)];
        let workers: Vec<_> = (0..2)
            .map(|id| {
                let (inside, counts) = (&inside, &counts);
                move |range: Range<u64>| {
                    if counts[id].fetch_add(1, Ordering::SeqCst) == 0 {
                        wait_until_all_inside(inside, 2);
                        if id == 0 {
                            harness::Deadline::after(
                                Duration::from_secs(10),
                                "30 chunks done by worker 1",
                            )
                            .poll(|| (counts[1].load(Ordering::SeqCst) >= 30).then_some(()))
                            .unwrap();
                        }
                    }
                    Ok(range.end - range.start)
                }
            })
            .collect();
        assert_eq!(run_dynamic(0..40, 1, workers).unwrap(), 40);
        assert!(counts[1].load(Ordering::SeqCst) >= 30);
        assert_eq!(
            counts[0].load(Ordering::SeqCst) + counts[1].load(Ordering::SeqCst),
            40
        );
    }

    #[test]
    fn dynamic_reports_a_worker_error() {
        let workers: Vec<_> = (0..2)
            .map(|_| {
                |range: Range<u64>| {
                    if range.contains(&5) {
                        anyhow::bail!("task 5 broke")
                    } else {
                        Ok(1)
                    }
                }
            })
            .collect();
        let error = run_dynamic(0..10, 1, workers).unwrap_err();
        assert!(error.to_string().contains("task 5 broke"), "{error}");
    }
}
