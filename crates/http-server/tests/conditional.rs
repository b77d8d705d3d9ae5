//! The 304/206/416 decision, without a socket: each rule of RFC 9110 §13.2.2 and §14.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http_server::conditional::{Decision, Validators, decide, parse_range};
use http_server::request;

const ETAG: &str = "\"1f-c-65\"";

fn file() -> Validators {
    Validators {
        etag: ETAG.to_string(),
        modified: UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        size: 12,
    }
}

fn date(modified: SystemTime) -> String {
    httpdate::fmt_http_date(modified)
}

fn decision(method: &str, fields: &str) -> Decision {
    let raw = format!("{method} /f HTTP/1.1\r\nHost: t\r\n{fields}\r\n");
    let (head, _) = request::parse(raw.as_bytes()).unwrap().unwrap();
    decide(&head, &file())
}

#[test]
fn conditional_if_none_match_gives_304_by_weak_comparison() {
    assert_eq!(
        decision("GET", &format!("If-None-Match: {ETAG}\r\n")),
        Decision::NotModified
    );
    assert_eq!(
        decision("GET", &format!("If-None-Match: \"x\", W/{ETAG}\r\n")),
        Decision::NotModified
    );
    assert_eq!(
        decision("HEAD", "If-None-Match: *\r\n"),
        Decision::NotModified
    );
    assert_eq!(decision("GET", "If-None-Match: \"x\"\r\n"), Decision::Full);
}

#[test]
fn conditional_if_none_match_takes_precedence_over_if_modified_since() {
    let fields = format!(
        "If-None-Match: \"x\"\r\nIf-Modified-Since: {}\r\n",
        date(file().modified)
    );
    assert_eq!(decision("GET", &fields), Decision::Full);
}

#[test]
fn conditional_if_modified_since_compares_whole_seconds() {
    let later = file().modified + Duration::from_secs(60);
    let earlier = file().modified - Duration::from_secs(1);
    assert_eq!(
        decision(
            "GET",
            &format!("If-Modified-Since: {}\r\n", date(file().modified))
        ),
        Decision::NotModified
    );
    assert_eq!(
        decision("GET", &format!("If-Modified-Since: {}\r\n", date(later))),
        Decision::NotModified
    );
    assert_eq!(
        decision("GET", &format!("If-Modified-Since: {}\r\n", date(earlier))),
        Decision::Full
    );
    assert_eq!(
        decision("GET", "If-Modified-Since: yesterday\r\n"),
        Decision::Full
    );
}

#[test]
fn conditional_single_ranges_give_206_or_416() {
    let partial = |start, len| Decision::Partial { start, len };
    for (range, decided) in [
        ("bytes=0-4", partial(0, 5)),
        ("bytes=-3", partial(9, 3)),
        ("bytes=-30", partial(0, 12)),
        ("bytes=7-", partial(7, 5)),
        ("bytes=7-99", partial(7, 5)),
        ("bytes=12-", Decision::Unsatisfiable),
        ("bytes=-0", Decision::Unsatisfiable),
    ] {
        assert_eq!(
            decision("GET", &format!("Range: {range}\r\n")),
            decided,
            "{range}"
        );
    }
    // Ignored: HEAD, another unit, several ranges, nonsense.
    assert_eq!(decision("HEAD", "Range: bytes=0-4\r\n"), Decision::Full);
    for ignored in [
        "items=0-4",
        "bytes=0-1,3-4",
        "bytes=4-2",
        "bytes=a-b",
        "bytes=-",
    ] {
        assert_eq!(
            decision("GET", &format!("Range: {ignored}\r\n")),
            Decision::Full,
            "{ignored}"
        );
    }
}

#[test]
fn conditional_if_range_needs_an_exact_strong_match() {
    let range = "Range: bytes=0-4\r\n";
    let partial = Decision::Partial { start: 0, len: 5 };
    assert_eq!(
        decision("GET", &format!("{range}If-Range: {ETAG}\r\n")),
        partial
    );
    assert_eq!(
        decision("GET", &format!("{range}If-Range: W/{ETAG}\r\n")),
        Decision::Full
    );
    assert_eq!(
        decision("GET", &format!("{range}If-Range: \"old\"\r\n")),
        Decision::Full
    );
    let same = date(file().modified);
    let other = date(file().modified + Duration::from_secs(1));
    assert_eq!(
        decision("GET", &format!("{range}If-Range: {same}\r\n")),
        partial
    );
    assert_eq!(
        decision("GET", &format!("{range}If-Range: {other}\r\n")),
        Decision::Full
    );
}

#[test]
fn range_parsing_handles_huge_and_empty_files() {
    assert_eq!(parse_range(b"bytes=0-", 0), Some(None));
    assert_eq!(parse_range(b"bytes=-5", 0), Some(None));
    assert_eq!(parse_range(b"bytes=0-99999999999999999999999", 10), None);
    assert_eq!(
        parse_range(b"bytes=0-18446744073709551615", 10),
        Some(Some((0, 10)))
    );
}
