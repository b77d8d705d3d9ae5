//! What a complete head's fields say about the message: where its body ends, which host it is
//! for, and whether the connection stays open — and the refusals that stop request smuggling.
//!
//! **What.** [`check`] runs once per head, after the parser has read every field. It finds the
//! body's length (RFC 9112 §6.3), insists on exactly one `Host` in HTTP/1.1 (RFC 9112 §3.2), and
//! decides keep-alive (RFC 9112 §9.3): 1.1 persists unless `Connection: close`; 1.0 closes unless
//! `Connection: keep-alive`.
//!
//! **Why it matters.** When two servers in a chain disagree on where a body ends, an attacker
//! hides a second request inside the first one's body: the front end sees one request, the
//! server behind it sees two. That is *request smuggling*, and it lives in exactly these rules.
//! So anything ambiguous is refused with 400 and the connection closed:
//!
//! - `Content-Length` values that differ (`Content-Length: 5, 6`, or two fields 5 and 6);
//! - `Content-Length` together with `Transfer-Encoding`;
//! - a `Transfer-Encoding` that is not exactly a list of tokens ending in one `chunked`
//!   (a coding this server does not know is 501 instead);
//! - `Transfer-Encoding` in an HTTP/1.0 request, which 1.0 does not have.
//!
//! **The pitfall.** Being lenient ("take the first Content-Length", "chunked somewhere in the
//! list is good enough", "ignore a bad value") is how two parsers come to disagree.

use crate::head::{Field, ParseError, Version, is_tchar, trim_whitespace};
use crate::status::Status;

/// How the body after a head is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyLength {
    /// No body: the next request starts right after the head.
    None,
    /// Exactly this many bytes follow the head.
    Bytes(u64),
    /// A chunked body follows (`Transfer-Encoding: ..., chunked`).
    Chunked,
}

/// What [`check`] learned from the fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Framing {
    /// How the body is framed.
    pub body: BodyLength,
    /// Whether the client wants the connection kept open.
    pub keep_alive: bool,
}

/// The transfer codings registered by RFC 9112 that a server may meet (only `chunked` frames a
/// body; the others compress it, which does not change where it ends).
const KNOWN_CODINGS: [&str; 5] = ["chunked", "compress", "deflate", "gzip", "x-gzip"];

/// Checks a complete head's fields (see the module docs).
pub fn check(version: Version, fields: &[Field]) -> Result<Framing, ParseError> {
    check_host(version, fields)?;
    let length = content_length(fields)?;
    let chunked = transfer_encoding(fields)?;
    let body = match (length, chunked) {
        (Some(_), true) => {
            return Err(bad(
                "both Content-Length and Transfer-Encoding (request smuggling?)",
            ));
        }
        (None, true) if version == Version::Http10 => {
            return Err(bad("Transfer-Encoding in an HTTP/1.0 request"));
        }
        (None, true) => BodyLength::Chunked,
        (Some(0), false) | (None, false) => BodyLength::None,
        (Some(n), false) => BodyLength::Bytes(n),
    };
    Ok(Framing {
        body,
        keep_alive: keep_alive(version, fields),
    })
}

fn bad(reason: &'static str) -> ParseError {
    ParseError {
        status: Status::BadRequest,
        reason,
    }
}

fn named<'a>(fields: &'a [Field], name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
    fields
        .iter()
        .filter(move |f| f.name.eq_ignore_ascii_case(name))
        .map(|f| f.value.as_slice())
}

/// The comma-separated elements of every field named `name`, trimmed (empty ones kept).
fn list_elements<'a>(fields: &'a [Field], name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
    named(fields, name).flat_map(|value| value.split(|&b| b == b',').map(trim_whitespace))
}

fn check_host(version: Version, fields: &[Field]) -> Result<(), ParseError> {
    match named(fields, "host").count() {
        0 if version == Version::Http11 => Err(bad("an HTTP/1.1 request without Host")),
        0 | 1 => Ok(()),
        _ => Err(bad("more than one Host field")),
    }
}

/// The one Content-Length every element agrees on, if any.
fn content_length(fields: &[Field]) -> Result<Option<u64>, ParseError> {
    let mut agreed = None;
    for element in list_elements(fields, "content-length") {
        if element.is_empty() || !element.iter().all(u8::is_ascii_digit) {
            return Err(bad("a Content-Length that is not a number"));
        }
        let value = std::str::from_utf8(element)
            .ok()
            .and_then(|digits| digits.parse::<u64>().ok())
            .ok_or_else(|| bad("a Content-Length too large to count"))?;
        match agreed {
            Some(previous) if previous != value => {
                return Err(bad(
                    "Content-Length values that differ (request smuggling?)",
                ));
            }
            _ => agreed = Some(value),
        }
    }
    Ok(agreed)
}

/// Whether a Transfer-Encoding is present; it must be tokens, ending in exactly one `chunked`.
fn transfer_encoding(fields: &[Field]) -> Result<bool, ParseError> {
    let codings: Vec<&[u8]> = list_elements(fields, "transfer-encoding").collect();
    if codings.is_empty() {
        return Ok(false);
    }
    // BEGIN SOLUTION: http-transfer-encoding
    for coding in &codings {
        if coding.is_empty() || !coding.iter().all(|&b| is_tchar(b)) {
            return Err(bad("a Transfer-Encoding this server cannot parse exactly"));
        }
        if !KNOWN_CODINGS
            .iter()
            .any(|k| k.as_bytes().eq_ignore_ascii_case(coding))
        {
            return Err(ParseError {
                status: Status::NotImplemented,
                reason: "a transfer coding this server does not know",
            });
        }
    }
    let is_chunked = |c: &[u8]| c.eq_ignore_ascii_case(b"chunked");
    let chunked_count = codings.iter().filter(|c| is_chunked(c)).count();
    if chunked_count != 1 || !codings.last().is_some_and(|c| is_chunked(c)) {
        return Err(bad("a Transfer-Encoding that does not end in one chunked"));
    }
    Ok(true)
    // END SOLUTION
}

fn keep_alive(version: Version, fields: &[Field]) -> bool {
    let says =
        |word: &[u8]| list_elements(fields, "connection").any(|t| t.eq_ignore_ascii_case(word));
    match version {
        Version::Http11 => !says(b"close"),
        Version::Http10 => says(b"keep-alive") && !says(b"close"),
    }
}
