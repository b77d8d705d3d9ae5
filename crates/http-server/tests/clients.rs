//! Real clients: wrk against the event loops; curl (`-I`, `-r`, `--http1.0`, `--path-as-is`,
//! connection reuse) and Python's `http.client` against the blocking handler. Each client runs
//! under its own time limit.

mod common;

use std::process::{Command, Output};

use harness::http::{Fixture, HELLO, SECRET};
use http_server::{Limits, Model};

fn run(program: &str, args: &[&str]) -> Output {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program} (is it installed?): {e}"));
    assert!(
        output.status.success(),
        "{program} {args:?} failed: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn curl(args: &[&str]) -> (String, String) {
    let mut all = vec!["--silent", "--show-error", "--max-time", "10"];
    all.extend_from_slice(args);
    let output = run("curl", &all);
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (text(&output.stdout), text(&output.stderr))
}

#[test]
fn clients_curl_head_range_http10_and_reuse() {
    let fixture = Fixture::create().unwrap();
    let server = common::serve_root(&fixture.root(), Limits::default()).unwrap();
    let url = format!("http://{}/hello.txt", server.addr());

    let (head, _) = curl(&["-I", &url]);
    for line in [
        "HTTP/1.1 200 OK",
        "Content-Length: 12",
        "Accept-Ranges: bytes",
        "ETag: \"",
    ] {
        assert!(head.contains(line), "curl -I lacks {line:?}:\n{head}");
    }
    assert_eq!(curl(&["-r", "0-4", &url]).0, "hello");
    assert_eq!(curl(&["-r", "-3", &url]).0, "tp\n");
    let (old, _) = curl(&["--http1.0", "-i", &url]);
    assert!(
        old.starts_with("HTTP/1.1 200 OK") && old.ends_with(HELLO),
        "{old}"
    );
    assert!(old.contains("Connection: close"), "{old}");

    let (both, log) = curl(&["-v", &url, &url]);
    assert_eq!(both, format!("{HELLO}{HELLO}"));
    assert!(
        log.contains("Re-using existing connection"),
        "no keep-alive reuse:\n{log}"
    );
    server.stop().unwrap();
}

#[test]
fn curl_path_as_is_stays_in_the_root() {
    let fixture = Fixture::create().unwrap();
    let server = common::serve_root(&fixture.root(), Limits::default()).unwrap();
    for path in [
        "/../secret.txt",
        "/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/outside-link",
    ] {
        let url = format!("http://{}{path}", server.addr());
        let (body, _) = curl(&["--path-as-is", "-w", "\n%{http_code}", &url]);
        assert!(body.ends_with("\n404"), "{path}: {body}");
        assert!(!body.contains(SECRET), "{path} leaked the secret");
    }
    server.stop().unwrap();
}

#[test]
fn clients_python_http_client_keeps_the_connection_and_revalidates() {
    let fixture = Fixture::create().unwrap();
    let server = common::serve_root(&fixture.root(), Limits::default()).unwrap();
    let script = r#"
import http.client, sys
conn = http.client.HTTPConnection(sys.argv[1], int(sys.argv[2]), timeout=10)
conn.request("GET", "/hello.txt")
first = conn.getresponse()
body = first.read()
assert first.status == 200 and body == b"hello, http\n", (first.status, body)
etag = first.getheader("ETag")
sock = conn.sock
conn.request("GET", "/hello.txt", headers={"If-None-Match": etag})
second = conn.getresponse()
assert second.status == 304 and second.read() == b"", second.status
assert conn.sock is sock, "the connection was not kept"
conn.request("GET", "/data.bin", headers={"Range": "bytes=10-19"})
third = conn.getresponse()
assert third.status == 206 and len(third.read()) == 10, third.status
print("ok")
"#;
    let addr = server.addr();
    let output = run(
        "python3",
        &[
            "-c",
            script,
            &addr.ip().to_string(),
            &addr.port().to_string(),
        ],
    );
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "ok");
    server.stop().unwrap();
}

#[test]
fn wrk_loads_the_event_loops_without_an_error() {
    let fixture = Fixture::create().unwrap();
    let uring = common::runs_here(Model::Uring).then_some(Model::Uring);
    for model in [Model::Epoll, Model::Async].into_iter().chain(uring) {
        let server = common::serve_model(model, &fixture.root(), Limits::default()).unwrap();
        let url = format!("http://{}/hello.txt", server.addr());
        let output = run("wrk", &["-t1", "-c20", "-d1s", "--timeout", "5s", &url]);
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(
            !text.contains("Non-2xx") && !text.contains("Socket errors"),
            "{model}: wrk saw errors:\n{text}"
        );
        let requests: u64 = text
            .lines()
            .find_map(|l| {
                l.trim()
                    .split_once(" requests in ")
                    .map(|(n, _)| n.to_string())
            })
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{model}: no request count in wrk's output:\n{text}"));
        assert!(
            requests > 100,
            "{model}: only {requests} requests in a second:\n{text}"
        );
        server.stop().unwrap();
    }
}
