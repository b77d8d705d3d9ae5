//! The client's half of HTTP/1.1: reading one response, sans-IO.
//!
//! Bytes from the socket go in, in whatever pieces `read` returns; out comes "need more", the
//! head (status, length, whether the server will close), then the whole response. A crawler
//! sends one request at a time on a connection and waits for its answer, so the end of the
//! body must be known exactly — otherwise the next response would be read as the rest of this
//! one. This reader knows it from `Content-Length` only:
//!
//! - a `Transfer-Encoding` (chunked) response is refused with an error: this chapter's server
//!   never sends one, and a reader that half-parses chunks is worse than one that says no;
//! - a response without `Content-Length` (whose body would run until the server closes) is
//!   refused too, except 204 and 304, which have no body;
//! - bytes after the body are an error: the crawler never pipelines, so the server sent more
//!   than it was asked for.
//!
//! The pitfall is the connection's state after a response: `Connection: close`, or an
//! HTTP/1.0 answer without `keep-alive`, means the server will close; the next request needs a
//! new connection.

use std::fmt;

/// A head longer than this is refused (the server's own limit for request heads is 16 KiB).
pub const MAX_HEAD: usize = 16 * 1024;

/// What a response head says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// The status code, `200`.
    pub status: u16,
    /// The body's length, from `Content-Length` (0 for 204 and 304).
    pub length: usize,
    /// The server will close the connection after this response.
    pub close: bool,
    /// The body is HTML (`Content-Type: text/html`), so it has links to follow.
    pub html: bool,
}

/// A whole response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Its head.
    pub head: Head,
    /// Its body, `head.length` bytes.
    pub body: Vec<u8>,
}

/// Where the reader is after the bytes fed so far.
#[derive(Debug, PartialEq, Eq)]
pub enum Progress {
    /// The head is not complete yet.
    Head,
    /// The head is read; `remaining` bytes of body are still to come.
    Body {
        /// Bytes of body not yet received.
        remaining: usize,
    },
    /// The whole response is here.
    Done(Response),
}

/// Why a response was refused: a sentence for the crawler's report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadResponse(pub String);

impl fmt::Display for BadResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn bad<T>(why: impl Into<String>) -> Result<T, BadResponse> {
    Err(BadResponse(why.into()))
}

/// Reads one response from the bytes [fed](ResponseReader::feed) to it.
#[derive(Debug)]
pub struct ResponseReader {
    /// Everything received so far: the head, then the body.
    buf: Vec<u8>,
    /// The head and its length in `buf`, once the blank line has arrived.
    head: Option<(Head, usize)>,
    /// A body longer than this is refused.
    max_body: usize,
}

impl ResponseReader {
    /// A reader for one response whose body may be at most `max_body` bytes.
    pub fn new(max_body: usize) -> ResponseReader {
        ResponseReader {
            buf: Vec::new(),
            head: None,
            max_body,
        }
    }

    /// True while no byte of the response has arrived: a keep-alive connection that ends now
    /// was closed by the server before it saw the request, and the request may be sent again.
    pub fn is_untouched(&self) -> bool {
        self.buf.is_empty()
    }

    /// Takes the next bytes from the socket.
    pub fn feed(&mut self, data: &[u8]) -> Result<Progress, BadResponse> {
        self.buf.extend_from_slice(data);
        if self.head.is_none() {
            let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                if self.buf.len() > MAX_HEAD {
                    return bad(format!("the response head is over {MAX_HEAD} bytes"));
                }
                return Ok(Progress::Head);
            };
            let head = parse_head(&self.buf[..end])?;
            if head.length > self.max_body {
                return bad(format!(
                    "the body ({} bytes) is over the limit of {} bytes",
                    head.length, self.max_body
                ));
            }
            self.head = Some((head, end + 4));
        }
        let Some((head, start)) = &self.head else {
            unreachable!("the head was parsed just above");
        };
        let received = self.buf.len() - start;
        if received > head.length {
            return bad("the server sent more than the response it was asked for");
        }
        if received < head.length {
            return Ok(Progress::Body {
                remaining: head.length - received,
            });
        }
        Ok(Progress::Done(Response {
            head: head.clone(),
            body: self.buf.split_off(*start),
        }))
    }
}

