//! Idle connections: held against echo_target, visible in the server's descriptor count, and
//! failures explained.

use std::time::Duration;

use harness::leaks::{FdSnapshot, fd_count};
use harness::{Deadline, ExampleProcess, process_lock};
use loadgen::{Failure, IdleConfig, hold_idle_with, run_idle};

/// Raises this test process's descriptor limit (2,000 sockets do not fit under a soft 1024).
fn raise_fd_limit() {
    let _lock = process_lock();
    loadgen::raise_fd_limit().expect("raising RLIMIT_NOFILE");
}

#[test]
fn two_thousand_idle_connections_from_two_sources_are_held_by_the_server() {
    raise_fd_limit();
    // One worker: the process the harness started is the one holding the sockets.
    let server =
        ExampleProcess::start("echo_target", &["--addr", "127.0.0.1:0", "--procs", "1"]).unwrap();
    let pid = server.pid();
    let before = FdSnapshot::of(pid).unwrap();
    let config = IdleConfig {
        sources: 2,
        ..IdleConfig::new(server.addr(), 2000)
    };
    let hold = hold_idle_with(&config).unwrap();
    assert_eq!(hold.open(), 2000);
    assert_eq!(hold.report().established, 2000, "{}", hold.report());
    assert!(hold.report().is_clean(), "{}", hold.report());

    // The kernel completes handshakes before the server accepts: wait for it to catch up.
    let expected = before.count() + 2000;
    let mut now = 0;
    Deadline::after(
        Duration::from_secs(10),
        "echo_target to accept 2,000 connections",
    )
    .poll(|| {
        now = fd_count(pid).ok()?;
        (now >= expected).then_some(())
    })
    .unwrap_or_else(|e| panic!("{e}: {now} descriptors, expected {expected}"));

    drop(hold);
    before.expect_no_growth(0, Duration::from_secs(10)).unwrap();
    server.interrupt_and_expect_clean_exit().unwrap();
}

#[test]
fn run_idle_reports_connects_per_second() {
    let server =
        ExampleProcess::start("echo_target", &["--addr", "127.0.0.1:0", "--procs", "1"]).unwrap();
    let report = run_idle(&IdleConfig::new(server.addr(), 200)).unwrap();
    assert_eq!(
        (report.established, report.failed, report.dropped),
        (200, 0, 0),
        "{report}"
    );
    assert!(report.connects_per_sec > 0.0, "{report}");
}

#[test]
fn a_closed_port_is_refused_and_explained() {
    // Bound but not listening: refused, and no other test can take the port meanwhile.
    let closed = harness::ClosedPort::new().unwrap();
    let addr = closed.addr();
    let report = run_idle(&IdleConfig::new(addr, 5)).unwrap();
    assert_eq!(report.established, 0, "{report}");
    assert_eq!(
        report.run.connect_errors.get(&Failure::Refused),
        Some(&5),
        "{report}"
    );
    let text = &report.run.explanations[&Failure::Refused];
    assert!(
        text.contains("connection refused") && text.contains(&addr.to_string()),
        "{text}"
    );
    let err = loadgen::hold_idle(addr, 5).unwrap_err().to_string();
    assert!(
        err.contains("only 0 of 5") && err.contains("connection refused"),
        "{err}"
    );
}
