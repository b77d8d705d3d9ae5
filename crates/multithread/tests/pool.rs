//! Lesson `pool`: every job runs once, on several workers at once; a panic is contained and
//! its worker replaced; dropping the pool drains the queue; a full queue blocks the submitter.
//! And `pool_speed` (the pool bench's measurement), small.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use harness::time::{STEP, scaled};
use multithread::pool::{JobError, SubmitError, ThreadPool};

#[test]
fn pool_runs_every_job_exactly_once_on_workers_that_run_at_once() {
    let runs: Arc<Vec<AtomicUsize>> = Arc::new((0..5000).map(|_| AtomicUsize::new(0)).collect());
    let together = Arc::new(Barrier::new(4));
    let (names_tx, names_rx) = mpsc::channel();
    {
        let pool = ThreadPool::new(4, 16).unwrap();
        // Four jobs that can only finish if four workers are inside them at the same time.
        for _ in 0..4 {
            let (together, names_tx) = (Arc::clone(&together), names_tx.clone());
            pool.execute(move || {
                together.wait();
                names_tx
                    .send(thread::current().name().unwrap().to_string())
                    .unwrap();
            })
            .unwrap();
        }
        for i in 0..5000 {
            let runs = Arc::clone(&runs);
            pool.execute(move || {
                runs[i].fetch_add(1, Ordering::SeqCst);
            })
            .unwrap();
        }
    }
    let names: HashSet<String> = (0..4)
        .map(|_| names_rx.recv_timeout(scaled(STEP)).unwrap())
        .collect();
    assert_eq!(
        names.len(),
        4,
        "four distinct workers met at the barrier: {names:?}"
    );
    assert!(runs.iter().all(|n| n.load(Ordering::SeqCst) == 1));
}

#[test]
fn pool_contains_a_panic_reports_it_and_replaces_the_worker() {
    let pool = ThreadPool::new(1, 4).unwrap();
    let before = pool
        .submit(|| thread::current().id())
        .unwrap()
        .join()
        .unwrap();
    let failed = pool
        .submit(|| -> u32 { panic!("job {} failed", 7) })
        .unwrap()
        .join();
    assert_eq!(failed, Err(JobError::Panicked("job 7 failed".to_string())));
    let after = pool
        .submit(|| thread::current().id())
        .unwrap()
        .join()
        .unwrap();
    assert_ne!(
        before, after,
        "the panicked worker was replaced by a fresh thread"
    );
    assert_eq!(pool.panicked(), 1);
    assert_eq!(pool.submit(|| 2 + 2).unwrap().join(), Ok(4));
    // A fire-and-forget job's panic is contained too.
    pool.execute(|| panic!("nobody is listening")).unwrap();
    assert_eq!(pool.submit(|| "still up").unwrap().join(), Ok("still up"));
    assert_eq!(pool.panicked(), 2);
}

#[test]
fn pool_shutdown_on_drop_finishes_every_queued_job() {
    let done = Arc::new(AtomicUsize::new(0));
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let pool = ThreadPool::new(2, 200).unwrap();
    let release_rx = Arc::new(std::sync::Mutex::new(release_rx));
    for _ in 0..2 {
        let release_rx = Arc::clone(&release_rx);
        pool.execute(move || {
            let _ = release_rx.lock().unwrap().recv_timeout(scaled(STEP));
        })
        .unwrap();
    }
    for _ in 0..150 {
        let done = Arc::clone(&done);
        pool.execute(move || {
            done.fetch_add(1, Ordering::SeqCst);
        })
        .unwrap();
    }
    assert_eq!(done.load(Ordering::SeqCst), 0, "the workers are held");
    drop(release_tx); // both holding jobs return at once
    drop(pool); // returns only after the queue is drained and the workers joined
    assert_eq!(done.load(Ordering::SeqCst), 150);
}

#[test]
fn pool_bounded_queue_blocks_the_submitter_until_a_worker_takes_a_job() {
    let pool = Arc::new(ThreadPool::new(1, 1).unwrap());
    let (started_tx, started_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    pool.execute(move || {
        started_tx.send(()).unwrap();
        let _ = release_rx.recv_timeout(scaled(STEP));
    })
    .unwrap();
    started_rx.recv_timeout(scaled(STEP)).unwrap(); // the worker is busy
    pool.execute(|| {}).unwrap(); // the one queue slot
    assert_eq!(pool.try_execute(|| {}), Err(SubmitError::Full));
    let (returned_tx, returned_rx) = mpsc::channel();
    let submitter = {
        let pool = Arc::clone(&pool);
        thread::spawn(move || {
            pool.execute(|| {}).unwrap();
            returned_tx.send(()).unwrap();
        })
    };
    // Blocked while the queue is full (waiting out this short bound is the thing tested).
    assert_eq!(
        returned_rx.recv_timeout(Duration::from_millis(200)),
        Err(RecvTimeoutError::Timeout)
    );
    drop(release_tx);
    returned_rx.recv_timeout(scaled(STEP)).unwrap();
    submitter.join().unwrap();
}

#[test]
fn pool_speed_runs_every_task_of_the_three_ways() {
    let plan = multithread::pool_speed::Plan {
        tasks: 20_000,
        spawn_tasks: 500,
        workers: 2,
        queue: 64,
    };
    // `compare` fails if a way lost a task, so Ok means every task ran, each way.
    let runs = multithread::pool_speed::compare(plan).unwrap();
    let summary: Vec<(&str, u64)> = runs.iter().map(|r| (r.way, r.tasks)).collect();
    assert_eq!(
        summary,
        [
            ("own pool", 20_000),
            ("threadpool", 20_000),
            ("spawn per task", 500)
        ]
    );
    assert!(
        runs.iter()
            .all(|r| r.took > Duration::ZERO && r.tasks_per_sec().is_finite())
    );
}
