//! Lesson `queue`: a typed queue between processes — values round-trip, several producers'
//! big frames never mix, the end is an answer, and an empty queue times out.

use std::io::ErrorKind;
use std::time::Duration;

use harness::ExampleProcess;
use harness::leaks::{FdSnapshot, expect_no_zombies};
use ipc::queue::Queue;
use ipc::queue::producers::{self, Item, Tally};
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
    let mut queue = Queue::<Item>::new().unwrap();
    // Up to 40 KB: far over PIPE_BUF, so only the writers' lock keeps frames whole.
    let (producers, items, max_payload) = (4, 150, 40_000);
    let children = producers::start(&queue, producers, items, max_payload).unwrap();
    queue.close();
    // Consume before reaping: a producer blocked on a full pipe cannot exit.
    let tally = producers::drain(&queue, producers, max_payload).unwrap();
    assert_eq!(
        tally,
        Tally {
            total: u64::from(producers * items),
            next: vec![items; producers as usize],
            broken: 0,
        }
    );
    assert!(producers::reap(children).unwrap(), "a producer failed");
    drop(queue);
    fds.expect_no_growth(0, SETTLE).unwrap();
    expect_no_zombies(SETTLE).unwrap();
}

#[test]
fn queue_put_a_mixed_frame_or_a_lost_item_is_counted_as_broken() {
    let _lock = harness::process_lock();
    let mut queue = Queue::<Item>::new().unwrap();
    let mut torn = Item::new(0, 1, 100);
    torn.payload[0] ^= 1; // a byte of another frame
    for item in [Item::new(0, 0, 100), torn, Item::new(0, 3, 100)] {
        queue.put(&item).unwrap();
    }
    queue.close();
    let tally = producers::drain(&queue, 1, 100).unwrap();
    assert_eq!((tally.total, tally.broken, tally.next), (3, 2, vec![4]));
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
