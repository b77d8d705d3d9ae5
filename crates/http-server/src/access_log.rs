//! The access log: one line per response, in the Common Log Format every web server writes.
//!
//! ```text
//! 127.0.0.1 - - [04/Dec/2026:19:02:11 +0000] "GET /index.html HTTP/1.1" 200 5120
//! ```
//!
//! Client address, identity and user (`-`: this server knows neither), the time the response
//! was planned (UTC), the request line, the status, and the body's length (`-` for none). The
//! log is how an operator sees what a server did — and how a student sees pipelining, keep-alive
//! and the 408 of a slow client happen.
//!
//! The pitfall is the request line: it comes from the client, so it may hold anything the
//! parser let through. Only visible ASCII reaches a request target, but a request the parser
//! refused has no line at all (`"-"`), and a `"` or `\` is escaped so a crafted target cannot
//! forge a second field. Each line goes out in one `write` (standard output is line-buffered and
//! locked per line), so lines from threads or worker processes never interleave.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::net::IpAddr;
use std::time::SystemTime;

use crate::head::{RequestHead, Version};
use crate::response::{Body, Response};

/// One access-log line for `response` to `request` (`None`: the request was refused unparsed)
/// from `client`, planned at `now`.
pub fn line(
    client: IpAddr,
    request: Option<&RequestHead>,
    response: &Response,
    now: SystemTime,
) -> String {
    // BEGIN SOLUTION: http-access-log
    let mut line = format!("{client} - - [{}] \"", clf_time(now));
    match request {
        Some(head) => {
            let version = match head.version {
                Version::Http10 => "HTTP/1.0",
                Version::Http11 => "HTTP/1.1",
            };
            for c in format!("{} {} {version}", head.method, head.target).chars() {
                if matches!(c, '"' | '\\') {
                    line.push('\\');
                }
                line.push(c);
            }
        }
        None => line.push('-'),
    }
    let length = match &response.body {
        Body::Empty => 0,
        Body::Bytes(bytes) => bytes.len() as u64,
        Body::File { len, .. } => *len,
    };
    let _ = write!(line, "\" {}", response.status.code());
    if length == 0 {
        line.push_str(" -");
    } else {
        let _ = write!(line, " {length}");
    }
    line
    // END SOLUTION
}

/// Writes one line to standard output (one `write` call, so lines never interleave).
pub fn write(line: &str) {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "{line}"); // a closed stdout must not take the server down
}

/// `04/Dec/2026:19:02:11 +0000`: the time in UTC, in the log format's layout — the fields of
/// the HTTP date (`Fri, 04 Dec 2026 19:02:11 GMT`, from `httpdate`) in another order.
fn clf_time(now: SystemTime) -> String {
    let date = httpdate::fmt_http_date(now);
    match date.split(' ').collect::<Vec<_>>()[..] {
        [_weekday, day, month, year, time, "GMT"] => format!("{day}/{month}/{year}:{time} +0000"),
        _ => date, // not reached: httpdate always writes the IMF-fixdate layout
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn access_log_lines_escape_quotes_and_say_dash_for_nothing() {
        use crate::request::{HeadParser, Progress};
        use crate::response::Reply;
        use crate::status::Status;
        let at = UNIX_EPOCH + Duration::from_secs(1_796_410_931);
        let client = IpAddr::from([127, 0, 0, 1]);
        let Ok(Progress::Complete { head, .. }) =
            HeadParser::new().feed(b"GET /a\"b\\c HTTP/1.0\r\n\r\n")
        else {
            panic!("the parser refused the head")
        };
        let page = Reply::to(&head, at).error(Status::NotFound, "no", vec![]);
        let length = match &page.body {
            Body::Bytes(bytes) => bytes.len(),
            _ => unreachable!("an error page is bytes"),
        };
        assert_eq!(
            line(client, Some(&head), &page, at),
            format!(
                "127.0.0.1 - - [04/Dec/2026:19:02:11 +0000] \"GET /a\\\"b\\\\c HTTP/1.0\" 404 {length}"
            )
        );
        let empty = Response {
            status: Status::NotModified,
            head: Vec::new(),
            body: Body::Empty,
            close: false,
        };
        assert_eq!(
            line(client, None, &empty, at),
            "127.0.0.1 - - [04/Dec/2026:19:02:11 +0000] \"-\" 304 -"
        );
    }

    #[test]
    fn times_are_in_the_log_format_and_utc() {
        let at = |secs| clf_time(UNIX_EPOCH + Duration::from_secs(secs));
        assert_eq!(at(0), "01/Jan/1970:00:00:00 +0000");
        assert_eq!(at(951_782_400), "29/Feb/2000:00:00:00 +0000"); // a leap day
        assert_eq!(at(1_796_410_931), "04/Dec/2026:19:02:11 +0000");
    }
}
