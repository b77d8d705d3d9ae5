//! Lesson `shm`: the lost update made certain, the semaphore that prevents it, and segments
//! that leave nothing in /dev/shm.

use std::time::Duration;

use harness::ExampleProcess;
use harness::leaks::{FdSnapshot, expect_no_zombies};
use ipc::shm::{self, Segment, SharedCounter};
use multiprocess::spawn;

const SETTLE: Duration = Duration::from_secs(5);

fn nothing_left_in_dev_shm() {
    let left = shm::leftover_names(std::process::id()).unwrap();
    assert!(left.is_empty(), "left in /dev/shm: {left:?}");
}

#[test]
fn the_scripted_interleaving_loses_an_update() {
    let _lock = harness::process_lock();
    let counter = SharedCounter::new().unwrap();
    assert_eq!(
        shm::forced_lost_update(&counter).unwrap(),
        1,
        "two increments, one lost"
    );
    expect_no_zombies(SETTLE).unwrap();
}

#[test]
fn locked_increments_from_several_processes_lose_nothing() {
    let _lock = harness::process_lock();
    let counter = SharedCounter::new().unwrap();
    let value = shm::run_increments(&counter, 3, 20_000, true).unwrap();
    assert_eq!(value, 60_000);
    expect_no_zombies(SETTLE).unwrap();
}

#[test]
fn the_lock_shuts_out_another_process_while_held() {
    let _lock = harness::process_lock();
    let counter = SharedCounter::new().unwrap();
    counter.lock().unwrap();
    // Exit status 0: the child found the lock taken; 1: it got in; 2: an error.
    let attempt = || {
        spawn::fork_run(|| match counter.try_lock() {
            Ok(false) => 0,
            Ok(true) => 1,
            Err(_) => 2,
        })
        .and_then(spawn::wait_for)
        .unwrap()
        .exitcode()
    };
    assert_eq!(
        attempt(),
        0,
        "held by the parent: the child must not get in"
    );
    counter.unlock().unwrap();
    assert_eq!(attempt(), 1, "released: the child gets in");
}

#[test]
fn a_segment_is_shared_with_children_and_unnamed_at_once() {
    let _lock = harness::process_lock();
    let fds = FdSnapshot::of_self().unwrap();
    let segment = Segment::create(4096).unwrap();
    assert!(
        !std::path::Path::new("/dev/shm")
            .join(&segment.name()[1..])
            .exists(),
        "create unlinks the name right after mapping"
    );
    let child = spawn::fork_run(|| {
        // SAFETY: the page is mapped in the child too (inherited) and nobody else writes it.
        unsafe {
            segment
                .as_ptr()
                .copy_from(b"written by the child".as_ptr(), 20)
        };
        0
    })
    .unwrap();
    spawn::wait_for(child).unwrap();
    // SAFETY: the child has exited; the first 20 bytes are initialised.
    let seen = unsafe { std::slice::from_raw_parts(segment.as_ptr(), 20) };
    assert_eq!(seen, b"written by the child");
    drop(segment);
    fds.expect_no_growth(0, SETTLE).unwrap();
    nothing_left_in_dev_shm();
}

#[test]
fn a_named_segment_is_opened_by_name_and_unlinked_on_drop() {
    let _lock = harness::process_lock();
    let segment = Segment::create_named(4096).unwrap();
    let name = segment.name().to_string();
    let file = std::path::Path::new("/dev/shm").join(&name[1..]);
    assert!(
        file.exists(),
        "{} while the creator holds it",
        file.display()
    );
    let child = spawn::fork_run(|| match Segment::open(&name, 4096) {
        Ok(peer) => {
            // SAFETY: a fresh mapping of the segment; one byte inside it.
            unsafe { peer.as_ptr().write(42) };
            0
        }
        Err(_) => 1,
    })
    .unwrap();
    assert!(spawn::wait_for(child).unwrap().success());
    // SAFETY: inside the mapping; the child has exited.
    assert_eq!(unsafe { segment.as_ptr().read() }, 42);
    drop(segment);
    assert!(!file.exists(), "{} was left behind", file.display());
    nothing_left_in_dev_shm();
}

#[test]
fn shm_counter_example() {
    let _lock = harness::process_lock();
    let mut demo = ExampleProcess::spawn("shm_counter", &["--increments", "20000"]).unwrap();
    let forced = demo.read_line().unwrap();
    let _unlocked = demo.read_line().unwrap(); // its loss depends on scheduling
    let locked = demo.read_line().unwrap();
    let cleanup = demo.read_line().unwrap();
    demo.expect_success().unwrap();
    assert!(forced.contains("left the counter at 1"), "{forced}");
    assert!(locked.ends_with("= 40000 (0 lost)"), "{locked}");
    assert_eq!(cleanup, "/dev/shm: nothing left behind");
    let left = shm::leftover_names(demo.pid()).unwrap();
    assert!(left.is_empty(), "the example left {left:?}");
}
