//! A graceful stop, on every backend: Ctrl-C stops accepting (a newcomer is refused), closes a
//! keep-alive connection waiting between requests, lets a download in flight go out to its
//! last byte, and exits 0 — within a bound (`--grace`) that a client who never reads cannot
//! stretch, and at once on a second Ctrl-C.
//!
//! The download is 8 MiB and its client stops reading after the first 64 KiB, with a small
//! receive buffer: the kernel holds at most a few MiB of it (the server's send buffer is
//! capped at 4 MiB, `net.ipv4.tcp_wmem`), so the response is still being written when the stop
//! comes, and stays so until the client reads again.

mod common;

use std::io::ErrorKind;
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use harness::http::Fixture;
use harness::http::client::get;
use harness::time::STEP;
use harness::{Conn, Deadline, ExampleProcess};
use http_server::Model;
use http_server::backends::Serving;
use nix::sys::signal::Signal;
use nix::sys::socket::{setsockopt, sockopt};

/// The size of `/big.bin`.
const BIG: usize = 8 << 20;
/// What the downloading client reads before the stop.
const FIRST: usize = 64 * 1024;

/// The bytes of `/big.bin`: a pattern whose period (251) is not a power of two, so a chunk
/// lost or repeated anywhere shows.
fn big_bin() -> Vec<u8> {
    (0..BIG).map(|i| (i % 251) as u8).collect()
}

/// The chapter's fixture, plus `/big.bin`.
fn fixture() -> Fixture {
    let fixture = Fixture::create().unwrap();
    std::fs::write(fixture.root().join("big.bin"), big_bin()).unwrap();
    fixture
}

/// A keep-alive connection that has had its answer and now waits between requests.
fn idle_connection(addr: SocketAddr) -> Conn {
    let mut idle = Conn::connect(addr).unwrap();
    get(&mut idle, "/hello.txt", "")
        .unwrap()
        .expect_status(200, "the keep-alive connection's request")
        .unwrap();
    idle
}

/// Asks for `/big.bin`, reads its head and the first [`FIRST`] bytes of the body, and stops
/// reading — with a small receive buffer, so little more than that fits on this side.
fn start_download(addr: SocketAddr) -> Conn {
    let mut download = Conn::connect(addr).unwrap();
    setsockopt(download.stream(), sockopt::RcvBuf, &(32 * 1024)).unwrap();
    download
        .write_all(b"GET /big.bin HTTP/1.1\r\nHost: graceful\r\n\r\n")
        .unwrap();
    let status = download.read_line().unwrap();
    assert!(status.starts_with("HTTP/1.1 200 "), "{status}");
    loop {
        let line = download.read_line().unwrap();
        if line == "\r" {
            break;
        }
        if let Some(length) = line.to_ascii_lowercase().strip_prefix("content-length: ") {
            assert_eq!(length.trim(), BIG.to_string(), "{line}");
        }
    }
    assert_eq!(download.read_exact(FIRST).unwrap(), big_bin()[..FIRST]);
    download
}

/// Waits until a new connection to `addr` is refused: the listener is closed.
fn expect_refused(addr: SocketAddr) {
    Deadline::after(
        STEP,
        format!("{addr} to refuse new connections after the stop"),
    )
    .poll(|| match TcpStream::connect(addr) {
        Err(e) if e.kind() == ErrorKind::ConnectionRefused => Some(()),
        _ => None,
    })
    .unwrap();
}

/// What follows the stop, on a server at `addr`: newcomers refused, the idle connection
/// closed, the download finished byte for byte, and then closed too.
fn expect_a_graceful_stop(addr: SocketAddr, idle: &mut Conn, download: &mut Conn) {
    expect_refused(addr);
    idle.expect_eof().unwrap();
    let rest = download.read_exact(BIG - FIRST).unwrap();
    let big = big_bin();
    if let Some(at) = (0..rest.len()).find(|&i| rest[i] != big[FIRST + i]) {
        panic!("the body differs from /big.bin at byte {}", FIRST + at);
    }
    download.expect_eof().unwrap();
}

