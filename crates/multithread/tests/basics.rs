//! Lesson `basics`: spawn/join with a contained panic, scoped threads that borrow, Builder,
//! thread-locals, park/unpark — in-process and through the `thread_basics` and `scoped_sum`
//! examples.

use harness::ExampleProcess;
use multithread::basics;

#[test]
fn join_returns_each_value_and_a_panic_as_an_error() {
    let results = basics::spawn_and_join(5, Some(3));
    assert_eq!(results[..3], [Ok(0), Ok(1), Ok(4)]);
    assert_eq!(results[3], Err("thread 3 gave up".to_string()));
    assert_eq!(results[4], Ok(16));
}

#[test]
fn scoped_sum_borrows_the_data_and_adds_it_up() {
    let data: Vec<u64> = (1..=100_001).collect();
    for threads in [1, 2, 3, 7, 64] {
        assert_eq!(
            basics::scoped_sum(&data, threads),
            100_001 * 100_002 / 2,
            "{threads} threads"
        );
    }
    assert_eq!(basics::scoped_sum(&[], 4), 0);
    assert_eq!(
        basics::scoped_sum(&[5, 6], 8),
        11,
        "more threads than numbers"
    );
    // The data is still ours: the scope borrowed it and gave it back.
    assert_eq!(data.len(), 100_001);
}

#[test]
fn builder_names_the_thread_and_gives_it_the_stack_asked_for() {
    let (name, value) = basics::named_thread("lesson-worker", 256 * 1024, || 6 * 7).unwrap();
    assert_eq!((name.as_str(), value), ("lesson-worker", 42));
    let failed = basics::named_thread("doomed", 64 * 1024, || -> u8 { panic!("no luck") });
    assert!(failed.unwrap_err().to_string().contains("no luck"));
}

#[test]
fn every_thread_has_its_own_thread_local() {
    let (finals, main_count) = basics::thread_local_counts(6, 500);
    assert_eq!(finals, [500; 6]);
    assert_eq!(main_count, 0, "the calling thread's counter is its own");
}

#[test]
fn park_returns_once_the_flag_is_set() {
    // Whether the worker parked before the unpark or after (the token is kept), it ends.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for _ in 0..50 {
            tx.send(basics::park_handshake()).unwrap();
        }
    });
    for round in 0..50 {
        rx.recv_timeout(harness::time::scaled(harness::time::STEP))
            .unwrap_or_else(|e| panic!("handshake {round} did not end: {e}"));
    }
}

#[test]
fn thread_basics_example_narrates_each_demonstration() {
    let mut example = ExampleProcess::spawn("thread_basics", &[]).unwrap();
    let lines: Vec<String> = (0..4).map(|_| example.read_line().unwrap()).collect();
    example.expect_success().unwrap();
    assert_eq!(
        lines[0],
        "spawn/join: [0, 1, 9] and thread 2: panicked: thread 2 gave up"
    );
    assert_eq!(
        lines[1],
        "builder: ran on \"worker-7\" with a 64 KiB stack, recursion depth 100 -> 5050"
    );
    assert_eq!(
        lines[2],
        "thread_local: 4 threads each counted to 1000; main's own counter is still 0"
    );
    assert!(
        lines[3].starts_with("park/unpark: woke after the flag was set"),
        "{}",
        lines[3]
    );
    let stderr = example.stderr_text();
    assert!(
        stderr.contains("thread 2 panics on purpose: the panic message below is expected"),
        "{stderr}"
    );
}

#[test]
fn scoped_sum_example_checks_its_sum() {
    let mut example =
        ExampleProcess::spawn("scoped_sum", &["--n", "200000", "--threads", "3"]).unwrap();
    let line = example.read_line().unwrap();
    example.expect_success().unwrap();
    assert!(
        line.starts_with("sum of 1..=200000 with 3 threads: 20000100000 (expected 20000100000)"),
        "{line}"
    );
}

#[test]
fn scoped_sum_example_speaks_of_one_thread_and_refuses_none() {
    let mut one = ExampleProcess::spawn("scoped_sum", &["--n", "10", "--threads", "1"]).unwrap();
    let line = one.read_line().unwrap();
    one.expect_success().unwrap();
    assert!(
        line.starts_with("sum of 1..=10 with 1 thread: 55 "),
        "{line}"
    );

    let mut none = ExampleProcess::spawn("scoped_sum", &["--threads", "0"]).unwrap();
    let status = none.wait_within(harness::time::STEP).unwrap();
    assert!(!status.success());
    assert!(
        none.stderr_text().contains("--threads"),
        "{}",
        none.stderr_text()
    );
}
