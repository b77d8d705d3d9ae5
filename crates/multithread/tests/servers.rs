//! Lesson `per_thread_server`: both echo servers pass the echo conformance suite, in-process
//! and as examples; the pool serves exactly `workers` clients at once and the next ones in
//! order as workers are freed; Ctrl-C ends open connections.

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

#[test]
fn pool_echo_serves_workers_clients_at_once_and_the_next_in_order_as_workers_free() {
    let server = ExampleProcess::start(
        "pool_echo",
        &["--addr", "127.0.0.1:0", "--workers", "2", "--queue", "1"],
    )
    .unwrap();
    let mut first = Conn::connect(server.addr()).unwrap();
    let mut second = Conn::connect(server.addr()).unwrap();
    for (client, text) in [(&mut first, "one"), (&mut second, "two")] {
        client.write_all(format!("{text}\n").as_bytes()).unwrap();
        assert_eq!(client.read_line().unwrap(), text);
    }
    // Both workers are busy. The third waits in the pool's queue, the fourth in the backlog:
    // both are connected, and neither is answered (waiting out this bound is what is tested).
    let mut third = Conn::connect(server.addr()).unwrap();
    let mut fourth = Conn::connect(server.addr()).unwrap();
    for (client, text) in [(&mut third, "three\n"), (&mut fourth, "four\n")] {
        client.set_step(Duration::from_millis(300));
        client.write_all(text.as_bytes()).unwrap();
        let waited = client.read_line().unwrap_err();
        assert!(waited.is_timeout(), "{waited}");
        client.set_step(harness::time::STEP);
    }
    // One worker freed: the third is served (it came first), the fourth still waits.
    drop(first);
    assert_eq!(third.read_line().unwrap(), "three");
    fourth.set_step(Duration::from_millis(300));
    assert!(fourth.read_line().unwrap_err().is_timeout());
    fourth.set_step(harness::time::STEP);
    drop(second);
    assert_eq!(fourth.read_line().unwrap(), "four");
    // Ctrl-C with clients still connected: they are shut down, the server exits cleanly.
    server.interrupt_and_expect_clean_exit().unwrap();
    third.expect_eof().unwrap();
    fourth.expect_eof().unwrap();
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