/// The `http_server` example with `model` (and `extra`), serving `root`.
fn example(model: Model, root: &Path, extra: &[&str]) -> ExampleProcess {
    let mut args = vec!["--quiet"];
    args.extend_from_slice(extra);
    common::start_example(model, root, &args).unwrap()
}

/// Ctrl-C in the middle of a download: the download is finished, the rest is as above, exit 0
/// — as soon as nothing is in flight, not at the end of the grace period (a minute).
fn finishes_in_flight(model: Model, extra: &[&str]) {
    let fixture = fixture();
    let mut args = vec!["--grace", "60"];
    args.extend_from_slice(extra);
    let mut server = example(model, &fixture.root(), &args);
    let mut idle = idle_connection(server.addr());
    let mut download = start_download(server.addr());
    server.signal(Signal::SIGINT).unwrap();
    expect_a_graceful_stop(server.addr(), &mut idle, &mut download);
    let status = server.wait_within(STEP).unwrap();
    assert!(status.success(), "{status}: {}", server.stderr_text());
    let log = server.stderr_text();
    assert!(!log.contains("still busy"), "nothing was cut: {log}");
}

#[test]
fn http_stop_select_finishes_in_flight() {
    finishes_in_flight(Model::Select, &[]);
}

#[test]
fn http_stop_poll_finishes_in_flight() {
    finishes_in_flight(Model::Poll, &[]);
}

#[test]
fn http_stop_epoll_finishes_in_flight() {
    finishes_in_flight(Model::Epoll, &[]);
}

#[test]
fn http_stop_epoll_workers_finish_in_flight() {
    finishes_in_flight(Model::Epoll, &["--workers", "2"]);
}

#[test]
fn http_stop_async_finishes_in_flight() {
    finishes_in_flight(Model::Async, &[]);
}

#[test]
fn http_stop_uring_finishes_in_flight() {
    if common::runs_here(Model::Uring) {
        finishes_in_flight(Model::Uring, &[]);
    }
}

#[test]
fn http_stop_uring_workers_finish_in_flight() {
    if common::runs_here(Model::Uring) {
        finishes_in_flight(Model::Uring, &["--workers", "2"]);
    }
}

#[test]
fn http_stop_threads_finishes_in_flight() {
    finishes_in_flight(Model::Threads, &[]);
}

#[test]
fn http_stop_pool_finishes_in_flight() {
    finishes_in_flight(Model::Pool, &[]);
}

#[test]
fn http_stop_prefork_finishes_in_flight() {
    finishes_in_flight(Model::Prefork, &["--workers", "2"]);
}

/// A client that never reads again holds the stop for the grace period, not longer: the
/// server waits that long for it, then cuts it, says so, and exits 0.
fn is_bounded(model: Model) {
    let fixture = fixture();
    let grace = Duration::from_millis(500);
    let mut server = example(model, &fixture.root(), &["--grace", "0.5"]);
    let _stalled = start_download(server.addr());
    let stopped = Instant::now();
    server.signal(Signal::SIGINT).unwrap();
    let status = server.wait_within(STEP).unwrap();
    let waited = stopped.elapsed();
    let log = server.stderr_text();
    assert!(status.success(), "{status}: {log}");
    assert!(
        waited >= grace,
        "the server exited {waited:?} after Ctrl-C: it did not wait for the response in flight"
    );
    assert!(log.contains("grace period is over"), "{log}");
    assert!(log.contains("still busy"), "the cut is logged: {log}");
}

#[test]
fn http_stop_select_is_bounded() {
    is_bounded(Model::Select);
}

#[test]
fn http_stop_poll_is_bounded() {
    is_bounded(Model::Poll);
}

#[test]
fn http_stop_epoll_is_bounded() {
    is_bounded(Model::Epoll);
}

#[test]
fn http_stop_async_is_bounded() {
    is_bounded(Model::Async);
}

