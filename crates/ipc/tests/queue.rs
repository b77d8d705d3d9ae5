//! Lesson `queue`: a typed queue between processes — values round-trip, several producers'
//! big frames never mix, the end is an answer, and an empty queue times out.

use std::collections::HashMap;
use std::io::ErrorKind;
use std::time::Duration;

use harness::ExampleProcess;
use harness::leaks::{FdSnapshot, expect_no_zombies};
use ipc::queue::Queue;
use multiprocess::spawn;
use serde::{Deserialize, Serialize};

const SETTLE: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Job {
    Copy { from: String, bytes: u64 },
    Stop,
}

#[test]
fn queue_put_values_come_back_typed_and_in_order() {
    let _lock = harness::process_lock();
    let queue = Queue::<Job>::new().unwrap();
    let jobs = [
        Job::Copy {
            from: "a.txt".into(),
            bytes: 12,
        },
        Job::Copy {
            from: "b".repeat(5000),
            bytes: u64::MAX,
        },
        Job::Stop,
    ];
    for job in &jobs {
        queue.put(job).unwrap();
    }
    for job in &jobs {
        assert_eq!(&queue.get().unwrap().unwrap(), job);
    }
}

#[test]
fn queue_put_from_many_producers_keeps_big_frames_whole() {
    let _lock = harness::process_lock();
    let fds = FdSnapshot::of_self().unwrap();
    let mut queue = Queue::<(u32, u32, Vec<u8>)>::new().unwrap();
    let (producers, items) = (4u32, 150u32);
    let mut children = Vec::new();
    for producer in 0..producers {
        let queue = &queue;
        children.push(
            spawn::fork_run(move || {
                for seq in 0..items {
                    // Up to 40 KB: far over PIPE_BUF, so only the writers' lock keeps frames whole.
                    let payload = vec![(producer * 7 + seq) as u8; (seq as usize * 271) % 40_000];
                    if queue.put(&(producer, seq, payload)).is_err() {
                        return 1;
                    }
                }
                0
            })
            .unwrap(),
        );
    }
    queue.close();
    let mut next: HashMap<u32, u32> = HashMap::new();
    let mut total = 0;
    // Consume before reaping: a producer blocked on a full pipe cannot exit.
    while let Some((producer, seq, payload)) = queue.get().unwrap() {
        let expected = next.entry(producer).or_insert(0);
        assert_eq!(seq, *expected, "producer {producer}'s items in order");
        assert!(payload.iter().all(|&b| b == (producer * 7 + seq) as u8));
        assert_eq!(payload.len(), (seq as usize * 271) % 40_000);
        *expected += 1;
        total += 1;
    }
    assert_eq!(total, producers * items);
    for child in children {
        assert!(spawn::wait_for(child).unwrap().success());
    }
    drop(queue);
    fds.expect_no_growth(0, SETTLE).unwrap();
    expect_no_zombies(SETTLE).unwrap();
}

#[test]
fn queue_put_then_get_timeout_returns_it_and_the_end_is_none() {
    let _lock = harness::process_lock();
    let mut queue = Queue::<String>::new().unwrap();
    queue.put(&"soon".to_string()).unwrap();
    let got = queue.get_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(got.as_deref(), Some("soon"));
    queue.close();
    assert_eq!(queue.get().unwrap(), None, "every writer closed: the end");
    let error = queue.put(&"late".to_string()).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::BrokenPipe, "{error}");
}

#[test]
fn an_empty_queue_times_out_like_python_queue_empty() {
    let _lock = harness::process_lock();
    let queue = Queue::<u8>::new().unwrap();
    let error = queue.get_timeout(Duration::from_millis(30)).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::TimedOut);
    assert!(error.to_string().contains("empty"), "{error}");
}

#[test]
fn queue_put_process_queue_example() {
    let _lock = harness::process_lock();
    let mut demo =
        ExampleProcess::spawn("process_queue", &["--producers", "3", "--items", "200"]).unwrap();
    let _header = demo.read_line().unwrap();
    assert_eq!(
        demo.read_line().unwrap(),
        "got 600 items: producer 0: 200 in order, producer 1: 200 in order, producer 2: 200 in order"
    );
    assert!(
        demo.read_line()
            .unwrap()
            .ends_with("all producers exited with status 0")
    );
    demo.expect_success().unwrap();
}

#[test]
fn queue_put_fails_in_every_producer_when_the_parent_is_killed() {
    let _lock = harness::process_lock();
    let mut parent = ExampleProcess::spawn(
        "process_queue",
        &["--producers", "3", "--items", "100000", "--pause"],
    )
    .unwrap();
    assert!(parent.read_line().unwrap().starts_with("3 producers"));
    assert!(parent.read_line().unwrap().contains("waits for Enter"));
    let producers = harness::Deadline::after(SETTLE, "the three producers to be forked")
        .poll(|| {
            let children = harness::leaks::children_of(parent.pid()).ok()?;
            (children.len() == 3).then_some(children)
        })
        .unwrap();
    // The pipe holds 64 KiB and nobody reads: every producer is (or soon is) blocked in `put`.
    assert!(
        producers.iter().all(|&pid| harness::leaks::is_running(pid)),
        "the producers are alive and blocked before the parent dies"
    );
    parent.signal(nix::sys::signal::Signal::SIGKILL).unwrap();
    parent.wait_within(SETTLE).unwrap();
    harness::leaks::expect_gone(&producers, SETTLE).unwrap();
}
