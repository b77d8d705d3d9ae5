//! The `http_server` example as a student runs it: every model passes the HTTP conformance
//! suite as a real program, writes one Common Log Format line per response, and stops cleanly
//! on Ctrl-C — with `--workers`, every worker too.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;

use harness::http::client::get;
use harness::http::{self, Fixture};
use harness::seccomp;
use harness::time::STEP;
use harness::{Conn, Deadline, ExampleProcess};
use http_server::Model;

fn conforms(model: Model) {
    http::assert_conformance(|root| common::start_example(model, root, &["--quiet"]));
}

#[test]
fn http_example_select_conforms() {
    conforms(Model::Select);
}

#[test]
fn http_example_poll_conforms() {
    conforms(Model::Poll);
}

#[test]
fn http_example_epoll_conforms() {
    conforms(Model::Epoll);
}

#[test]
fn http_example_async_conforms() {
    conforms(Model::Async);
}

#[test]
fn http_example_uring_conforms() {
    if common::runs_here(Model::Uring) {
        conforms(Model::Uring);
    }
}

#[test]
fn http_example_threads_conforms() {
    conforms(Model::Threads);
}

#[test]
fn http_example_pool_conforms() {
    conforms(Model::Pool);
}

#[test]
fn http_example_prefork_conforms() {
    conforms(Model::Prefork);
}

#[test]
fn http_example_epoll_workers_conform() {
    http::assert_conformance(|root| {
        common::start_example(Model::Epoll, root, &["--quiet", "--workers", "2"])
    });
}

