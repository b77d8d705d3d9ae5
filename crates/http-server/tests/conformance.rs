//! The blocking handler and the non-blocking connection pass the HTTP conformance suite, and the suite fails a deliberately
//! broken server for each of its checks (a check that cannot fail proves nothing).

mod common;

use std::io::{self, Read};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use harness::http::{self, CHECKS};
use http_server::blocking::{Limits, drive, send_response};
use http_server::request::{HeadParser, Progress, RequestHead};
use http_server::resolve::{Resolution, Root, segments};
use http_server::response::{Reply, Response, respond};
use http_server::session::{Planner, Session};
use http_server::{Body, Model, Status};

/// A connection handler of a test server.
type Handler = fn(TcpStream, &Arc<Root>) -> io::Result<()>;

/// Short deadlines: the broken servers are expected to fail.
const STEP: Duration = Duration::from_secs(3);

/// Every driver passes `check`: the blocking handler on a thread per connection, the
/// non-blocking `HttpConn` on io-models' level-triggered epoll loop, and the completion-driven
/// connection of the `uring` backend. One test per check, so that
/// each test depends only on the parts of the core its check exercises (and an exercise is
/// graded by the checks it moves). Every model passes the whole suite as the example, in
/// tests/example.rs.
fn conforms(check: &str) {
    http::assert_check(check, |root| common::serve_root(root, Limits::default()));
    http::assert_check(check, |root| {
        common::serve_event_loop(root, Limits::default())
    });
    if common::runs_here(Model::Uring) {
        http::assert_check(check, |root| {
            common::serve_model(Model::Uring, root, Limits::default())
        });
    }
}

#[test]
fn conformance_get_file() {
    conforms(http::GET_FILE);
}

#[test]
fn conformance_head() {
    conforms(http::HEAD);
}

#[test]
fn conformance_not_found() {
    conforms(http::NOT_FOUND);
}

#[test]
fn conformance_method() {
    conforms(http::METHOD);
}

#[test]
fn conformance_keep_alive() {
    conforms(http::KEEP_ALIVE);
}

#[test]
fn conformance_pipeline() {
    conforms(http::PIPELINE);
}

#[test]
fn conformance_conditional() {
    conforms(http::CONDITIONAL);
}

#[test]
fn conformance_range() {
    conforms(http::RANGE);
}

#[test]
fn conformance_directory() {
    conforms(http::DIRECTORY);
}

#[test]
fn conformance_malformed() {
    conforms(http::MALFORMED);
}

#[test]
fn conformance_smuggling() {
    conforms(http::SMUGGLING);
}

#[test]
fn conformance_traversal() {
    conforms(http::TRAVERSAL);
}

#[test]
fn conformance_symlinks() {
    conforms(http::SYMLINKS);
}

/// `check` against the real driver, answering with `planner`.
fn with_planner(check: &str, planner: Planner) -> harness::Report {
    http::run_only(STEP, &[check], |root| {
        let root = common::open_root(root)?;
        Ok(common::serve_with(root, move |stream, root| {
            drive(
                stream,
                Session::with_planner(Arc::clone(root), planner),
                &Limits::default(),
            )
        }))
    })
}

/// `check` against a hand-rolled loop `handle` (for faults the planner cannot make).
fn with_loop(check: &str, handle: Handler) -> harness::Report {
    http::run_only(STEP, &[check], |root| {
        Ok(common::serve_with(common::open_root(root)?, handle))
    })
}

fn assert_fails(report: &harness::Report, check: &str) {
    assert!(
        report.failed().contains(&check),
        "{check} should have failed:\n{report}"
    );
    assert!(report.to_string().contains(&format!("FAIL  {check}")));
}

/// `response` with the header line starting `name:` removed.
fn without_field(mut response: Response, name: &str) -> Response {
    let text = String::from_utf8_lossy(&response.head).into_owned();
    let kept: Vec<&str> = text
        .split("\r\n")
        .filter(|l| !l.starts_with(name))
        .collect();
    response.head = kept.join("\r\n").into_bytes();
    response
}

/// `request` with the fields named `name` removed (a server that does not know them).
fn ignoring(request: &RequestHead, name: &str) -> RequestHead {
    let mut request = request.clone();
    request
        .fields
        .retain(|f| !f.name.eq_ignore_ascii_case(name));
    request
}

#[test]
fn the_suite_has_a_broken_server_for_each_check() {
    let planned: [(&str, Planner); 8] = [
        (http::GET_FILE, |root, req, reply| {
            without_field(respond(root, req, reply), "Content-Type")
        }),
        (http::HEAD, |root, req, reply| {
            let mut response = respond(root, req, reply);
            if req.method == "HEAD" {
                let as_get = Reply {
                    head_only: false,
                    ..*reply
                };
                response.body = respond(root, req, &as_get).body; // the bug: HEAD sends the body
            }
            response
        }),
        (http::NOT_FOUND, |root, req, reply| {
            let mut response = respond(root, req, reply);
            if response.status == Status::NotFound {
                let head =
                    String::from_utf8_lossy(&response.head).replace("404 Not Found", "200 OK");
                response.head = head.into_bytes(); // the bug: the error page sent as a success
            }
            response
        }),
        (http::METHOD, |root, req, reply| {
            without_field(respond(root, req, reply), "Allow")
        }),
        (http::KEEP_ALIVE, |root, req, reply| {
            let closing = Reply {
                close: true,
                ..*reply
            }; // the bug: close after every response
            respond(root, req, &closing)
        }),
        (http::CONDITIONAL, |root, req, reply| {
            respond(root, &ignoring(req, "if-none-match"), reply)
        }),
        (http::RANGE, |root, req, reply| {
            respond(root, &ignoring(req, "if-range"), reply)
        }),
        (http::DIRECTORY, |root, req, reply| {
            let response = respond(root, req, reply);
            if response.status != Status::MovedPermanently {
                return response;
            }
            let slashed = RequestHead {
                target: format!("{}/", req.target),
                ..req.clone()
            };
            respond(root, &slashed, reply) // the bug: a listing at the wrong base URL
        }),
    ];
    let mut covered = Vec::new();
    // Each broken server against its own check only, all at once: a check that fails waits out
    // its deadline, and thirteen of those in a row would be most of the suite's time.
    std::thread::scope(|scope| {
        for (check, planner) in planned {
            scope.spawn(move || assert_fails(&with_planner(check, planner), check));
            covered.push(check);
        }
    });
    let looped: [(&str, Handler); 5] = [
        (http::PIPELINE, one_read_is_one_request),
        (http::MALFORMED, every_error_is_400),
        (http::SMUGGLING, bodies_are_requests),
        (http::TRAVERSAL, root_plus_path),
        (http::SYMLINKS, confined_by_string_only),
    ];
    std::thread::scope(|scope| {
        for (check, handle) in looped {
            scope.spawn(move || assert_fails(&with_loop(check, handle), check));
            covered.push(check);
        }
    });
    covered.sort_unstable();
    let mut all = CHECKS.to_vec();
    all.sort_unstable();
    assert_eq!(covered, all, "every check has its broken server");
}

