//! The connection's bounds: 408 for a head that does not arrive in time, a silent close for an
//! idle connection, 413 and 411 for bodies that are refused, and the copy fallback of sendfile.

mod common;

use std::io::Write;
use std::time::Duration;

use harness::http::client::{exchange, get, read_reply};
use harness::http::{Fixture, data_bin};
use harness::time::STEP;
use harness::{Conn, Deadline, InProcessServer};
use http_server::blocking::write_file_range;
use http_server::{Limits, Model, Site};

fn short(header: u64, idle: u64) -> Limits {
    Limits {
        header_timeout: Duration::from_millis(header),
        idle_timeout: Duration::from_millis(idle),
        write_timeout: Duration::from_secs(10),
    }
}

#[test]
fn a_head_that_does_not_arrive_in_time_gets_408_and_an_idle_connection_is_closed() {
    let fixture = Fixture::create().unwrap();
    let server = common::serve_root(&fixture.root(), short(300, 300)).unwrap();
    let mut slow = Conn::connect(server.addr()).unwrap();
    slow.write_all(b"GET /hello.txt HTTP/1.1\r\nHo").unwrap();
    read_reply(&mut slow, false)
        .unwrap()
        .expect_status(408, "a trickled head")
        .unwrap();
    slow.expect_eof().unwrap();
    let mut idle = Conn::connect(server.addr()).unwrap();
    // Nothing sent: the server closes without a word (no 408 for a request never begun).
    assert!(idle.read_to_eof().unwrap().is_empty());
    server.stop().unwrap();
}

#[test]
fn bodies_are_discarded_or_refused_and_the_connection_closed() {
    let fixture = Fixture::create().unwrap();
    let server = common::serve_root(&fixture.root(), Limits::default()).unwrap();
    let mut conn = Conn::connect(server.addr()).unwrap();
    let small = format!(
        "POST /hello.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n{}",
        "x".repeat(10)
    );
    exchange(&mut conn, &small, false)
        .unwrap()
        .expect_status(405, "a small body")
        .unwrap();
    exchange(
        &mut conn,
        "GET /missing HTTP/1.1\r\nHost: t\r\n\r\n",
        false,
    )
    .unwrap()
    .expect_status(404, "the request after a discarded body (a missing file: this test does not depend on how files are answered)")
    .unwrap();
    server.stop().unwrap();
}

#[test]
fn smuggling_large_and_chunked_bodies_are_refused_and_the_connection_closed() {
    let fixture = Fixture::create().unwrap();
    let server = common::serve_root(&fixture.root(), Limits::default()).unwrap();
    let refused = [
        (
            "GET /hello.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 70000\r\n\r\n",
            413,
        ),
        (
            "GET /hello.txt HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            411,
        ),
    ];
    for (raw, status) in refused {
        let mut conn = Conn::connect(server.addr()).unwrap();
        exchange(&mut conn, raw, false)
            .unwrap()
            .expect_status(status, raw)
            .unwrap();
        conn.expect_eof().unwrap();
    }
    server.stop().unwrap();
}

#[test]
fn the_copy_fallback_sends_exactly_the_range() {
    let fixture = Fixture::create().unwrap();
    let file = std::fs::File::open(fixture.root().join("data.bin")).unwrap();
    let mut out = Vec::new();
    write_file_range(&mut out, &file, 70_000, 30_000).unwrap();
    assert_eq!(out, data_bin()[70_000..]);
    let error = write_file_range(&mut out, &file, 90_000, 20_000).unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::UnexpectedEof);
    out.flush().unwrap();
}

/// With room for two connections, a third is answered 503 (with Retry-After) and closed while
/// the two are still open; once one of them closes, a newcomer is served again. (The requests
/// are for a missing file: a 404 is served as surely as a file, without going through the
/// conditional-request exercise.)
fn bounds_connections(what: &str, server: InProcessServer) {
    let mut first = Conn::connect(server.addr()).unwrap();
    let mut second = Conn::connect(server.addr()).unwrap();
    for conn in [&mut first, &mut second] {
        get(conn, "/missing", "")
            .unwrap()
            .expect_status(404, "within the bound")
            .unwrap();
    }
    let mut third = Conn::connect(server.addr()).unwrap();
    let refused = get(&mut third, "/missing", "").unwrap();
    refused
        .expect_status(503, &format!("{what}: over the bound"))
        .unwrap();
    assert_eq!(refused.field("retry-after"), Some("1"), "{what}");
    third.expect_eof().unwrap();
    drop(first);
    // The server sees the close only when it next reads that connection: retry until then.
    let newcomer = Deadline::after(STEP, format!("{what}: a newcomer served after one left"));
    newcomer
        .poll(|| {
            let mut conn = Conn::connect(server.addr()).ok()?;
            let reply = get(&mut conn, "/missing", "").ok()?;
            (reply.status == 404).then_some(())
        })
        .unwrap();
    get(&mut second, "/missing", "")
        .unwrap()
        .expect_status(404, "still open")
        .unwrap();
    server.stop().unwrap();
}

/// Room for two connections.
fn site_of_two(fixture: &Fixture) -> Site {
    Site {
        max_connections: 2,
        ..Site::new(common::open_root(&fixture.root()).unwrap())
    }
}

#[test]
fn bound_threads_answers_503_over_max_connections() {
    let fixture = Fixture::create().unwrap();
    let server = common::serve_site(Model::Threads, site_of_two(&fixture));
    bounds_connections("threads", server);
}

#[test]
fn bound_uring_answers_503_over_max_connections() {
    if common::runs_here(Model::Uring) {
        let fixture = Fixture::create().unwrap();
        let server = common::serve_site(Model::Uring, site_of_two(&fixture));
        bounds_connections("uring", server);
    }
}

#[test]
fn bound_event_loop_answers_503_over_max_connections() {
    let fixture = Fixture::create().unwrap();
    let server = common::serve_site_on_event_loop(site_of_two(&fixture));
    bounds_connections("epoll (level-triggered)", server);
}