/// Sends `request` on a new connection and reads the whole answer (the request closes it).
fn exchange(server: &ExampleProcess, request: &str) -> String {
    let mut stream = TcpStream::connect(server.addr()).unwrap();
    stream.set_read_timeout(Some(STEP)).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

/// The access log of `model` (and `extra`): a line per response, in the order answered, then a
/// clean exit on Ctrl-C.
fn logs_each_response(model: Model, extra: &[&str]) {
    let fixture = Fixture::create().unwrap();
    let mut server = common::start_example(model, &fixture.root(), extra).unwrap();
    let requests = [
        // A directory without its slash: redirected, with a small page. (No file is served:
        // that goes through the conditional-request exercise, which this test is not about.)
        (
            "GET /listing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            "\"GET /listing HTTP/1.1\" 301 ",
        ),
        (
            "HEAD /missing HTTP/1.0\r\n\r\n",
            "\"HEAD /missing HTTP/1.0\" 404 -",
        ),
        (
            "GET /missing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            "\"GET /missing HTTP/1.1\" 404 ",
        ),
        // A quote in the target is escaped: it cannot end the field early.
        (
            "GET /\"q HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            "\"GET /\\\"q HTTP/1.1\" 404 ",
        ),
        // A head the parser refuses has no request line to log.
        ("GET / HTTP/1.1\r\nno colon here\r\n\r\n", "\"-\" 400 "),
    ];
    for (request, expected) in requests {
        let answer = exchange(&server, request);
        assert!(
            answer.starts_with("HTTP/1.1 "),
            "{request:?} got {answer:?}"
        );
        let line = server.read_line().unwrap();
        let (client, rest) = line
            .split_once(" - - [")
            .unwrap_or_else(|| panic!("{line:?}"));
        assert_eq!(client, "127.0.0.1", "{line:?}");
        // [04/Dec/2026:19:02:11 +0000]
        let (time, rest) = rest.split_once("] ").unwrap_or_else(|| panic!("{line:?}"));
        assert_eq!(time.len(), 26, "{line:?}");
        assert!(time.ends_with(" +0000") && &time[2..3] == "/", "{line:?}");
        assert!(
            rest.starts_with(expected),
            "{line:?} should go on with {expected:?}"
        );
    }
    server.interrupt_and_expect_clean_exit().unwrap();
}

#[test]
fn http_example_logs_each_response() {
    logs_each_response(Model::Threads, &[]);
}

#[test]
fn http_example_logs_each_response_uring() {
    if common::runs_here(Model::Uring) {
        logs_each_response(Model::Uring, &[]);
    }
}

/// Ctrl-C while the uring server has a receive on every connection, a download waiting for a
/// client that does not read, and a timer per connection in flight: once the (short) grace
/// period is over, all of it is cancelled and completes, the process exits with status 0 (a
/// connection freed with an operation in flight would panic), and every client sees its
/// connection end.
#[test]
fn http_example_uring_stops_with_operations_in_flight() {
    if !common::runs_here(Model::Uring) {
        return;
    }
    let fixture = Fixture::create().unwrap();
    std::fs::write(fixture.root().join("big.bin"), vec![7u8; 8 << 20]).unwrap();
    let args = ["--quiet", "--grace", "0.5"];
    let server = common::start_example(Model::Uring, &fixture.root(), &args).unwrap();
    let idle = Conn::connect(server.addr()).unwrap();
    let mut half = Conn::connect(server.addr()).unwrap();
    half.write_all(b"GET /hello.txt HTTP/1.1\r\nHo").unwrap();
    let mut download = Conn::connect(server.addr()).unwrap();
    download
        .write_all(b"GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    assert_eq!(
        download.read_line().unwrap().trim_end(),
        "HTTP/1.1 200 OK",
        "the download began"
    );
    // One more client served: the server has adopted every connection above.
    let mut last = Conn::connect(server.addr()).unwrap();
    get(&mut last, "/hello.txt", "")
        .unwrap()
        .expect_status(200, "the last client")
        .unwrap();
    server.interrupt_and_expect_clean_exit().unwrap();
    for mut conn in [idle, half, download, last] {
        conn.read_to_eof().unwrap();
    }
}

/// Where the kernel refuses io_uring (here a seccomp filter, as a container's profile does),
/// `--model uring` says why in one sentence and exits 1, without a `listening on` first.
#[test]
fn http_example_uring_refused_says_why_in_one_sentence_and_exits_1() {
    let fixture = Fixture::create().unwrap();
    let root = fixture.root();
    let args = ["--model", "uring", "--root", root.to_str().unwrap()];
    let output = seccomp::run_refused(
        "http_server",
        &[&args[..], &["--addr", "127.0.0.1:0"]].concat(),
    )
    .unwrap();
    seccomp::assert_says_why(&output);
}

#[test]
fn http_example_workers_pass_their_log_on() {
    logs_each_response(Model::Epoll, &["--workers", "2"]);
}

#[test]
fn http_example_refuses_a_root_that_is_not_a_directory() {
    let fixture = Fixture::create().unwrap();
    let file = fixture.root().join("hello.txt");
    let mut server = ExampleProcess::spawn(
        "http_server",
        &["--root", file.to_str().unwrap(), "--addr", "127.0.0.1:0"],
    )
    .unwrap();
    let sentence = server.expect_failure_sentence(STEP).unwrap();
    assert!(sentence.contains("cannot serve"), "{sentence}");
}

#[test]
fn http_example_sheds_over_max_connections_and_says_so() {
    let fixture = Fixture::create().unwrap();
    let server = common::start_example(
        Model::Threads,
        &fixture.root(),
        &["--quiet", "--max-connections", "1"],
    )
    .unwrap();
    let mut held = Conn::connect(server.addr()).unwrap();
    get(&mut held, "/missing", "")
        .unwrap()
        .expect_status(404, "the one allowed")
        .unwrap();
    let mut over = Conn::connect(server.addr()).unwrap();
    let refused = get(&mut over, "/missing", "").unwrap();
    refused.expect_status(503, "the second connection").unwrap();
    Deadline::after(STEP, "the shedding log line on stderr")
        .poll(|| {
            server
                .stderr_text()
                .contains("answering 503); turned 127.0.0.1:")
                .then_some(())
        })
        .unwrap();
    server.interrupt_and_expect_clean_exit().unwrap();
}
