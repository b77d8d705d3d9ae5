//! Lesson 3: the semaphore never lets more than its permits in — and does let that many in at
//! once; a property test over random pools; the `semaphore_pool` example.

mod support;

use harness::ExampleProcess;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;

use proptest::prelude::*;
use support::{STEP, within};
use sync_primitives::semaphore::Semaphore;

/// Runs `workers` threads doing `jobs` acquire/release rounds on a semaphore of `permits`,
/// yielding `hold` times while holding one. Returns the most permits ever held at once.
fn most_inside(permits: usize, workers: usize, jobs: usize, hold: usize) -> usize {
    within(STEP, "the semaphore workers to finish", move || {
        let semaphore = Semaphore::new(permits);
        let (inside, most) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let start = Barrier::new(workers);
        thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(|| {
                    start.wait();
                    for _ in 0..jobs {
                        let _permit = semaphore.acquire();
                        let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        for _ in 0..hold {
                            thread::yield_now();
                        }
                        inside.fetch_sub(1, Ordering::SeqCst);
                    }
                });
            }
        });
        assert_eq!(semaphore.available(), permits, "every permit came back");
        most.into_inner()
    })
}

#[test]
fn semaphore_bound_is_never_exceeded_under_contention() {
    for permits in [1, 2, 3] {
        let most = most_inside(permits, 8, 200, 3);
        assert!(most <= permits, "{most} inside with {permits} permits");
    }
}

#[test]
fn semaphore_lets_exactly_its_permits_in_at_once() {
    // Three holders meet at a barrier *while holding* their permits: it only opens if all three
    // are inside together. A fourth then finds no permit.
    let semaphore = Arc::new(Semaphore::new(3));
    let all_inside = Arc::new(Barrier::new(4));
    let holders: Vec<_> = (0..3)
        .map(|_| {
            let (semaphore, all_inside) = (Arc::clone(&semaphore), Arc::clone(&all_inside));
            thread::spawn(move || {
                let _permit = semaphore.acquire();
                all_inside.wait(); // 1: all three hold one
                all_inside.wait(); // 2: the test has checked
            })
        })
        .collect();
    let check = {
        let (semaphore, all_inside) = (Arc::clone(&semaphore), Arc::clone(&all_inside));
        move || {
            all_inside.wait();
            let fourth = semaphore.try_acquire().is_none();
            all_inside.wait();
            holders.into_iter().for_each(|h| h.join().unwrap());
            fourth
        }
    };
    assert!(
        within(STEP, "three permit holders to meet inside", check),
        "a fourth got in"
    );
    assert_eq!(semaphore.available(), 3);
}

#[test]
fn semaphore_acquire_waits_for_a_release() {
    let semaphore = Arc::new(Semaphore::new(0));
    let waiter = {
        let semaphore = Arc::clone(&semaphore);
        thread::spawn(move || semaphore.acquire().forget())
    };
    semaphore.release();
    within(STEP, "acquire to return after release", move || {
        waiter.join().unwrap()
    });
    assert_eq!(semaphore.available(), 0, "the permit was taken and kept");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, max_shrink_iters: 32, ..ProptestConfig::default() })]

    #[test]
    fn semaphore_prop_bound_holds_for_random_pools(
        permits in 1usize..5,
        workers in 1usize..8,
        jobs in 1usize..40,
        hold in 0usize..4,
    ) {
        let most = most_inside(permits, workers, jobs, hold);
        prop_assert!(most <= permits, "{} inside with {} permits", most, permits);
        prop_assert!(most >= 1);
    }
}

#[test]
fn semaphore_pool_example_stays_within_its_permits() {
    let lines = support::output_of(ExampleProcess::spawn(
        "semaphore_pool",
        &[
            "--permits",
            "2",
            "--workers",
            "6",
            "--jobs",
            "3",
            "--hold-ms",
            "1",
        ],
    ));
    assert_eq!(lines[0], "6 workers, 2 permits, 3 jobs each", "{lines:?}");
    let most: usize = lines[1]
        .strip_prefix("at most ")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("unexpected line {:?}", lines[1]));
    assert!((1..=2).contains(&most), "{lines:?}");
    assert!(lines[1].ends_with("(limit 2)"), "{lines:?}");
}
