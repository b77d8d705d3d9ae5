//! The crawler against real servers: every model finds exactly every page of a generated site
//! of 1,000 linked pages served by this chapter's server, stays on its host, counts the broken
//! links; survives a peer that stalls, resets or closes; and the `crawl` example prints its
//! summary against the `http_server` example.

mod common;

use common::site::{PAGES, file, generate};

use std::collections::BTreeSet;
use std::fs;
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::time::Duration;

use harness::time::{STEP, scaled, within};
use harness::{ExampleProcess, Result};
use http_server::Limits;
use http_server::crawl::{self, Model, Options, Outcome, Report, Target};
use netkit::Stop;

/// Crawls `url` with `model`, under a deadline.
fn crawl_within(model: Model, url: &str, options: Options) -> Report {
    let target = Target::parse(url).unwrap();
    within(
        STEP * 3,
        &format!("the {model} crawl of {url}"),
        move || crawl::crawl(model, &target, &options, &Stop::new().unwrap()).unwrap(),
    )
}

fn finds_every_page(model: Model) {
    let dir = tempfile::tempdir().unwrap();
    let server = common::serve_event_loop(dir.path(), Limits::default()).unwrap();
    let authority = server.addr().to_string();
    let (pages, broken) = generate(dir.path(), &authority);
    let options = Options {
        conns: 8,
        ..Options::default()
    };
    let report = crawl_within(model, &format!("http://{authority}/"), options);
    let found: BTreeSet<String> = report
        .outcomes
        .iter()
        .filter(|(_, outcome)| outcome.is_page())
        .map(|(path, _)| path.clone())
        .collect();
    assert_eq!(found, pages, "{model}: the pages found are not the site's");
    let errors: BTreeSet<String> = report.errors().map(|(path, _)| path.clone()).collect();
    assert_eq!(
        errors, broken,
        "{model}: the errors are not the broken links"
    );
    assert!(report.errors().all(|(_, o)| *o == Outcome::Status(404)));
    assert_eq!(report.pages(), PAGES);
    let site_bytes: u64 = (0..PAGES)
        .map(|i| fs::metadata(file(dir.path(), i)).unwrap().len())
        .sum();
    assert!(report.bytes > site_bytes, "{model}: {} bytes", report.bytes);
    // Several requests were in flight at once, on at most 8 connections kept alive.
    assert!(report.peak_in_flight > 1, "{model}: one request at a time");
    assert!(
        (1..=8).contains(&report.connections),
        "{model}: {} connections",
        report.connections
    );
    server.stop().unwrap();
}

#[test]
fn crawl_site_threads_finds_every_page() {
    finds_every_page(Model::Threads);
}

#[test]
fn crawl_site_callbacks_finds_every_page() {
    finds_every_page(Model::Callbacks);
}

#[test]
fn async_crawl_finds_every_page() {
    finds_every_page(Model::Async);
}

/// Reads one request head from `stream`: its path, or `None` at end of stream.
fn read_request(stream: &mut TcpStream) -> io::Result<Option<String>> {
    let mut head = Vec::new();
    let mut byte = [0u8];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte)? == 0 {
            return Ok(None);
        }
        head.push(byte[0]);
    }
    let line = String::from_utf8_lossy(&head).into_owned();
    Ok(line.split(' ').nth(1).map(str::to_string))
}

