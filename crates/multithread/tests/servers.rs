//! Lesson `per_thread_server`: both echo servers pass the echo conformance suite, in-process
//! and as examples; the pool serves exactly `workers` clients at once and the next `queue` in
//! order as workers are freed; a client over either server's bound is told so at once, and the
//! server logs it; Ctrl-C ends open connections.

use std::time::Duration;

use harness::{Conn, ExampleProcess, echo, serve};
use multithread::per_thread_server::{
    pooled, pooled_with, spawn_per_connection, thread_per_connection,
};
use netkit::lines::{serve_blocking, uppercase};

#[test]
fn thread_echo_conforms() {
    echo::assert_conformance(|| Ok(serve(|l, stop| thread_per_connection(l, &stop))));
}

#[test]
fn thread_echo_example_conforms_and_ctrl_c_ends_open_clients() {
    echo::assert_conformance(|| ExampleProcess::start("thread_echo", &["--addr", "127.0.0.1:0"]));
    let server = ExampleProcess::start("thread_echo", &["--addr", "127.0.0.1:0"]).unwrap();
    let mut clients = echo::served_clients(server.addr(), 3).unwrap();
    server.interrupt_and_expect_clean_exit().unwrap();
    for client in &mut clients {
        client.expect_eof().unwrap();
    }
}

#[test]
fn pool_echo_with_enough_workers_conforms() {
    // The suite holds 100 clients at once; each worker serves one client at a time.
    echo::assert_conformance(|| Ok(serve(|l, stop| pooled(l, &stop, 110, 8))));
}

#[test]
fn pooled_echo_example_conforms() {
    echo::assert_conformance(|| {
        ExampleProcess::start("pool_echo", &["--addr", "127.0.0.1:0", "--workers", "110"])
    });
}

const BUSY: &str = "server busy, try again later";

#[test]
fn pool_echo_serves_workers_clients_queues_the_next_and_turns_the_rest_away_at_once() {
    let server = ExampleProcess::start(
        "pool_echo",
        &["--addr", "127.0.0.1:0", "--workers", "2", "--queue", "1"],
    )
    .unwrap();
    let [first, mut second] = echo::served_clients(server.addr(), 2)
        .unwrap()
        .try_into()
        .unwrap();
    // Both workers are busy: the third waits in the pool's queue, connected and unanswered
    // (waiting out this bound is what is tested).
    let mut third = Conn::connect(server.addr()).unwrap();
    third.set_step(Duration::from_millis(300));
    third.write_all(b"three\n").unwrap();
    assert!(third.read_line().unwrap_err().is_timeout());
    third.set_step(harness::time::STEP);
    // The queue is full too: the fourth is told so at once, and the server logs it.
    echo::expect_turned_away(server.addr(), BUSY).unwrap();
    server
        .expect_stderr(
            "pool: busy (2 workers serving, 1 waiting)",
            harness::time::STEP,
        )
        .unwrap();
    // One worker freed: the queued third is served; the other worker still serves the second.
    drop(first);
    assert_eq!(third.read_line().unwrap(), "three");
    second.write_all(b"still two\n").unwrap();
    assert_eq!(second.read_line().unwrap(), "still two");
    drop(second);
    let mut later = echo::served_once_a_slot_frees(server.addr()).unwrap();
    // Ctrl-C with clients still connected: they are shut down, the server exits cleanly.
    server.interrupt_and_expect_clean_exit().unwrap();
    third.expect_eof().unwrap();
    later.expect_eof().unwrap();
}

#[test]
fn thread_echo_turns_a_client_over_max_threads_away_at_once_and_logs_it() {
    let server = ExampleProcess::start(
        "thread_echo",
        &["--addr", "127.0.0.1:0", "--max-threads", "2"],
    )
    .unwrap();
    let [first, mut second] = echo::served_clients(server.addr(), 2)
        .unwrap()
        .try_into()
        .unwrap();
    echo::expect_turned_away(server.addr(), BUSY).unwrap();
    server
        .expect_stderr(
            "echo: busy (2 connections served at once)",
            harness::time::STEP,
        )
        .unwrap();
    // The two served clients are still served; once one leaves, a newcomer is.
    second.write_all(b"still two\n").unwrap();
    assert_eq!(second.read_line().unwrap(), "still two");
    drop(first);
    let _later = echo::served_once_a_slot_frees(server.addr()).unwrap();
    server.interrupt_and_expect_clean_exit().unwrap();
}

#[test]
fn thread_per_connection_serves_the_line_protocol_through_its_handler() {
    let server = serve(|l, stop| {
        spawn_per_connection(l, &stop, "upper", |mut s, _| {
            let _ = serve_blocking(&mut s, uppercase);
        })
    });
    harness::lines::assert_uppercases(server.addr());
}

#[test]
fn pool_serves_the_line_protocol_through_its_handler() {
    let server = serve(|l, stop| {
        pooled_with(l, &stop, 4, 4, |mut s| {
            let _ = serve_blocking(&mut s, uppercase);
        })
    });
    harness::lines::assert_uppercases(server.addr());
}

#[test]
fn pool_echo_under_the_overload_script_counts_served_refused_and_waiting_clients() {
    // The docs' measurements at twice the bound come from this script: check what it counts.
    let server = ExampleProcess::start(
        "pool_echo",
        &["--addr", "127.0.0.1:0", "--workers", "2", "--queue", "1"],
    )
    .unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/overload.py");
    let addr = server.addr().to_string();
    let args = [script, "--addr", &addr, "--conns", "6", "--wait", "1"].map(String::from);
    let output = harness::time::within(harness::time::STEP, "scripts/overload.py", move || {
        std::process::Command::new("python3").args(args).output()
    })
    .unwrap();
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{report}");
    let count = |outcome: &str| -> Option<u32> {
        let line = report
            .lines()
            .find(|l| l.trim_start().starts_with(outcome))?;
        line.split_whitespace().nth(1)?.parse().ok()
    };
    let counts = ["echoed", "busy", "silent"].map(count);
    assert_eq!(counts, [Some(2), Some(3), Some(1)], "{report}");
    server.interrupt_and_expect_clean_exit().unwrap();
}

#[test]
fn a_server_takes_a_host_name_for_its_address_as_loadgen_does() {
    let server = ExampleProcess::start("thread_echo", &["--addr", "localhost:0"]).unwrap();
    assert!(server.addr().ip().is_loopback(), "{}", server.addr());
    let mut client = Conn::connect(server.addr()).unwrap();
    client.write_all(b"by name\n").unwrap();
    assert_eq!(client.read_line().unwrap(), "by name");
    server.interrupt_and_expect_clean_exit().unwrap();
}