#[test]
fn http_stop_uring_is_bounded() {
    if common::runs_here(Model::Uring) {
        is_bounded(Model::Uring);
    }
}

#[test]
fn http_stop_threads_is_bounded() {
    is_bounded(Model::Threads);
}

#[test]
fn http_stop_pool_is_bounded() {
    is_bounded(Model::Pool);
}

#[test]
fn http_stop_prefork_is_bounded() {
    is_bounded(Model::Prefork);
}

/// A second Ctrl-C during the drain ends it at once, though the grace period is a minute.
fn second_ctrl_c_cuts(model: Model, extra: &[&str]) {
    let fixture = fixture();
    let mut args = vec!["--grace", "60"];
    args.extend_from_slice(extra);
    let mut server = example(model, &fixture.root(), &args);
    let _stalled = start_download(server.addr());
    server.signal(Signal::SIGINT).unwrap();
    server
        .expect_stderr("stopping: no longer accepting", STEP)
        .unwrap();
    server.signal(Signal::SIGINT).unwrap();
    let status = server.wait_within(STEP).unwrap();
    let log = server.stderr_text();
    assert!(status.success(), "{status}: {log}");
    assert!(log.contains("stopped at once (a second stop)"), "{log}");
}

#[test]
fn http_stop_select_second_ctrl_c_cuts() {
    second_ctrl_c_cuts(Model::Select, &[]);
}

#[test]
fn http_stop_poll_second_ctrl_c_cuts() {
    second_ctrl_c_cuts(Model::Poll, &[]);
}

#[test]
fn http_stop_epoll_second_ctrl_c_cuts() {
    second_ctrl_c_cuts(Model::Epoll, &[]);
}

#[test]
fn http_stop_epoll_workers_second_ctrl_c_cuts() {
    second_ctrl_c_cuts(Model::Epoll, &["--workers", "2"]);
}

#[test]
fn http_stop_async_second_ctrl_c_cuts() {
    second_ctrl_c_cuts(Model::Async, &[]);
}

#[test]
fn http_stop_uring_second_ctrl_c_cuts() {
    if common::runs_here(Model::Uring) {
        second_ctrl_c_cuts(Model::Uring, &[]);
    }
}

#[test]
fn http_stop_threads_second_ctrl_c_cuts() {
    second_ctrl_c_cuts(Model::Threads, &[]);
}

#[test]
fn http_stop_pool_second_ctrl_c_cuts() {
    second_ctrl_c_cuts(Model::Pool, &[]);
}

#[test]
fn http_stop_prefork_second_ctrl_c_cuts() {
    second_ctrl_c_cuts(Model::Prefork, &[]);
}

/// The io-models loops no backend uses, in this process: the same stop, through `Stop::stop`.
fn loop_finishes_in_flight(
    run: fn(std::net::TcpListener, &netkit::Stop, &Serving) -> std::io::Result<()>,
) {
    let fixture = fixture();
    let serving = Serving::new(http_server::Site::new(
        common::open_root(&fixture.root()).unwrap(),
    ));
    let server = harness::serve(move |listener, stop| run(listener, &stop, &serving));
    let mut idle = idle_connection(server.addr());
    let mut download = start_download(server.addr());
    server.request_stop();
    expect_a_graceful_stop(server.addr(), &mut idle, &mut download);
    server.stop().unwrap();
}

#[test]
fn http_stop_epoll_level_loop_finishes_in_flight() {
    loop_finishes_in_flight(|listener, stop, serving| {
        io_models::epoll_level::run_with(listener, stop, |s| serving.connection(s))
    });
}

#[test]
fn http_stop_selectors_loop_finishes_in_flight() {
    loop_finishes_in_flight(|listener, stop, serving| {
        io_models::selectors::run_with(listener, stop, |s| serving.connection(s))
    });
}

#[test]
fn http_stop_nonblocking_loop_finishes_in_flight() {
    loop_finishes_in_flight(|listener, stop, serving| {
        io_models::nonblocking::run_with(listener, stop, |s| serving.connection(s))
    });
}