/// A peer with faults, one per path: `/slow` never answers, `/reset` resets the connection,
/// `/close` answers and closes, `/half` sends half a body and closes; `/` links to them all
/// and to `/fast`, which is fine.
fn faulty_peer(mut stream: TcpStream) -> io::Result<()> {
    let ok = |close: bool, kind: &str, body: &str| {
        let connection = if close { "Connection: close\r\n" } else { "" };
        format!(
            "HTTP/1.1 200 OK\r\n{connection}Content-Type: {kind}\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    while let Some(path) = read_request(&mut stream)? {
        match path.as_str() {
            "/" => {
                let links = "<a href=slow>s</a><a href=reset>r</a><a href=half>h</a><a href=close>c</a><a href=fast>f</a>";
                stream.write_all(ok(false, "text/html", links).as_bytes())?;
            }
            "/fast" => stream.write_all(ok(false, "text/plain", "fast").as_bytes())?,
            "/close" => {
                stream.write_all(ok(true, "text/plain", "closing").as_bytes())?;
                return Ok(());
            }
            "/half" => {
                let answer = ok(false, "text/plain", "a body of some length");
                stream.write_all(&answer.as_bytes()[..answer.len() - 5])?;
                return Ok(());
            }
            "/reset" => {
                let linger = nix::libc::linger {
                    l_onoff: 1,
                    l_linger: 0,
                };
                nix::sys::socket::setsockopt(
                    &stream.as_fd(),
                    nix::sys::socket::sockopt::Linger,
                    &linger,
                )?;
                return Ok(()); // closing with SO_LINGER 0 sends a reset
            }
            _ => {} // `/slow`: read on, never answer
        }
    }
    Ok(())
}

/// One connection, a short timeout: each fault fails its page only, and the crawl goes on
/// with a new connection after each.
fn survives_faults(model: Model) {
    let server = harness::serve_each(faulty_peer);
    let options = Options {
        conns: 1,
        timeout: scaled(Duration::from_millis(500)),
        ..Options::default()
    };
    let report = crawl_within(model, &format!("http://{}/", server.addr()), options);
    let outcome = |path: &str| report.outcomes.get(path).cloned();
    for page in ["/", "/fast", "/close"] {
        assert_eq!(outcome(page), Some(Outcome::Status(200)), "{model}: {page}");
    }
    assert_eq!(
        outcome("/slow"),
        Some(Outcome::Failed("timed out".into())),
        "{model}"
    );
    for fault in ["/reset", "/half"] {
        assert!(
            matches!(outcome(fault), Some(Outcome::Failed(why)) if why != "timed out"),
            "{model}: {fault}: {:?}",
            outcome(fault)
        );
    }
    assert_eq!((report.pages(), report.errors().count()), (3, 3), "{model}");
    // `/` and `/slow` on the first connection (kept alive); a new one after each fault and
    // after `/close`: `/reset`, `/half`, `/close`, `/fast`.
    assert_eq!(report.connections, 5, "{model}");
    server.stop().unwrap();
}

#[test]
fn crawl_peer_faults_threads() {
    survives_faults(Model::Threads);
}

#[test]
fn crawl_peer_faults_callbacks() {
    survives_faults(Model::Callbacks);
}

#[test]
fn async_crawl_survives_peer_faults() {
    survives_faults(Model::Async);
}

#[test]
fn every_crawler_counts_a_refused_connection_as_one_error() {
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap(); // closed now
    for model in Model::ALL {
        let report = crawl_within(model, &format!("http://{addr}/"), Options::default());
        let errors: Vec<_> = report.errors().collect();
        assert_eq!(errors.len(), 1, "{model}: {errors:?}");
        assert!(
            matches!(errors[0].1, Outcome::Failed(why) if why.contains("refused")),
            "{model}: {errors:?}"
        );
    }
}

#[test]
fn crawl_targets_are_http_urls() {
    let target = Target::parse("http://LOCALHOST:8080/a/../b.html#x").unwrap();
    assert_eq!(
        (target.authority.as_str(), target.start.as_str()),
        ("localhost:8080", "/b.html")
    );
    assert_eq!(
        Target::parse("http://127.0.0.1").unwrap().authority,
        "127.0.0.1:80"
    );
    for bad in ["https://127.0.0.1/", "127.0.0.1:8080", "http:///x"] {
        let error = Target::parse(bad).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput, "{bad}");
    }
}

