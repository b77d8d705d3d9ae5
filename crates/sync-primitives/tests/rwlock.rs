//! Lesson 5: readers share the lock, a writer has it alone, and the mechanism of writer
//! starvation — new readers barge past a waiting writer into the reader-preferring lock, and
//! queue behind it in std's and parking_lot's. Forced with handshakes, not timed.

mod support;

use harness::ExampleProcess;

use std::sync::{Arc, Barrier, RwLock};
use std::thread;

use harness::Deadline;
use support::{STEP, within};
use sync_primitives::rwlock::{ReadWriteLock, ReaderPreferringRwLock};

/// Four readers wait at a barrier *inside* the read lock: it opens only if all four are in.
fn readers_are_inside_together<L: ReadWriteLock + Send + 'static>() {
    let lock = Arc::new(L::default());
    let all_inside = Arc::new(Barrier::new(4));
    within(
        STEP,
        &format!("4 readers inside {} at once", L::NAME),
        move || {
            thread::scope(|s| {
                for _ in 0..4 {
                    s.spawn(|| {
                        lock.read_with(|| {
                            all_inside.wait();
                        })
                    });
                }
            })
        },
    );
}

#[test]
fn rwlock_readers_share_every_lock() {
    readers_are_inside_together::<ReaderPreferringRwLock>();
    readers_are_inside_together::<RwLock<()>>();
    readers_are_inside_together::<parking_lot::RwLock<()>>();
}

#[test]
fn rwlock_a_writer_is_alone() {
    let std_lock = RwLock::new(0);
    {
        let _write = std_lock.write().unwrap();
        assert!(
            std_lock.try_read().is_err(),
            "a reader got in beside the writer"
        );
    }
    let pl = parking_lot::RwLock::new(0);
    {
        let _write = pl.write();
        assert!(pl.try_read().is_none(), "a reader got in beside the writer");
    }
    let lesson = Arc::new(ReaderPreferringRwLock::new());
    let inside = Arc::new(Barrier::new(2));
    let writer = {
        let (lesson, inside) = (Arc::clone(&lesson), Arc::clone(&inside));
        thread::spawn(move || {
            lesson.write(|| {
                inside.wait(); // 1: the writer is in
                inside.wait(); // 2: the test has checked
            })
        })
    };
    let check = {
        let lesson = Arc::clone(&lesson);
        move || {
            inside.wait();
            let reader_got_in = lesson.try_read();
            inside.wait();
            writer.join().unwrap();
            reader_got_in
        }
    };
    assert!(
        !within(STEP, "the writer to get in", check),
        "a reader got in beside the writer"
    );
}

#[test]
fn rwlock_reader_preferring_lets_new_readers_pass_a_waiting_writer() {
    let lock = Arc::new(ReaderPreferringRwLock::new());
    assert!(lock.try_read()); // reader 1 is inside
    let writer = {
        let lock = Arc::clone(&lock);
        thread::spawn(move || lock.write(|| ()))
    };
    Deadline::after(STEP, "the writer to start waiting")
        .poll(|| (lock.writers_waiting() == 1).then_some(()))
        .unwrap();
    // The writer waits — and a new reader still gets in: with readers arriving before the last
    // one leaves, this is how the writer starves.
    assert!(
        lock.try_read(),
        "reader 2 should barge past the waiting writer"
    );
    lock.end_read(); // reader 1 leaves; reader 2 is still inside
    assert_eq!(lock.writers_waiting(), 1, "the writer is still waiting");
    lock.end_read(); // reader 2 leaves: now the writer gets in
    within(
        STEP,
        "the writer to get in once the readers are gone",
        move || writer.join().unwrap(),
    );
}

#[test]
fn rwlock_std_queues_new_readers_behind_a_waiting_writer() {
    let lock = Arc::new(RwLock::new(()));
    let reader = lock.read().unwrap();
    let writer = {
        let lock = Arc::clone(&lock);
        thread::spawn(move || drop(lock.write().unwrap()))
    };
    // Once the writer waits, a new reader is refused although only readers are inside.
    Deadline::after(
        STEP,
        "std's RwLock to refuse a new reader while a writer waits",
    )
    .poll(|| lock.try_read().is_err().then_some(()))
    .unwrap();
    drop(reader);
    within(STEP, "the writer to get in", move || writer.join().unwrap());
}

#[test]
fn rwlock_parking_lot_queues_new_readers_behind_a_waiting_writer() {
    let lock = Arc::new(parking_lot::RwLock::new(()));
    let reader = lock.read();
    let writer = {
        let lock = Arc::clone(&lock);
        thread::spawn(move || drop(lock.write()))
    };
    Deadline::after(
        STEP,
        "parking_lot's RwLock to refuse a new reader while a writer waits",
    )
    .poll(|| lock.try_read().is_none().then_some(()))
    .unwrap();
    drop(reader);
    within(STEP, "the writer to get in", move || writer.join().unwrap());
}

#[test]
fn rwlock_readers_example_runs_every_lock() {
    let lines = support::output_of(ExampleProcess::spawn(
        "rwlock_readers",
        &["--readers", "3", "--hold-ms", "1", "--give-up-ms", "100"],
    ));
    assert_eq!(lines[0], "3 readers were inside std::sync::RwLock at once");
    assert_eq!(
        lines[1],
        "writer wait with 3 overlapping readers, each holding 1 ms:"
    );
    for (line, name) in lines[2..].iter().zip([
        "reader-preferring (lesson)",
        "std::sync::RwLock",
        "parking_lot::RwLock",
    ]) {
        assert!(line.starts_with(&format!("  {name}: ")), "{lines:?}");
        assert!(
            line.ends_with(" ms") || line.ends_with("after 100 ms)"),
            "{lines:?}"
        );
    }
    assert_eq!(lines.len(), 5);
}
