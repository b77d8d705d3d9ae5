//! Lesson `pool`: order kept, panics reported, dead workers replaced and their tasks retried —
//! nothing lost, no zombie, no descriptor left behind.

use std::path::PathBuf;
use std::time::Duration;

use harness::ExampleProcess;
use harness::leaks::FdSnapshot;
use multiprocess::pool::{Pool, TaskError};
use multiprocess::spawn::Outcome;
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{Id, WaitPidFlag, waitid};
use nix::unistd::{Pid, getpid};

const SETTLE: Duration = Duration::from_secs(5);

#[test]
fn map_returns_results_in_task_order_from_several_workers() {
    let _lock = harness::process_lock();
    // Earlier tasks take longer (more busy work), so the order of the results must come from
    // the tasks' indexes, not from when they finish.
    let mut pool = Pool::new(3, |x: u64| {
        std::hint::black_box(
            (0..(30 - x) * 20_000).fold(0u64, |acc, i| std::hint::black_box(acc ^ i)),
        );
        (x * x, std::process::id())
    })
    .unwrap();
    let results: Vec<(u64, u32)> = pool
        .map(0..30)
        .unwrap()
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let squares: Vec<u64> = results.iter().map(|(square, _)| *square).collect();
    assert_eq!(squares, (0..30).map(|x| x * x).collect::<Vec<_>>());
    let mut workers: Vec<u32> = results.iter().map(|(_, pid)| *pid).collect();
    workers.sort();
    workers.dedup();
    assert_eq!(workers.len(), 3, "all three workers did work: {workers:?}");
    assert!(
        !workers.contains(&std::process::id()),
        "the work ran in other processes"
    );
    assert_eq!(pool.join().unwrap(), [Outcome::Exited(0); 3]);
    harness::leaks::expect_no_zombies(SETTLE).unwrap();
}

#[test]
fn a_panicking_task_is_reported_and_the_worker_carries_on() {
    let _lock = harness::process_lock();
    let mut pool = Pool::new(2, |x: i32| {
        assert!(x != 13, "unlucky {x}");
        x + 1
    })
    .unwrap();
    let pids = pool.pids();
    let results = pool.map([12, 13, 14]).unwrap();
    assert_eq!(results[0], Ok(13));
    assert_eq!(
        results[1],
        Err(TaskError::Panicked("unlucky 13".to_string()))
    );
    assert_eq!(results[2], Ok(15));
    assert_eq!(pool.pids(), pids, "a panic does not cost a worker");
    assert_eq!(pool.replaced(), 0);
}

/// A task that SIGKILLs its own worker the first time it runs (a marker file remembers), as if
/// the OOM killer or an operator had struck mid-task.
fn dies_once(marker: PathBuf) -> impl Fn(u32) -> u32 {
    move |x| {
        if x == 3 && std::fs::File::create_new(&marker).is_ok() {
            let _ = kill(nix::unistd::getpid(), Signal::SIGKILL);
        }
        x * 10
    }
}

#[test]
fn a_worker_killed_mid_task_is_replaced_and_its_task_retried() {
    let _lock = harness::process_lock();
    let dir = tempfile::tempdir().unwrap();
    let mut pool = Pool::new(2, dies_once(dir.path().join("killed"))).unwrap();
    let before = pool.pids();
    let results = pool.map(0..6).unwrap();
    assert_eq!(
        results,
        (0..6).map(|x| Ok(x * 10)).collect::<Vec<_>>(),
        "no task lost"
    );
    assert!(
        dir.path().join("killed").exists(),
        "the worker really was killed"
    );
    assert_eq!(pool.replaced(), 1);
    let after = pool.pids();
    assert_eq!(after.len(), 2, "the pool is back to two workers");
    assert_eq!(
        before.iter().filter(|pid| after.contains(pid)).count(),
        1,
        "{before:?} -> {after:?}"
    );
    harness::leaks::expect_no_zombies(SETTLE).unwrap();
}