#[test]
fn crawl_example_prints_its_summary() -> Result<()> {
    let dir = tempfile::tempdir().unwrap();
    // The thread-per-connection model: no other chapter's exercise on the path.
    let server = common::start_example(http_server::Model::Threads, dir.path(), &["--quiet"])?;
    let authority = server.addr().to_string();
    let (_, broken) = generate(dir.path(), &authority);
    let url = format!("http://{authority}/");
    let mut crawler =
        ExampleProcess::spawn("crawl", &[&url, "--model", "callbacks", "--conns", "4"])?;
    let mut lines = Vec::new();
    while let Some(line) = crawler.next_line()? {
        lines.push(line);
    }
    crawler.expect_success()?;
    let summary = lines.last().cloned().unwrap_or_default();
    let expected = format!("pages {PAGES}, bytes ");
    assert!(summary.starts_with(&expected), "{lines:?}");
    assert!(
        summary.contains(&format!(", errors {}, ", broken.len())),
        "{summary}"
    );
    assert!(summary.ends_with(" pages/s"), "{summary}");
    let failed: BTreeSet<String> = lines
        .iter()
        .filter_map(|l| l.strip_prefix(&format!("failed http://{authority}")))
        .map(|l| l.trim_end_matches(": 404").to_string())
        .collect();
    assert_eq!(failed, broken, "{lines:?}");
    server.interrupt_and_expect_clean_exit()
}

/// Serves one connection — `/`, linking to five pages, answered with `Connection: close` —
/// and then closes its listener: every other page's connect is refused.
fn serve_once_then_go() -> harness::InProcessServer {
    harness::serve(|listener, _stop| {
        let (mut stream, _) = listener.accept()?;
        drop(listener);
        read_request(&mut stream)?;
        let body: String = (1..=5).map(|n| format!("<a href=/{n}>{n}</a>")).collect();
        let head = "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: text/html";
        write!(
            stream,
            "{head}\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )?;
        Ok(())
    })
}

#[test]
fn every_crawler_fails_every_page_left_when_the_server_goes() {
    for model in Model::ALL {
        let server = serve_once_then_go();
        let url = format!("http://{}/", server.addr());
        let options = Options {
            conns: 1,
            ..Options::default()
        };
        let report = crawl_within(model, &url, options);
        assert_eq!(report.pages(), 1, "{model}");
        assert_eq!(report.errors().count(), 5, "{model}: {:?}", report.outcomes);
        server.stop().unwrap();
    }
}

#[test]
fn every_crawler_stops_at_max_pages() {
    let dir = tempfile::tempdir().unwrap();
    let server = common::serve_event_loop(dir.path(), Limits::default()).unwrap();
    let authority = server.addr().to_string();
    generate(dir.path(), &authority);
    for model in Model::ALL {
        let options = Options {
            max_pages: 10,
            ..Options::default()
        };
        let report = crawl_within(model, &format!("http://{authority}/"), options);
        assert_eq!(report.outcomes.len(), 10, "{model}");
    }
    server.stop().unwrap();
}

/// Answers one request per connection — keep-alive by its head, yet closed right after — the
/// way a server closes an idle keep-alive connection just as the client reuses it.
fn one_answer_per_connection(mut stream: TcpStream) -> io::Result<()> {
    if let Some(path) = read_request(&mut stream)? {
        let body = if path == "/" {
            "<a href=a>a</a><a href=b>b</a>"
        } else {
            path.as_str()
        };
        let head = "HTTP/1.1 200 OK\r\nContent-Type: text/html";
        write!(
            stream,
            "{head}\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )?;
    }
    Ok(())
}

#[test]
fn every_crawler_spends_no_page_on_a_stale_keep_alive_connection() {
    for model in Model::ALL {
        let server = harness::serve_each(one_answer_per_connection);
        let options = Options {
            conns: 1,
            ..Options::default()
        };
        let report = crawl_within(model, &format!("http://{}/", server.addr()), options);
        assert_eq!(report.pages(), 3, "{model}: {:?}", report.outcomes);
        assert_eq!(report.errors().count(), 0, "{model}: {:?}", report.outcomes);
        assert_eq!(report.connections, 3, "{model}");
        server.stop().unwrap();
    }
}