/// Reads once; `None` at end of stream.
fn read_some(stream: &mut TcpStream, buf: &mut [u8]) -> io::Result<Option<usize>> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    match stream.read(buf)? {
        0 => Ok(None),
        n => Ok(Some(n)),
    }
}

/// Broken like seed 003: whatever one `read` returned is one request; the rest is dropped.
fn one_read_is_one_request(mut stream: TcpStream, root: &Arc<Root>) -> io::Result<()> {
    let mut buf = [0u8; 64 * 1024];
    while let Some(n) = read_some(&mut stream, &mut buf)? {
        let mut session = Session::new(Arc::clone(root));
        session.receive(&buf[..n]);
        if let http_server::session::Next::Send(response) = session.next(SystemTime::now()) {
            send_response(&stream, response)?;
        }
    }
    Ok(())
}

/// A loop over heads that ignores bodies; `on_error` answers a refused head.
fn head_loop(
    mut stream: TcpStream,
    root: &Root,
    plan: impl Fn(&Root, &RequestHead, &Reply) -> Response,
    on_error: fn(Status) -> Status,
) -> io::Result<()> {
    let mut buf = [0u8; 64 * 1024];
    let mut pending: Vec<u8> = Vec::new();
    loop {
        let mut parser = HeadParser::new();
        let progress = parser.feed(&pending);
        match progress {
            Ok(Progress::Complete { head, used }) => {
                pending.drain(..used); // the bug shared by these loops: a body stays in `pending`
                let reply = Reply::to(&head, SystemTime::now());
                send_response(&stream, plan(root, &head, &reply))?;
            }
            Ok(Progress::NeedMore) => match read_some(&mut stream, &mut buf)? {
                Some(n) => pending.extend_from_slice(&buf[..n]),
                None => return Ok(()),
            },
            Err(e) => {
                let reply = Reply::closing(SystemTime::now());
                return send_response(&stream, reply.error(on_error(e.status), e.reason, vec![]));
            }
        }
    }
}

fn every_error_is_400(stream: TcpStream, root: &Arc<Root>) -> io::Result<()> {
    head_loop(stream, root, respond, |_| Status::BadRequest)
}

fn bodies_are_requests(stream: TcpStream, root: &Arc<Root>) -> io::Result<()> {
    head_loop(stream, root, respond, |status| status)
}

/// Broken like seed 003: the decoded path appended to the root and opened.
fn root_plus_path(stream: TcpStream, root: &Arc<Root>) -> io::Result<()> {
    head_loop(
        stream,
        root,
        |root, head, reply| {
            let decoded =
                http_server::resolve::percent_decode(head.target.as_bytes()).unwrap_or_default();
            let path = root
                .path()
                .join(String::from_utf8_lossy(&decoded).trim_start_matches('/'));
            match std::fs::read(path) {
                Ok(bytes) => plain_ok(reply, bytes),
                Err(_) => reply.error(Status::NotFound, "not here", vec![]),
            }
        },
        |status| status,
    )
}

/// Broken subtly: `.` and `..` resolved on the string, then `open` follows any symlink.
fn confined_by_string_only(stream: TcpStream, root: &Arc<Root>) -> io::Result<()> {
    head_loop(
        stream,
        root,
        |root, head, reply| {
            let kept = match segments(head.target.split('?').next().unwrap_or("/")) {
                Ok(kept) => kept,
                Err((status, reason)) => return reply.error(status, reason, vec![]),
            };
            let mut path = root.path().to_path_buf();
            kept.iter()
                .for_each(|s| path.push(String::from_utf8_lossy(s).as_ref()));
            if path.is_dir() {
                return match http_server::resolve::resolve(root, &head.target, None) {
                    Resolution::Refused(status, reason) => reply.error(status, reason, vec![]),
                    _ => plain_ok(reply, b"a directory".to_vec()),
                };
            }
            match std::fs::read(path) {
                Ok(bytes) => plain_ok(reply, bytes),
                Err(_) => reply.error(Status::NotFound, "not here", vec![]),
            }
        },
        |status| status,
    )
}

fn plain_ok(reply: &Reply, bytes: Vec<u8>) -> Response {
    let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", bytes.len());
    Response {
        status: Status::Ok,
        head: head.into_bytes(),
        body: Body::Bytes(bytes),
        close: reply.close,
    }
}