#[test]
fn a_task_that_kills_every_worker_is_reported_after_its_retries() {
    let _lock = harness::process_lock();
    let mut pool = Pool::new(2, |x: u32| {
        if x == 0 {
            let _ = kill(getpid(), Signal::SIGKILL);
        }
        x
    })
    .unwrap()
    .retries(2);
    let results = pool.map([0, 1, 2]).unwrap();
    assert_eq!(
        results[0],
        Err(TaskError::WorkerDied {
            outcome: Outcome::Signaled {
                signal: Signal::SIGKILL,
                core_dumped: false
            },
            attempts: 3,
        })
    );
    assert_eq!(results[1..], [Ok(1), Ok(2)]);
    assert_eq!(pool.replaced(), 3);
    // The pool still works after losing three workers.
    assert_eq!(pool.apply(7).unwrap(), Ok(7));
    harness::leaks::expect_no_zombies(SETTLE).unwrap();
}

#[test]
fn a_worker_killed_from_outside_while_idle_is_replaced_on_the_next_task() {
    let _lock = harness::process_lock();
    let mut pool = Pool::new(1, |x: u8| x).unwrap();
    let first = pool.pids()[0];
    kill(first, Signal::SIGKILL).unwrap();
    // Wait until it is dead (without reaping it: that is the pool's job), so the pool finds
    // out when it hands over the next task (EPIPE), not while the task runs.
    waitid(Id::Pid(first), WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT).unwrap();
    assert_eq!(pool.apply(5).unwrap(), Ok(5));
    assert_ne!(pool.pids()[0], first);
    assert_eq!(pool.replaced(), 1);
}

#[test]
fn closing_lets_workers_exit_and_dropping_leaves_nothing_behind() {
    let _lock = harness::process_lock();
    let fds = FdSnapshot::of_self().unwrap();
    let pids: Vec<Pid> = {
        let mut pool = Pool::new(4, |x: u8| x).unwrap();
        assert_eq!(pool.map(0..8).unwrap().len(), 8);
        pool.pids()
    };
    for pid in pids {
        assert!(kill(pid, None).is_err(), "worker {pid} is gone");
    }
    harness::leaks::expect_no_zombies(SETTLE).unwrap();
    fds.expect_no_growth(0, SETTLE).unwrap();
}

#[test]
fn pool_map_example_counts_primes_with_every_worker() {
    let _lock = harness::process_lock();
    let mut run = ExampleProcess::spawn(
        "pool_map",
        &["--primes", "--to", "100000", "--workers", "3"],
    )
    .unwrap();
    let workers = run.read_line().unwrap();
    assert!(workers.starts_with("3 workers: ["), "{workers}");
    assert_eq!(
        run.read_line().unwrap(),
        "primes below 100000: 9592 (in 8 chunks)"
    );
    let mut chunks = Vec::new();
    while let Ok(line) = run.read_line() {
        chunks.push(line);
    }
    run.expect_success().unwrap();
    assert_eq!(chunks.len(), 8);
    let mut pids: Vec<&str> = chunks
        .iter()
        .map(|l| l.rsplit(' ').next().unwrap())
        .collect();
    pids.sort();
    pids.dedup();
    assert_eq!(pids.len(), 3, "every worker computed a chunk: {chunks:?}");
}

#[test]
fn pool_workers_busy_on_a_long_task_die_with_the_killed_parent() {
    let _lock = harness::process_lock();
    // Chunks of 125 billion numbers each: the workers compute for hours unless stopped.
    let mut run = ExampleProcess::spawn(
        "pool_map",
        &["--primes", "--to", "1000000000000", "--workers", "2"],
    )
    .unwrap();
    let line = run.read_line().unwrap();
    let workers: Vec<u32> = line
        .strip_prefix("2 workers: [")
        .and_then(|rest| rest.strip_suffix(']'))
        .unwrap_or_else(|| panic!("{line}"))
        .split(", ")
        .map(|pid| pid.parse().unwrap())
        .collect();
    // Busy (R), not idle on the task pipe (S), where EOF alone would end them.
    harness::Deadline::after(SETTLE, "both workers to be computing")
        .poll(|| {
            let states: Vec<_> = workers
                .iter()
                .map(|&p| harness::leaks::state_of(p))
                .collect();
            states
                .iter()
                .all(|s| s.as_deref() == Some("R"))
                .then_some(())
        })
        .unwrap();
    run.signal(nix::sys::signal::Signal::SIGKILL).unwrap();
    run.wait_within(SETTLE).unwrap();
    harness::leaks::expect_gone(&workers, SETTLE).unwrap();
}
