//! The non-blocking connection in io-models' event loops: a file larger than the socket
//! buffers resumes after `EAGAIN`, a client that stops reading does not stall the others, a
//! thousand pipelined requests are answered in order, and every loop keeps the deadlines.

mod common;

use std::io::{self, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use harness::http::client::{get, read_reply};
use harness::http::{Fixture, HELLO};
use harness::{Conn, InProcessServer};
use http_server::nonblocking::HttpConn;
use http_server::{Limits, Model};
use netkit::Stop;

const BIG: usize = 8 << 20;

fn big_file(fixture: &Fixture) -> Vec<u8> {
    let data: Vec<u8> = (0..BIG).map(|i| (i % 253) as u8).collect();
    std::fs::write(fixture.root().join("big.bin"), &data).unwrap();
    data
}

/// While one client's 8 MiB download is stalled (it does not read), the server `serve` starts
/// serves another client from its single thread, and the download then resumes exactly.
fn stalled_download_resumes_exactly(serve: Serve) {
    let fixture = Fixture::create().unwrap();
    let data = big_file(&fixture);
    let server = serve(&fixture);
    let mut stalled = Conn::connect(server.addr()).unwrap();
    // A small receive buffer on the client that does not read: with the server's send buffer
    // (at most 4 MiB here) the 8 MiB response cannot fit, so the server's sendfile must stop
    // at EAGAIN (or its send wait for room) and resume later.
    let small = 64 * 1024;
    nix::sys::socket::setsockopt(stalled.stream(), nix::sys::socket::sockopt::RcvBuf, &small)
        .unwrap();
    stalled
        .write_all(b"GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    // While the 8 MiB response fills both socket buffers, another client is served by the
    // same single thread.
    let mut other = Conn::connect(server.addr()).unwrap();
    let reply = get(&mut other, "/hello.txt", "").unwrap();
    assert_eq!(reply.body, HELLO.as_bytes());
    let big = read_reply(&mut stalled, false).unwrap();
    assert_eq!(big.status, 200);
    assert!(big.body == data, "the 8 MiB body differs after resuming");
    server.stop().unwrap();
}

/// A thousand pipelined requests in one write are answered, in order.
fn answers_a_thousand_pipelined_requests_in_order(serve: Serve) {
    let fixture = Fixture::create().unwrap();
    let server = serve(&fixture);
    let mut conn = Conn::connect(server.addr()).unwrap();
    let mut all = String::new();
    for i in 0..1000 {
        let path = if i % 2 == 0 { "/hello.txt" } else { "/missing" };
        all.push_str(&format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n"));
    }
    conn.write_all(all.as_bytes()).unwrap();
    for i in 0..1000 {
        let reply = read_reply(&mut conn, false).unwrap();
        assert_eq!(
            reply.status,
            if i % 2 == 0 { 200 } else { 404 },
            "response {i}"
        );
    }
    server.stop().unwrap();
}

/// A client that pipelines requests and never reads the answers (404 pages, seven times the
/// size of the requests): once they fill the sockets the server stops receiving its requests
/// (nothing of it grows in the server), so the client's sends stall long before 16 MiB — and
/// another client is served.
fn stops_a_client_that_never_reads(serve: Serve) {
    let fixture = Fixture::create().unwrap();
    let server = serve(&fixture);
    let hog = Conn::connect(server.addr()).unwrap();
    let small = 64 * 1024;
    nix::sys::socket::setsockopt(hog.stream(), nix::sys::socket::sockopt::RcvBuf, &small).unwrap();
    nix::sys::socket::setsockopt(hog.stream(), nix::sys::socket::sockopt::SndBuf, &small).unwrap();
    hog.stream()
        .set_write_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let requests = "GET /missing HTTP/1.1\r\nHost: t\r\n\r\n".repeat(2000);
    let mut pushed = 0;
    let stalled = loop {
        if pushed >= 16 << 20 {
            break false;
        }
        let offset = pushed % requests.len(); // after a short send, the rest of a request
        match hog.stream().write(&requests.as_bytes()[offset..]) {
            Ok(n) => pushed += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                break true;
            }
            Err(e) => panic!("the hog's send failed after {pushed} bytes: {e}"),
        }
    };
    assert!(
        stalled,
        "the server took {pushed} bytes of requests from a client that never reads"
    );
    let mut other = Conn::connect(server.addr()).unwrap();
    get(&mut other, "/missing", "")
        .unwrap()
        .expect_status(404, "another client, while the hog is stopped")
        .unwrap();
    server.stop().unwrap();
}

#[test]
fn a_client_that_never_reads_is_stopped() {
    stops_a_client_that_never_reads(event_loop);
}

#[test]
fn uring_a_client_that_never_reads_is_stopped() {
    if common::runs_here(Model::Uring) {
        stops_a_client_that_never_reads(uring);
    }
}

/// Starts a server on a fixture.
type Serve = fn(&Fixture) -> InProcessServer;

fn event_loop(fixture: &Fixture) -> InProcessServer {
    common::serve_event_loop(&fixture.root(), Limits::default()).unwrap()
}

fn uring(fixture: &Fixture) -> InProcessServer {
    common::serve_model(Model::Uring, &fixture.root(), Limits::default()).unwrap()
}

#[test]
fn a_stalled_download_does_not_stall_the_loop_and_resumes_exactly() {
    stalled_download_resumes_exactly(event_loop);
}

#[test]
fn uring_a_stalled_download_does_not_stall_the_loop_and_resumes_exactly() {
    if common::runs_here(Model::Uring) {
        stalled_download_resumes_exactly(uring);
    }
}

#[test]
fn a_thousand_pipelined_requests_are_answered_in_order() {
    answers_a_thousand_pipelined_requests_in_order(event_loop);
}

#[test]
fn uring_a_thousand_pipelined_requests_are_answered_in_order() {
    if common::runs_here(Model::Uring) {
        answers_a_thousand_pipelined_requests_in_order(uring);
    }
}

/// 300 ms to send a head, 300 ms between requests.
fn short_limits() -> Limits {
    Limits {
        header_timeout: Duration::from_millis(300),
        idle_timeout: Duration::from_millis(300),
        write_timeout: Duration::from_secs(10),
    }
}

/// The server (with [`short_limits`]) answers 408 to a head that stops half way, and closes a
/// connection that sends nothing: the event loop keeps the connections' deadlines and wakes
/// for them (a loop that waits for events alone hangs here until the client's own deadline).
fn expect_deadlines_kept(what: &str, server: InProcessServer) {
    let mut slow = Conn::connect(server.addr()).unwrap();
    slow.write_all(b"GET /hello.txt HTTP/1.1\r\nHo").unwrap();
    read_reply(&mut slow, false)
        .unwrap()
        .expect_status(408, &format!("{what}: a trickled head"))
        .unwrap();
    slow.expect_eof().unwrap();
    let mut idle = Conn::connect(server.addr()).unwrap();
    assert!(idle.read_to_eof().unwrap().is_empty(), "{what}");
    server.stop().unwrap();
}

fn model_keeps_deadlines(model: Model) {
    let fixture = Fixture::create().unwrap();
    let server = common::serve_model(model, &fixture.root(), short_limits()).unwrap();
    expect_deadlines_kept(model.name(), server);
}

#[test]
fn timers_select_answers_408_and_closes_idle_connections() {
    model_keeps_deadlines(Model::Select);
}

#[test]
fn timers_poll_answers_408_and_closes_idle_connections() {
    model_keeps_deadlines(Model::Poll);
}

#[test]
fn timers_epoll_answers_408_and_closes_idle_connections() {
    model_keeps_deadlines(Model::Epoll);
}

#[test]
fn timers_async_answers_408_and_closes_idle_connections() {
    model_keeps_deadlines(Model::Async);
}

#[test]
fn timers_uring_answers_408_and_closes_idle_connections() {
    if common::runs_here(Model::Uring) {
        model_keeps_deadlines(Model::Uring);
    }
}

/// A head begun on a connection whose timer was armed for the long idle timeout: the header
/// timeout is shorter, so the timer in flight must be moved earlier (`IORING_TIMEOUT_UPDATE`),
/// or the 408 would wait for the idle timeout.
#[test]
fn timers_uring_moves_its_timer_earlier_when_a_head_begins() {
    if !common::runs_here(Model::Uring) {
        return;
    }
    let fixture = Fixture::create().unwrap();
    let limits = Limits {
        header_timeout: Duration::from_millis(300),
        idle_timeout: Duration::from_secs(60),
        write_timeout: Duration::from_secs(60),
    };
    let server = common::serve_model(Model::Uring, &fixture.root(), limits).unwrap();
    let mut slow = Conn::connect(server.addr()).unwrap();
    slow.set_step(Duration::from_secs(5)); // far under the idle timeout
    slow.write_all(b"GET /hello.txt HTTP/1.1\r\nHo").unwrap();
    read_reply(&mut slow, false)
        .unwrap()
        .expect_status(408, "a head that stopped, long before the idle timeout")
        .unwrap();
    server.stop().unwrap();
}

/// An io-models loop, given the factory as a trait object.
type Loop =
    fn(TcpListener, &Stop, &mut dyn FnMut(TcpStream) -> io::Result<HttpConn>) -> io::Result<()>;

/// The loops the HTTP server does not offer keep deadlines too: any protocol may have one.
#[test]
fn timers_every_other_loop_answers_408_and_closes_idle_connections() {
    let fixture = Fixture::create().unwrap();
    let root = common::open_root(&fixture.root()).unwrap();
    let loops: [(&str, Loop); 3] = [
        ("epoll_level", |l, s, f| {
            io_models::epoll_level::run_with(l, s, f)
        }),
        ("selectors", |l, s, f| {
            io_models::selectors::run_with(l, s, f)
        }),
        ("nonblocking", |l, s, f| {
            io_models::nonblocking::run_with(l, s, f)
        }),
    ];
    for (name, run) in loops {
        let root = Arc::clone(&root);
        let server = harness::serve(move |listener, stop| {
            run(listener, &stop, &mut |s| {
                HttpConn::new(s, Arc::clone(&root), short_limits())
            })
        });
        expect_deadlines_kept(name, server);
    }
}
