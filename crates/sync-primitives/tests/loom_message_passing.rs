//! Lesson 7's claim that a Relaxed flag is wrong, proven: loom runs the message-passing protocol
//! of `atomics::pass_message` (data word, then ready flag) under every interleaving *and* every
//! outcome the memory model allows — including the ones x86-64 never shows. With Relaxed it finds
//! a run where the receiver sees the flag and still reads the old data; with Release/Acquire no
//! such run exists.

use std::panic::{self, AssertUnwindSafe};

use loom::sync::Arc;
use loom::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use loom::thread;

/// One send of 42 with the flag stored with `store` and loaded with `load`; the receiver checks
/// that seeing the flag means seeing the data.
fn message_passing(store: Ordering, load: Ordering) {
    loom::model(move || {
        let data = Arc::new(AtomicU64::new(0));
        let ready = Arc::new(AtomicBool::new(false));
        let sender = {
            let (data, ready) = (Arc::clone(&data), Arc::clone(&ready));
            thread::spawn(move || {
                data.store(42, Ordering::Relaxed);
                ready.store(true, store);
            })
        };
        if ready.load(load) {
            assert_eq!(
                data.load(Ordering::Relaxed),
                42,
                "saw the flag but not the data"
            );
        }
        sender.join().unwrap();
    });
}

#[test]
fn atomics_loom_finds_the_relaxed_flag_bug() {
    let found = panic::catch_unwind(AssertUnwindSafe(|| {
        message_passing(Ordering::Relaxed, Ordering::Relaxed)
    }));
    let payload = found.expect_err("loom should find a run that reads the flag but not the data");
    let message = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("");
    assert!(
        message.contains("saw the flag but not the data") && message.contains("left: 0"),
        "loom failed for another reason: {message}"
    );
}

#[test]
fn atomics_loom_proves_release_acquire_correct() {
    message_passing(Ordering::Release, Ordering::Acquire);
}
