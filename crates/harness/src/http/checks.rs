//! The checks of the HTTP suite, one function each (the table in the module above says what
//! each one catches).

use std::time::Duration;

use super::client::{Reply, exchange, get, read_reply};
use super::fixture::{DATA_LEN, Fixture, HELLO, SECRET, SITE_INDEX, data_bin, traversal_payloads};
use crate::server::ServerUnderTest;
use crate::{Conn, Error, Result};

fn connect<S: ServerUnderTest>(server: &S, step: Duration) -> Result<Conn> {
    let mut conn = Conn::connect_within(server.addr(), step)?;
    conn.set_step(step);
    Ok(conn)
}

fn fail(what: &str, why: impl std::fmt::Display) -> Error {
    Error::new(what, why)
}

/// The response's body must be `expected`.
fn expect_body(reply: &Reply, expected: &[u8], what: &str) -> Result<()> {
    if reply.body == expected {
        Ok(())
    } else {
        Err(fail(what, format!("wrong body: {}", reply.summary())))
    }
}

pub(super) fn get_file<S: ServerUnderTest>(server: &S, _: &Fixture, step: Duration) -> Result<()> {
    let mut conn = connect(server, step)?;
    let hello = get(&mut conn, "/hello.txt", "")?;
    hello.expect_status(200, "GET /hello.txt")?;
    expect_body(&hello, HELLO.as_bytes(), "GET /hello.txt")?;
    hello.expect_field("Content-Length", &HELLO.len().to_string(), "GET /hello.txt")?;
    hello.expect_field(
        "Content-Type",
        "text/plain; charset=utf-8",
        "GET /hello.txt",
    )?;
    hello.expect_field("Accept-Ranges", "bytes", "GET /hello.txt")?;
    for name in ["Date", "Last-Modified"] {
        if hello.field(name).is_none() {
            return Err(fail(
                "GET /hello.txt",
                format!("no {name}: {}", hello.summary()),
            ));
        }
    }
    let etag = hello.field("ETag").unwrap_or("");
    if !(etag.len() > 2 && etag.starts_with('"') && etag.ends_with('"')) {
        return Err(fail(
            "GET /hello.txt",
            format!("no strong ETag: {}", hello.summary()),
        ));
    }
    let data = get(&mut conn, "/data.bin", "")?;
    data.expect_status(200, "GET /data.bin")?;
    expect_body(&data, &data_bin(), "GET /data.bin (100,000 bytes)")?;
    let absolute = get(&mut conn, "http://suite/hello.txt", "")?;
    absolute.expect_status(200, "GET in absolute form")?;
    expect_body(&absolute, HELLO.as_bytes(), "GET in absolute form")
}

pub(super) fn head<S: ServerUnderTest>(server: &S, _: &Fixture, step: Duration) -> Result<()> {
    let mut conn = connect(server, step)?;
    let full = get(&mut conn, "/data.bin", "")?;
    let raw = "HEAD /data.bin HTTP/1.1\r\nHost: suite\r\n\r\n";
    let head = exchange(&mut conn, raw, true)?;
    head.expect_status(200, "HEAD /data.bin")?;
    for name in ["Content-Length", "Content-Type", "ETag", "Last-Modified"] {
        if head.field(name) != full.field(name) {
            return Err(fail(
                "HEAD /data.bin",
                format!(
                    "{name} differs from GET's: {} vs {}",
                    head.summary(),
                    full.summary()
                ),
            ));
        }
    }
    // A body after the HEAD response would be read here as the next status line.
    let next = get(&mut conn, "/hello.txt", "")
        .map_err(|e| e.context("the request after a HEAD (did the HEAD response carry a body?)"))?;
    next.expect_status(200, "GET after HEAD")?;
    expect_body(&next, HELLO.as_bytes(), "GET after HEAD")
}

pub(super) fn not_found<S: ServerUnderTest>(server: &S, _: &Fixture, step: Duration) -> Result<()> {
    let mut conn = connect(server, step)?;
    let missing = get(&mut conn, "/no-such-file.txt", "")?;
    missing.expect_status(404, "GET /no-such-file.txt")?;
    missing.expect_field("Content-Type", "text/html; charset=utf-8", "the 404 page")?;
    if !missing.text().contains("404") {
        return Err(fail(
            "the 404 page",
            format!("does not say 404: {}", missing.summary()),
        ));
    }
    let next = get(&mut conn, "/hello.txt", "")
        .map_err(|e| e.context("the request after a 404 on the same connection"))?;
    next.expect_status(200, "GET after a 404")
}

