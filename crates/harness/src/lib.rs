//! The shared test harness of Concurrency Labs.
//!
//! Every chapter's tests drive real sockets and real processes through this crate, so that no
//! test hangs, none guesses a port, and every failure says what it was waiting for.
//!
//! | module | what it gives a test |
//! | --- | --- |
//! | [`time`] | [`Deadline`], and `LABS_TIMEOUT_SCALE` to stretch every deadline on a slow machine |
//! | [`conn`] | [`Conn`]: connect, write all, read exact, read line, expect EOF — each under a deadline |
//! | [`server`] | [`serve`]: a server on a thread of the test, bound to `127.0.0.1:0`, stopped on drop; [`serve_each`]: a thread per connection running a handler of the test's |
//! | [`build`] | [`example_path`]: an example's binary, built first when older than the sources |
//! | [`process`] | [`ExampleProcess`]: an example binary as a black box (`listening on <addr>`, SIGINT, clean exit) |
//! | [`seccomp`] | an example run where the kernel refuses io_uring, and the check that it says why in one sentence |
//! | [`leaks`] | descriptors, child processes and zombie children, read from `/proc` |
//! | [`ClosedPort`] | a port that refuses connections and that no other test can take meanwhile |
//! | [`echo`] | the echo conformance suite every echo server in the workspace must pass |
//! | [`lines`] | the line-protocol check: every model serves a second protocol through the same entry point |
//! | [`http`] | the HTTP conformance suite every HTTP backend must pass, with its served folder and traversal payloads |
//!
//! Tests that touch process-wide state (fork, signal dispositions, rlimits, the current
//! directory) take [`process_lock`] first, so they never interleave.

pub mod build;
pub mod conn;
pub mod echo;
mod error;
pub mod http;
pub mod leaks;
pub mod lines;
mod port;
pub mod process;
pub mod seccomp;
pub mod server;
mod suite;
pub mod time;

use std::sync::{Mutex, MutexGuard};

pub use build::example_path;
pub use conn::Conn;
pub use error::{Error, Result};
pub use port::ClosedPort;
pub use process::ExampleProcess;
pub use server::{InProcessServer, ServerUnderTest, serve, serve_each};
pub use suite::{CheckResult, Report};
pub use time::Deadline;

/// The one lock for tests that change process-wide state: fork, signal handlers, rlimits, cwd.
///
/// A test that panicked while holding it must not wedge every later test, so poisoning is
/// ignored: the state it guards is the process's, not the mutex's.
pub fn process_lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
