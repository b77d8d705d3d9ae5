//! Lesson 6: with a barrier between rounds, the parallel computation equals the sequential one
//! cell for cell, and the rounds really are phases.

mod support;

use harness::ExampleProcess;

use std::sync::Mutex;

use support::{STEP, within};
use sync_primitives::barrier::{rule90_parallel, rule90_sequential, single_cell};

#[test]
fn barrier_parallel_rule90_equals_sequential() {
    within(STEP, "rule 90 on 1 to 5 threads", || {
        let start = single_cell(101);
        let expected = rule90_sequential(&start, 60);
        for threads in 1..=5 {
            assert_eq!(
                rule90_parallel(&start, 60, threads, |_, _| {}),
                expected,
                "{threads} threads"
            );
        }
    });
}

#[test]
fn barrier_no_thread_starts_a_round_before_all_finished_the_last() {
    let log = within(STEP, "rule 90 on 4 threads", || {
        let log = Mutex::new(Vec::new());
        rule90_parallel(&single_cell(64), 40, 4, |thread, round| {
            log.lock().unwrap().push((round, thread));
        });
        log.into_inner().unwrap()
    });
    assert_eq!(log.len(), 160);
    for (k, phase) in log.chunks(4).enumerate() {
        let mut threads: Vec<usize> = phase
            .iter()
            .map(|&(round, t)| {
                assert_eq!(
                    round, k,
                    "a thread finished round {round} among round {k}: {phase:?}"
                );
                t
            })
            .collect();
        threads.sort_unstable();
        assert_eq!(threads, [0, 1, 2, 3], "round {k}");
    }
}

#[test]
fn barrier_phases_example_agrees_with_sequential() {
    let lines = support::output_of(ExampleProcess::spawn(
        "barrier_phases",
        &["--threads", "3", "--cells", "33", "--rounds", "8"],
    ));
    assert_eq!(lines.len(), 10, "{lines:?}");
    assert_eq!(lines[0], format!("{}#{}", ".".repeat(16), ".".repeat(16)));
    assert_eq!(lines[1], format!("{}#.#{}", ".".repeat(15), ".".repeat(15)));
    assert_eq!(
        lines[8],
        "3 threads, 8 rounds: parallel == sequential: true"
    );
    assert_eq!(
        lines[9],
        "every thread finished round k before any thread started round k + 1: true"
    );
}
