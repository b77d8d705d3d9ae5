//! Just enough of an HTTP client for the suite: raw bytes out, one response read back exactly.
//!
//! The suite speaks through a raw socket on purpose: a real client would normalise `/../`,
//! refuse a malformed head, or hide whether the connection stayed open.

use crate::{Conn, Error, Result};

/// One response as read from the wire.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// The status line.
    pub status_line: String,
    /// Header fields, names as sent.
    pub fields: Vec<(String, String)>,
    /// The body (empty for HEAD and 304).
    pub body: Vec<u8>,
}

impl Reply {
    /// The value of the first field named `name` (case-insensitive).
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text (lossy), for messages and searches.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// `Ok` when the status is `code`, else an error saying what came instead.
    pub fn expect_status(&self, code: u16, what: &str) -> Result<()> {
        if self.status == code {
            Ok(())
        } else {
            Err(Error::new(
                what,
                format!("expected {code}, got {}", self.summary()),
            ))
        }
    }

    /// `Ok` when field `name` is `value`, else an error naming both.
    pub fn expect_field(&self, name: &str, value: &str, what: &str) -> Result<()> {
        match self.field(name) {
            Some(v) if v == value => Ok(()),
            other => Err(Error::new(
                what,
                format!(
                    "expected {name}: {value}, got {other:?} in {}",
                    self.summary()
                ),
            )),
        }
    }

    /// The status line, the fields and the start of the body, on one line.
    pub fn summary(&self) -> String {
        let fields: Vec<String> = self
            .fields
            .iter()
            .map(|(n, v)| format!("{n}: {v}"))
            .collect();
        let body = self.text();
        let shown: String = body.chars().take(80).collect();
        format!(
            "{:?} [{}] body {:?}",
            self.status_line,
            fields.join("; "),
            shown
        )
    }
}

/// Reads one response; `no_body` for a HEAD request (the body is then not read).
pub fn read_reply(conn: &mut Conn, no_body: bool) -> Result<Reply> {
    let status_line = conn.read_line()?.trim_end_matches('\r').to_string();
    let status = status_line
        .strip_prefix("HTTP/1.")
        .and_then(|rest| rest.get(2..5))
        .and_then(|code| code.parse::<u16>().ok())
        .ok_or_else(|| Error::new("reading a status line", format!("got {status_line:?}")))?;
    let mut fields = Vec::new();
    loop {
        let line = conn.read_line()?;
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            break;
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| Error::new("reading a header field", format!("got {line:?}")))?;
        fields.push((name.to_string(), value.trim().to_string()));
    }
    let mut reply = Reply {
        status,
        status_line,
        fields,
        body: Vec::new(),
    };
    if no_body || status == 304 || status == 204 || status < 200 {
        return Ok(reply);
    }
    reply.body = match reply.field("content-length") {
        Some(length) => {
            let length = length
                .parse::<usize>()
                .map_err(|_| Error::new("reading Content-Length", format!("got {length:?}")))?;
            conn.read_exact(length)?
        }
        None => conn.read_to_eof()?,
    };
    Ok(reply)
}

/// Sends `raw` and reads one response.
pub fn exchange(conn: &mut Conn, raw: &str, no_body: bool) -> Result<Reply> {
    conn.write_all(raw.as_bytes())?;
    read_reply(conn, no_body)
}

/// `GET path` on a kept-alive connection.
pub fn get(conn: &mut Conn, path: &str, extra: &str) -> Result<Reply> {
    let raw = format!("GET {path} HTTP/1.1\r\nHost: suite\r\n{extra}\r\n");
    exchange(conn, &raw, false).map_err(|e| e.context(format!("GET {path}")))
}
