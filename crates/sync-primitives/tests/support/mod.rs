//! What every test file of this chapter shares: running a step on its own thread under a
//! deadline, so a broken lock makes a test fail with a message instead of hanging the suite.

#![allow(dead_code)] // each test file uses a part

use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use harness::Deadline;

/// The deadline for one step of a test (scaled by `LABS_TIMEOUT_SCALE`).
pub const STEP: Duration = harness::time::STEP;

/// Runs `f` on a new thread and returns its result, or panics naming `what` if it has not
/// finished within `limit`. A step that never finishes (threads blocked forever on a broken
/// lock) is left behind: the test process still exits when the tests are done.
pub fn within<T: Send + 'static>(
    limit: Duration,
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let deadline = Deadline::after(limit, what);
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(panic::catch_unwind(AssertUnwindSafe(f)));
    });
    match rx.recv_timeout(deadline.remaining().unwrap()) {
        Ok(Ok(value)) => value,
        Ok(Err(payload)) => panic::resume_unwind(payload),
        Err(_) => panic!("{}", deadline.expired()),
    }
}

/// Lets a spawned example run to completion (step deadlines) and returns its stdout lines;
/// panics (with its stderr) unless it exits with status 0.
pub fn output_of(example: harness::Result<harness::ExampleProcess>) -> Vec<String> {
    let mut example = example.unwrap();
    let mut lines = Vec::new();
    example.close_stdin();
    loop {
        match example.read_line() {
            Ok(line) => lines.push(line),
            Err(e) if e.to_string().contains("stdout closed") => break,
            Err(e) => panic!("{e}"),
        }
    }
    example.expect_success().unwrap();
    lines
}
