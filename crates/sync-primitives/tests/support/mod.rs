//! What every test file of this chapter shares: running a step on its own thread under a
//! deadline, so a broken lock makes a test fail with a message instead of hanging the suite.

#![allow(dead_code)] // each test file uses a part

use std::time::Duration;

/// The deadline for one step of a test (scaled by `LABS_TIMEOUT_SCALE`).
pub const STEP: Duration = harness::time::STEP;

#[allow(unused_imports)] // some test files use only the other helpers
pub use harness::time::within;

/// Lets a spawned example run to completion (step deadlines) and returns its stdout lines;
/// panics (with its stderr) unless it exits with status 0.
pub fn output_of(example: harness::Result<harness::ExampleProcess>) -> Vec<String> {
    let mut example = example.unwrap();
    let mut lines = Vec::new();
    example.close_stdin();
    loop {
        match example.next_line() {
            Ok(Some(line)) => lines.push(line),
            Ok(None) => break,
            Err(e) => panic!("{e}"),
        }
    }
    example.expect_success().unwrap();
    lines
}