/// Parses a head (without its blank line): the status line, then the fields this client uses.
pub fn parse_head(bytes: &[u8]) -> Result<Head, BadResponse> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return bad("the response head is not text");
    };
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let (version, status) = match status_line.split(' ').collect::<Vec<_>>()[..] {
        [version, code, ..] if code.len() == 3 => (version, code.parse::<u16>().ok()),
        _ => ("", None),
    };
    let (Some(status), true) = (status, version.starts_with("HTTP/1.")) else {
        return bad(format!("not an HTTP/1.x status line: {status_line:?}"));
    };
    let mut head = Head {
        status,
        length: 0,
        close: version == "HTTP/1.0",
        html: false,
    };
    let mut length = None;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            return bad(format!("a header line without a colon: {line:?}"));
        };
        let value = value.trim();
        match name.to_ascii_lowercase().as_str() {
            "content-length" => match (value.parse::<usize>(), length) {
                (Ok(n), None) if value.bytes().all(|b| b.is_ascii_digit()) => length = Some(n),
                (Ok(n), Some(m)) if n == m => {}
                _ => return bad(format!("a bad or repeated Content-Length: {value:?}")),
            },
            "transfer-encoding" => {
                return bad(
                    "a Transfer-Encoding (chunked) response: this client reads Content-Length only",
                );
            }
            "connection" => {
                for token in value.split(',').map(|t| t.trim().to_ascii_lowercase()) {
                    head.close = match token.as_str() {
                        "close" => true,
                        "keep-alive" => false,
                        _ => head.close,
                    };
                }
            }
            "content-type" => head.html = value.to_ascii_lowercase().starts_with("text/html"),
            _ => {}
        }
    }
    head.length = match (length, status) {
        (Some(n), _) => n,
        (None, 204 | 304) => 0,
        (None, _) => {
            return bad("a response without Content-Length: this client cannot tell where it ends");
        }
    };
    Ok(head)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &[u8] =
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 5\r\n\r\nhello";

    #[test]
    fn response_read_whole_or_byte_by_byte_is_the_same() {
        let mut whole = ResponseReader::new(100);
        let Ok(Progress::Done(expected)) = whole.feed(OK) else {
            panic!("a whole response was not read");
        };
        assert_eq!(expected.body, b"hello");
        assert!(expected.head.html && !expected.head.close);
        let mut pieces = ResponseReader::new(100);
        for (i, byte) in OK.iter().enumerate() {
            match pieces.feed(&[*byte]).unwrap() {
                Progress::Done(response) => {
                    assert_eq!(i, OK.len() - 1);
                    assert_eq!(response, expected);
                }
                Progress::Body { remaining } => assert_eq!(remaining, OK.len() - 1 - i),
                Progress::Head => assert!(i < OK.len() - 5),
            }
        }
    }

    #[test]
    fn response_close_and_versions_decide_keep_alive() {
        let close = |head: &str| parse_head(head.as_bytes()).unwrap().close;
        assert!(close(
            "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0"
        ));
        assert!(!close("HTTP/1.1 404 Not Found\r\nContent-Length: 3"));
        assert!(close("HTTP/1.0 200 OK\r\nContent-Length: 0"));
        assert!(!close(
            "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0"
        ));
    }

    #[test]
    fn response_refusals_are_sentences() {
        for (head, why) in [
            (
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked",
                "Transfer-Encoding",
            ),
            ("HTTP/1.1 200 OK", "without Content-Length"),
            (
                "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2",
                "repeated",
            ),
            ("HTTP/1.1 200 OK\r\nContent-Length: +1", "bad"),
            ("SSH-2.0-OpenSSH", "status line"),
            ("HTTP/1.1 20 OK\r\nContent-Length: 0", "status line"),
        ] {
            let error = parse_head(head.as_bytes()).unwrap_err();
            assert!(error.0.contains(why), "{head:?}: {error}");
        }
        assert_eq!(parse_head(b"HTTP/1.1 304 Not Modified").unwrap().length, 0);
    }

    #[test]
    fn response_limits_and_extra_bytes_are_errors() {
        let mut small = ResponseReader::new(4);
        assert!(small.feed(OK).unwrap_err().0.contains("over the limit"));
        let mut extra = ResponseReader::new(100);
        let mut bytes = OK.to_vec();
        bytes.extend_from_slice(b"HTTP/1.1");
        assert!(extra.feed(&bytes).unwrap_err().0.contains("more than"));
        let mut endless = ResponseReader::new(100);
        assert!(endless.is_untouched());
        let line = vec![b'x'; MAX_HEAD + 1];
        assert!(endless.feed(&line).unwrap_err().0.contains("over"));
    }
}
