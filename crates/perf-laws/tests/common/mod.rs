//! Running things under a deadline: the CLI binary, and library calls that block.

#![allow(dead_code)] // each test file uses part of this

use std::os::unix::process::CommandExt;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

/// The `perf-laws` binary cargo built for these tests.
pub const CLI: &str = env!("CARGO_BIN_EXE_perf-laws");

/// Every step here is small (tiny workloads); 30 s (scaled) is generous on a loaded machine.
pub const LIMIT: Duration = Duration::from_secs(30);

/// Runs `f` on a thread and returns its result, or panics naming `what` after [`LIMIT`].
pub fn within<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    harness::time::within(LIMIT, what, f)
}

/// Runs the CLI with `args` and returns its output; a run past the deadline is killed (its
/// whole process group, worker processes included) and fails the test.
pub fn run_cli(args: &[&str]) -> Output {
    let child = Command::new(CLI)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("starting {CLI}: {e}"));
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let deadline = harness::Deadline::after(LIMIT, format!("perf-laws {}", args.join(" ")));
    match rx.recv_timeout(deadline.remaining().unwrap()) {
        Ok(output) => output.unwrap_or_else(|e| panic!("waiting for perf-laws: {e}")),
        Err(_) => {
            let _ = killpg(Pid::from_raw(pid as i32), Signal::SIGKILL);
            panic!("{}", deadline.expired());
        }
    }
}

/// Runs the CLI, checks it succeeded, and returns its stdout.
pub fn cli_stdout(args: &[&str]) -> String {
    let output = run_cli(args);
    assert!(
        output.status.success(),
        "perf-laws {} failed ({}):\n{}",
        args.join(" "),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("stdout is UTF-8")
}