pub(super) fn method<S: ServerUnderTest>(server: &S, _: &Fixture, step: Duration) -> Result<()> {
    let mut conn = connect(server, step)?;
    for method in ["POST", "DELETE", "OPTIONS", "BREW"] {
        let raw =
            format!("{method} /hello.txt HTTP/1.1\r\nHost: suite\r\nContent-Length: 0\r\n\r\n");
        let what = format!("{method} /hello.txt");
        let reply = exchange(&mut conn, &raw, false)?;
        reply.expect_status(405, &what)?;
        reply.expect_field("Allow", "GET, HEAD", &what)?;
    }
    get(&mut conn, "/hello.txt", "")?.expect_status(200, "GET after the 405s")
}

pub(super) fn keep_alive<S: ServerUnderTest>(
    server: &S,
    _: &Fixture,
    step: Duration,
) -> Result<()> {
    let mut conn = connect(server, step)?;
    get(&mut conn, "/hello.txt", "")?.expect_status(200, "HTTP/1.1, first request")?;
    get(&mut conn, "/hello.txt", "")
        .map_err(|e| e.context("HTTP/1.1 closed the connection after one response"))?
        .expect_status(200, "HTTP/1.1, second request on the same connection")?;
    let closing = [
        "GET /hello.txt HTTP/1.1\r\nHost: suite\r\nConnection: close\r\n\r\n",
        "GET /hello.txt HTTP/1.0\r\n\r\n",
    ];
    for raw in closing {
        let mut conn = connect(server, step)?;
        exchange(&mut conn, raw, false)?.expect_status(200, raw.lines().next().unwrap_or(raw))?;
        conn.expect_eof()
            .map_err(|e| e.context(format!("the server must close after {raw:?}")))?;
    }
    let mut conn = connect(server, step)?;
    let raw = "GET /hello.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
    let first = exchange(&mut conn, raw, false)?;
    first.expect_field(
        "Connection",
        "keep-alive",
        "HTTP/1.0 with Connection: keep-alive",
    )?;
    exchange(&mut conn, raw, false)
        .map_err(|e| e.context("HTTP/1.0 keep-alive: the second request"))?
        .expect_status(200, "HTTP/1.0 keep-alive, second request")
}

pub(super) fn pipeline<S: ServerUnderTest>(server: &S, _: &Fixture, step: Duration) -> Result<()> {
    let mut conn = connect(server, step)?;
    let requests = [
        ("/hello.txt", "GET", 200),
        ("/data.bin", "HEAD", 200),
        ("/no-such-file", "GET", 404),
        ("/data.bin", "GET", 200),
        ("/page.html", "GET", 200),
    ];
    let mut all = String::new();
    for (path, method, _) in requests {
        all.push_str(&format!("{method} {path} HTTP/1.1\r\nHost: suite\r\n\r\n"));
    }
    conn.write_all(all.as_bytes())?;
    for (i, (path, method, status)) in requests.into_iter().enumerate() {
        let what = format!(
            "pipelined request {} of {} ({method} {path})",
            i + 1,
            requests.len()
        );
        let reply = read_reply(&mut conn, method == "HEAD").map_err(|e| e.context(what.clone()))?;
        reply.expect_status(status, &what)?;
        if method == "GET" && path == "/data.bin" && reply.body.len() != DATA_LEN {
            return Err(fail(&what, "answered out of order"));
        }
    }
    Ok(())
}

pub(super) fn conditional<S: ServerUnderTest>(
    server: &S,
    _: &Fixture,
    step: Duration,
) -> Result<()> {
    let mut conn = connect(server, step)?;
    let plain = get(&mut conn, "/hello.txt", "")?;
    let etag = plain.field("ETag").unwrap_or("\"none\"").to_string();
    let modified = plain.field("Last-Modified").unwrap_or("").to_string();
    let long_ago = "Thu, 01 Jan 1998 00:00:00 GMT";
    let cases = [
        (format!("If-None-Match: {etag}"), 304),
        (format!("If-None-Match: \"other\", W/{etag}"), 304),
        ("If-None-Match: *".to_string(), 304),
        (
            format!("If-None-Match: \"other\"\r\nIf-Modified-Since: {modified}"),
            200,
        ),
        (format!("If-Modified-Since: {modified}"), 304),
        (format!("If-Modified-Since: {long_ago}"), 200),
        ("If-Modified-Since: not a date".to_string(), 200),
    ];
    for (fields, status) in cases {
        let what = format!("GET /hello.txt with {fields:?}");
        let reply = get(&mut conn, "/hello.txt", &format!("{fields}\r\n"))?;
        reply.expect_status(status, &what)?;
        if status == 304 {
            reply.expect_field("ETag", &etag, &what)?;
        } else {
            expect_body(&reply, HELLO.as_bytes(), &what)?;
        }
    }
    Ok(())
}

