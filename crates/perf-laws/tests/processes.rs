//! The workloads on worker processes give the thread answer, and leave no process behind.
//!
//! These tests start children of the test process and then check that none is left, so they
//! hold `harness::process_lock()`: another test's children would spoil the count.

mod common;

use std::path::Path;

use common::{CLI, within};
use perf_laws::processes::run_processes;
use perf_laws::workloads::{Problem, Workload};

/// The answer with `p` worker processes, under a deadline, checking no child is left after.
fn on_processes(problem: &Problem, p: usize) -> anyhow::Result<u64> {
    let problem = problem.clone();
    let answer = within(
        &format!("{} on {p} processes", problem.workload.name()),
        move || run_processes(&problem, p, Path::new(CLI)),
    );
    let left = harness::leaks::children_of(std::process::id()).unwrap();
    assert!(left.is_empty(), "worker processes left behind: {left:?}");
    answer
}

fn assert_processes_match_threads(problem: Problem, ps: &[usize]) {
    let _lock = harness::process_lock();
    let expected = problem.run_threads(1).unwrap();
    for &p in ps {
        let got = on_processes(&problem, p).unwrap_or_else(|e| panic!("p = {p}: {e:#}"));
        assert_eq!(
            got,
            expected,
            "{} on {p} processes",
            problem.workload.name()
        );
    }
}

#[test]
fn processes_count_the_same_primes_as_threads() {
    assert_processes_match_threads(
        Problem::new(Workload::Primes, 50_000, 0.0).unwrap(),
        &[1, 2, 3],
    );
}

#[test]
fn processes_give_the_static_mandelbrot_total() {
    assert_processes_match_threads(
        Problem::new(Workload::MandelbrotStatic, 30, 0.0).unwrap(),
        &[1, 2, 3],
    );
}

#[test]
fn processes_run_the_serial_phase_once_and_share_the_rest() {
    assert_processes_match_threads(
        Problem::new(Workload::Serial, 3000, 0.3).unwrap(),
        &[1, 2, 4],
    );
}

#[test]
fn processes_do_each_io_task_once() {
    assert_processes_match_threads(Problem::new(Workload::Io, 3, 0.0).unwrap(), &[1, 2, 4]);
}

#[test]
fn dynamic_processes_serve_chunks_on_demand_and_match_threads() {
    assert_processes_match_threads(
        Problem::new(Workload::MandelbrotDynamic, 30, 0.0).unwrap(),
        &[1, 2, 3],
    );
}

#[test]
fn scaled_workload_on_processes_matches_threads_at_each_size() {
    let base = Problem::new(Workload::Scaled, 600, 0.25).unwrap();
    for multiplier in [1, 3] {
        assert_processes_match_threads(base.scaled_to(multiplier), &[1, multiplier as usize]);
    }
}

#[test]
fn memsum_on_processes_is_refused_with_a_reason() {
    let _lock = harness::process_lock();
    let problem = Problem::new(Workload::Memsum, 1000, 0.0).unwrap();
    let error = on_processes(&problem, 2).unwrap_err();
    assert!(error.to_string().contains("threads only"), "{error}");
}

#[test]
fn a_worker_that_fails_is_reported_and_reaped() {
    // An executable that is not a perf-laws worker: `false` exits 1 without answering.
    let _lock = harness::process_lock();
    let problem = Problem::new(Workload::Primes, 1000, 0.0).unwrap();
    let error = within("a failing worker", move || {
        run_processes(&problem, 2, Path::new("/bin/false"))
    })
    .unwrap_err();
    assert!(format!("{error:#}").contains("worker 0"), "{error:#}");
    let left = harness::leaks::children_of(std::process::id()).unwrap();
    assert!(left.is_empty(), "worker processes left behind: {left:?}");
}
