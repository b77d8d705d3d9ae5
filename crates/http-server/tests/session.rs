//! The session without a socket: bytes in, responses out, in order — the core every driver
//! shares, tested as plain data.

use std::sync::Arc;
use std::time::SystemTime;

use harness::http::Fixture;
use http_server::Root;
use http_server::Status;
use http_server::session::{Next, Session};

fn session(fixture: &Fixture) -> Session {
    Session::new(Arc::new(Root::open(&fixture.root()).unwrap()))
}

/// The statuses of everything the session answers now, and whether it then waits or is done.
fn drain(session: &mut Session) -> (Vec<u16>, &'static str) {
    let mut statuses = Vec::new();
    loop {
        match session.next(SystemTime::now()) {
            Next::Send(response) => statuses.push(response.status.code()),
            Next::NeedInput => return (statuses, "needs input"),
            Next::Done => return (statuses, "done"),
        }
    }
}

#[test]
fn pipelined_requests_come_out_one_at_a_time_in_order() {
    let fixture = Fixture::create().unwrap();
    let mut s = session(&fixture);
    s.receive(
        b"GET /missing HTTP/1.1\r\nHost: t\r\n\r\nPOST / HTTP/1.1\r\nHost: t\r\n\r\nGET /list",
    );
    assert_eq!(drain(&mut s), (vec![404, 405], "needs input"));
    assert!(s.mid_request(), "half a request is under way");
    s.receive(b"ing HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(drain(&mut s), (vec![301], "needs input"));
    assert!(!s.mid_request());
}

#[test]
fn a_body_split_across_reads_is_skipped_not_parsed() {
    let fixture = Fixture::create().unwrap();
    let mut s = session(&fixture);
    s.receive(
        b"POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 34\r\n\r\nGET /listing HTTP/1.1\r\n",
    );
    assert_eq!(drain(&mut s), (vec![405], "needs input"));
    assert!(s.mid_request(), "the rest of the body is still to come");
    s.receive(b"Host: t\r\n\r\nGET /missing HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(drain(&mut s), (vec![404], "needs input"));
}

#[test]
fn smuggling_refused_bodies_end_the_conversation() {
    let fixture = Fixture::create().unwrap();
    let cases: [(&[u8], u16); 4] = [
        (
            b"GET /missing HTTP/1.1\r\nHost: t\r\nContent-Length: 65537\r\n\r\n",
            413,
        ),
        (
            b"GET /missing HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n",
            411,
        ),
        (
            b"POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n",
            405,
        ),
        (
            b"GET /missing HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            400,
        ),
    ];
    for (raw, status) in cases {
        let mut s = session(&fixture);
        s.receive(raw);
        s.receive(b"GET /missing HTTP/1.1\r\nHost: t\r\n\r\n");
        assert_eq!(
            drain(&mut s),
            (vec![status], "done"),
            "{}",
            raw.escape_ascii()
        );
        assert!(s.is_finished());
    }
}

#[test]
fn a_timeout_is_408_mid_request_and_silence_between_requests() {
    let fixture = Fixture::create().unwrap();
    let mut s = session(&fixture);
    s.receive(b"GET /missing HTT");
    assert_eq!(drain(&mut s), (vec![], "needs input"));
    let response = s.timed_out(SystemTime::now()).expect("a 408");
    assert_eq!(response.status, Status::RequestTimeout);
    assert!(response.close);
    let mut idle = session(&fixture);
    assert!(idle.timed_out(SystemTime::now()).is_none());
    assert_eq!(drain(&mut idle), (vec![], "done"));
}