pub(super) fn range<S: ServerUnderTest>(server: &S, _: &Fixture, step: Duration) -> Result<()> {
    let mut conn = connect(server, step)?;
    let etag = get(&mut conn, "/hello.txt", "")?
        .field("ETag")
        .unwrap_or("")
        .to_string();
    let size = HELLO.len();
    let cases: Vec<(String, u16, &str, String)> = vec![
        (
            "Range: bytes=0-4".into(),
            206,
            "hello",
            format!("bytes 0-4/{size}"),
        ),
        (
            "Range: bytes=-3".into(),
            206,
            "tp\n",
            format!("bytes 9-11/{size}"),
        ),
        (
            "Range: bytes=7-".into(),
            206,
            "http\n",
            format!("bytes 7-11/{size}"),
        ),
        (
            "Range: bytes=7-1000".into(),
            206,
            "http\n",
            format!("bytes 7-11/{size}"),
        ),
        (
            "Range: bytes=12-".into(),
            416,
            "",
            format!("bytes */{size}"),
        ),
        (
            format!("Range: bytes=0-4\r\nIf-Range: {etag}"),
            206,
            "hello",
            format!("bytes 0-4/{size}"),
        ),
        (
            "Range: bytes=0-4\r\nIf-Range: \"stale\"".into(),
            200,
            HELLO,
            String::new(),
        ),
    ];
    for (fields, status, body, content_range) in cases {
        let what = format!("GET /hello.txt with {fields:?}");
        let reply = get(&mut conn, "/hello.txt", &format!("{fields}\r\n"))?;
        reply.expect_status(status, &what)?;
        if status != 416 {
            expect_body(&reply, body.as_bytes(), &what)?;
        }
        if !content_range.is_empty() {
            reply.expect_field("Content-Range", &content_range, &what)?;
        }
    }
    let middle = get(&mut conn, "/data.bin", "Range: bytes=50000-50099\r\n")?;
    middle.expect_status(206, "a range in the middle of /data.bin")?;
    expect_body(
        &middle,
        &data_bin()[50000..50100],
        "a range in the middle of /data.bin",
    )
}

pub(super) fn directory<S: ServerUnderTest>(server: &S, _: &Fixture, step: Duration) -> Result<()> {
    let mut conn = connect(server, step)?;
    let moved = get(&mut conn, "/listing", "")?;
    moved.expect_status(301, "GET /listing (a directory without its slash)")?;
    moved.expect_field("Location", "/listing/", "GET /listing")?;
    let index = get(&mut conn, "/site/", "")?;
    index.expect_status(200, "GET /site/")?;
    expect_body(&index, SITE_INDEX.as_bytes(), "GET /site/ (its index.html)")?;
    let listing = get(&mut conn, "/listing/", "")?;
    listing.expect_status(200, "GET /listing/")?;
    let page = listing.text();
    let wanted = [
        "href=\"a%20b.txt\"",
        "&lt;b&gt;&amp;amp.txt",
        "href=\"%3Cb%3E%26amp.txt\"",
        "href=\"sub/\"",
    ];
    for piece in wanted {
        if !page.contains(piece) {
            return Err(fail(
                "the listing of /listing/",
                format!("lacks {piece:?}: {page:?}"),
            ));
        }
    }
    if page.contains("<b>&amp") {
        return Err(fail(
            "the listing of /listing/",
            "a file name was pasted in unescaped",
        ));
    }
    Ok(())
}

