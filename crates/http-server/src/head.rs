//! What a parsed request is: its version, its fields, the head as a whole, and the error that
//! refuses one — the vocabulary the parser ([`crate::request`]) produces and everything after it
//! reads.
//!
//! Field names are kept as sent and compared without regard to case (RFC 9110 §5.1); values are
//! bytes, because obs-text (bytes above 0x7F) is allowed in them and need not be UTF-8.

use crate::framing::BodyLength;
use crate::status::Status;

/// The protocol version of a request; 1.2 to 1.9 are read as 1.1 (RFC 9110 §2.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// HTTP/1.0: the connection closes after each response unless asked otherwise.
    Http10,
    /// HTTP/1.1: connections persist unless asked otherwise.
    Http11,
}

/// One header field as received: the name as sent, the value without surrounding whitespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The field name (case as sent; compare with `eq_ignore_ascii_case`).
    pub name: String,
    /// The field value (may hold obs-text bytes above 0x7F, so not necessarily UTF-8).
    pub value: Vec<u8>,
}

/// A complete, checked request head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead {
    /// The method, case-sensitive (`GET`, not `get`).
    pub method: String,
    /// The request target as sent (visible ASCII only).
    pub target: String,
    /// The protocol version.
    pub version: Version,
    /// The header fields in the order received.
    pub fields: Vec<Field>,
    /// How the body that follows the head is framed.
    pub body: BodyLength,
    /// Whether the client wants the connection kept open after the response.
    pub keep_alive: bool,
}

impl RequestHead {
    /// The value of the first field named `name` (case-insensitive).
    pub fn field<'a>(&'a self, name: &'a str) -> Option<&'a [u8]> {
        self.fields_named(name).next()
    }

    /// The values of every field named `name` (case-insensitive), in order.
    pub fn fields_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.fields
            .iter()
            .filter(move |f| f.name.eq_ignore_ascii_case(name))
            .map(|f| f.value.as_slice())
    }
}

/// Why a head was refused: the status to answer with and a sentence for the error page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseError {
    /// The status the response carries; the connection is closed after it.
    pub status: Status,
    /// What was wrong, for a human.
    pub reason: &'static str,
}

/// A `tchar` of RFC 9110 §5.6.2: the characters a token (method, field name) may hold.
pub fn is_tchar(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

/// `bytes` without leading and trailing spaces and tabs.
pub fn trim_whitespace(bytes: &[u8]) -> &[u8] {
    let is_ws = |b: &u8| *b == b' ' || *b == b'\t';
    let start = bytes.iter().position(|b| !is_ws(b)).unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !is_ws(b))
        .map_or(start, |i| i + 1);
    &bytes[start..end]
}
