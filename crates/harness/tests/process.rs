//! `ExampleProcess` against a scripted child: banner parsing, stdin/stdout, SIGINT and clean
//! exit, and failure messages that carry the child's stderr.

use std::io::Write;
use std::process::Command;
use std::time::Duration;

use harness::{Conn, ExampleProcess, leaks, process_lock};

#[test]
fn a_server_example_reports_its_address_and_stops_cleanly_on_sigint() {
    let child =
        ExampleProcess::start("harness_child", &["serve", "--addr", "127.0.0.1:0"]).unwrap();
    assert_eq!(child.addr().ip().to_string(), "127.0.0.1");
    assert_ne!(child.addr().port(), 0, "the real port, not the requested 0");
    // The address is real: something is listening there.
    Conn::connect(child.addr()).unwrap();
    child.interrupt_and_expect_clean_exit().unwrap();
}

#[test]
fn stdin_and_stdout_are_wired_to_the_test() {
    let mut child = ExampleProcess::spawn("harness_child", &["echo-stdin"]).unwrap();
    writeln!(child.stdin(), "first").unwrap();
    assert_eq!(child.read_line().unwrap(), "first");
    writeln!(child.stdin(), "second").unwrap();
    assert_eq!(child.read_line().unwrap(), "second");
    child.close_stdin();
    child.expect_success().unwrap();
}

#[test]
fn a_failed_exit_is_reported_with_the_status_and_stderr() {
    let mut child =
        ExampleProcess::start("harness_child", &["crash", "--addr", "127.0.0.1:0"]).unwrap();
    let message = child.expect_success().unwrap_err().to_string();
    assert!(message.contains("exited with status 3"), "{message}");
    assert!(
        message.contains("deliberate failure for the test"),
        "{message}"
    );
}

#[test]
fn a_missing_banner_is_reported_with_the_line_that_came_instead() {
    let message = ExampleProcess::start("harness_child", &["no-banner"])
        .unwrap_err()
        .to_string();
    assert!(message.contains("listening on <addr>"), "{message}");
    assert!(message.contains("hello, I forgot the banner"), "{message}");
}

#[test]
fn a_missing_example_is_named_as_unknown_to_the_workspace() {
    let message = ExampleProcess::start("no_such_example", &[])
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("example `no_such_example`")
            && message.contains("no package of the workspace has an example of that name"),
        "{message}"
    );
}

#[test]
fn a_silent_child_times_out_naming_what_was_awaited() {
    let mut child =
        ExampleProcess::start("harness_child", &["serve", "--addr", "127.0.0.1:0"]).unwrap();
    let error = child
        .read_line_within(Duration::from_millis(200))
        .unwrap_err();
    assert!(error.is_timeout());
    let message = error.to_string();
    assert!(
        message.contains("a stdout line from example `harness_child`"),
        "{message}"
    );
    assert!(message.contains("waited"), "{message}");
}

#[test]
fn dropping_a_running_child_kills_and_reaps_it() {
    let _guard = process_lock();
    let child =
        ExampleProcess::start("harness_child", &["serve", "--addr", "127.0.0.1:0"]).unwrap();
    let pid = child.pid();
    drop(child);
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "pid {pid} still exists after drop (alive or a zombie)"
    );
}

#[test]
fn zombie_children_are_seen_and_then_gone_once_reaped() {
    let _guard = process_lock();
    let mut child = Command::new("true").spawn().unwrap();
    let pid = child.id();
    // `true` exits at once; until we wait for it, it is our zombie.
    harness::Deadline::after(
        Duration::from_secs(10),
        format!("pid {pid} to become a zombie"),
    )
    .poll(|| leaks::zombie_children().ok()?.contains(&pid).then_some(()))
    .unwrap();
    child.wait().unwrap();
    leaks::expect_no_zombies(Duration::from_secs(5)).unwrap();
}