pub(super) fn malformed<S: ServerUnderTest>(server: &S, _: &Fixture, step: Duration) -> Result<()> {
    let long_target = format!("GET /{} HTTP/1.1\r\nHost: suite\r\n\r\n", "a".repeat(9000));
    let big_head = format!(
        "GET / HTTP/1.1\r\nHost: suite\r\nX: {}\r\n\r\n",
        "a".repeat(17000)
    );
    let many = format!(
        "GET / HTTP/1.1\r\nHost: suite\r\n{}\r\n",
        "X: 1\r\n".repeat(101)
    );
    let cases: Vec<(String, u16)> = vec![
        ("GET /hello.txt HTTP/1.1\r\n\r\n".into(), 400),
        (
            "GET /hello.txt HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n".into(),
            400,
        ),
        (
            "GET /hello.txt HTTP/1.1\r\nHost: a\r\nX: 1\r\n folded\r\n\r\n".into(),
            400,
        ),
        ("GET /hello.txt HTTP/1.1\r\nHost : a\r\n\r\n".into(), 400),
        ("GARBAGE\r\n\r\n".into(), 400),
        ("GET /hello.txt HTTP/2.0\r\nHost: a\r\n\r\n".into(), 505),
        (
            "GET /hello.txt HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: rot13, chunked\r\n\r\n"
                .into(),
            501,
        ),
        (long_target, 414),
        (big_head, 431),
        (many, 431),
    ];
    for (raw, status) in cases {
        let shown: String = raw.escape_debug().take(60).collect();
        let mut conn = connect(server, step)?;
        let reply = exchange(&mut conn, &raw, false).map_err(|e| e.context(shown.clone()))?;
        reply.expect_status(status, &shown)?;
        conn.expect_eof()
            .map_err(|e| e.context(format!("the server must close after {shown}")))?;
    }
    let mut conn = connect(server, step)?;
    // (A missing file: this check does not depend on how files are answered.)
    let after = get(&mut conn, "/no-such-file", "")?;
    after.expect_status(404, "a client after the malformed ones")
}

pub(super) fn smuggling<S: ServerUnderTest>(server: &S, _: &Fixture, step: Duration) -> Result<()> {
    let refused = [
        "GET /hello.txt HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
        "GET /hello.txt HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "GET /hello.txt HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n",
        "GET /hello.txt HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
    ];
    for raw in refused {
        let shown: String = raw.escape_debug().take(90).collect();
        let mut conn = connect(server, step)?;
        exchange(&mut conn, raw, false)?.expect_status(400, &shown)?;
        conn.expect_eof()
            .map_err(|e| e.context(format!("the server must close after {shown}")))?;
    }
    // A body that looks like a request must be skipped, not answered. (Missing files and a
    // redirect: this check does not depend on how files are answered.)
    let hidden = "GET /listing HTTP/1.1\r\nHost: a\r\n\r\n";
    let raw = format!(
        "GET /no-such-file HTTP/1.1\r\nHost: a\r\nContent-Length: {}\r\n\r\n{hidden}\
         GET /no-such-file-either HTTP/1.1\r\nHost: a\r\n\r\n",
        hidden.len()
    );
    let mut conn = connect(server, step)?;
    exchange(&mut conn, &raw, false)?.expect_status(404, "the request with a body")?;
    let next = read_reply(&mut conn, false)?;
    next.expect_status(
        404,
        "the request after the body (a 301 means the body was answered)",
    )
}

pub(super) fn traversal<S: ServerUnderTest>(server: &S, _: &Fixture, step: Duration) -> Result<()> {
    let mut conn = connect(server, step)?;
    for path in traversal_payloads() {
        let raw = format!("GET {path} HTTP/1.1\r\nHost: suite\r\n\r\n");
        let reply =
            exchange(&mut conn, &raw, false).map_err(|e| e.context(format!("GET {path}")))?;
        // A path that climbs above the root may be clamped to it (`/../` is `/`): only what
        // lies outside must never come back.
        if reply.text().contains(SECRET) || reply.text().contains("root:x:0:0") {
            return Err(fail(
                &format!("GET {path}"),
                format!("escaped the root: {}", reply.summary()),
            ));
        }
        if reply.field("Connection") == Some("close") {
            conn = connect(server, step)?;
        }
    }
    Ok(())
}

pub(super) fn symlinks<S: ServerUnderTest>(server: &S, _: &Fixture, step: Duration) -> Result<()> {
    let mut conn = connect(server, step)?;
    let inside = get(&mut conn, "/inside-link", "")?;
    inside.expect_status(200, "GET /inside-link (a symlink to hello.txt)")?;
    expect_body(&inside, HELLO.as_bytes(), "GET /inside-link")?;
    for path in [
        "/outside-link",
        "/outside-abs",
        "/outside-dir/secret.txt",
        "/outside-dir/",
    ] {
        let what = format!("GET {path} (a symlink out of the root)");
        let reply = get(&mut conn, path, "")?;
        reply.expect_status(404, &what)?;
        if reply.text().contains(SECRET) {
            return Err(fail(&what, "served the secret"));
        }
    }
    Ok(())
}
