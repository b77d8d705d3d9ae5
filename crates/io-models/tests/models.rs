//! Every IO model against the echo conformance suite, in-process and as its example.

use std::time::Duration;

use harness::echo::{self, HUNDRED_CLIENTS, IDLE_CLIENT};
use harness::{Conn, ExampleProcess, serve};
use io_models::{blocking, poll};

#[test]
fn blocking_serves_one_client_at_a_time_and_fails_only_the_concurrency_checks() {
    let report = echo::run(Duration::from_secs(2), || {
        Ok(serve(|l, stop| blocking::run(l, &stop)))
    });
    assert_eq!(report.failed(), [HUNDRED_CLIENTS, IDLE_CLIENT], "{report}");
}

#[test]
fn blocking_example_echoes_and_exits_cleanly_on_ctrl_c() {
    let server = ExampleProcess::start("blocking_echo", &["--addr", "127.0.0.1:0"]).unwrap();
    let mut client = Conn::connect(server.addr()).unwrap();
    client.write_all(b"one at a time\n").unwrap();
    assert_eq!(client.read_line().unwrap(), "one at a time");
    // Ctrl-C while a client is connected: the process still ends with status 0.
    server.interrupt_and_expect_clean_exit().unwrap();
}

#[test]
fn poll_conforms() {
    echo::assert_conformance(|| Ok(serve(|l, stop| poll::run(l, &stop))));
}

#[test]
fn poll_example_conforms_and_exits_cleanly() {
    echo::assert_conformance(|| ExampleProcess::start("poll_echo", &["--addr", "127.0.0.1:0"]));
    let server = ExampleProcess::start("poll_echo", &["--addr", "127.0.0.1:0"]).unwrap();
    let mut client = Conn::connect(server.addr()).unwrap();
    client.write_all(b"bye\n").unwrap();
    assert_eq!(client.read_line().unwrap(), "bye");
    server.interrupt_and_expect_clean_exit().unwrap();
}

#[test]
fn a_taken_port_is_refused_with_a_sentence_naming_the_address() {
    let first = ExampleProcess::start("poll_echo", &["--addr", "127.0.0.1:0"]).unwrap();
    let addr = first.addr().to_string();
    let mut second = ExampleProcess::spawn("select_echo", &["--addr", &addr]).unwrap();
    let status = second.wait_within(Duration::from_secs(10)).unwrap();
    assert_eq!(status.code(), Some(1), "{}", second.stderr_text());
    let stderr = second.stderr_text();
    assert!(
        stderr.contains(&format!(
            "Error: cannot listen on {addr}: Address already in use"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("--addr"),
        "the message says the way out: {stderr}"
    );
    first.interrupt_and_expect_clean_exit().unwrap();
}
