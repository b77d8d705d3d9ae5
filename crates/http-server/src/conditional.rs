//! Conditional and range requests: when to answer 304, 206 or 416 instead of 200.
//!
//! **What.** [`decide`] looks at a GET or HEAD for a file and its validators (a strong `ETag`
//! and `Last-Modified`) and picks one of four answers ([`Decision`]). The order is the one
//! RFC 9110 §13.2.2 gives:
//!
//! 1. `If-None-Match` — if any listed tag matches (weak comparison; `*` matches any file), the
//!    client's copy is current: **304**. When `If-None-Match` is present, `If-Modified-Since`
//!    is *ignored*: the tag is the more precise validator.
//! 2. `If-Modified-Since` — only without `If-None-Match`: the file not changed since → **304**.
//! 3. `Range` — GET only (HEAD ignores it). `If-Range` first: if its tag (strong comparison) or
//!    date does not match the file exactly, the client's partial copy is stale, so the Range is
//!    ignored and the whole file sent (**200**). Otherwise one range `bytes=N-M`, `bytes=N-` or
//!    `bytes=-N` (the last N bytes) → **206**; a range that starts past the end → **416**.
//!    A malformed Range, another unit, or several ranges are ignored (**200**), as the RFC allows.
//!
//! **The pitfall.** Getting the precedence wrong: a server that checks the date first answers 304
//! for a file rewritten twice within the same second, whose tag changed; a server that honours a
//! Range whose `If-Range` does not match stitches two versions of a file into one download.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::head::{RequestHead, trim_whitespace};

/// What identifies one version of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validators {
    /// The strong entity tag, quotes included: `"…"`.
    pub etag: String,
    /// The modification time, whole seconds (HTTP dates have no fractions).
    pub modified: SystemTime,
    /// The file's size in bytes.
    pub size: u64,
}

/// What to send for a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// 200: the whole file.
    Full,
    /// 304: nothing; the client's copy is current.
    NotModified,
    /// 206: `len` bytes from `start`.
    Partial {
        /// First byte sent.
        start: u64,
        /// How many bytes.
        len: u64,
    },
    /// 416: the range starts at or past the end.
    Unsatisfiable,
}

/// Decides between 200, 304, 206 and 416 (see the module docs).
pub fn decide(head: &RequestHead, file: &Validators) -> Decision {
    // BEGIN SOLUTION: http-conditional
    let mut tags = head.fields_named("if-none-match").peekable();
    if tags.peek().is_some() {
        if tags.any(|list| tag_list_matches(list, &file.etag)) {
            return Decision::NotModified;
        }
    } else if let Some(since) = head.field("if-modified-since").and_then(parse_date)
        && file.modified <= since
    {
        return Decision::NotModified;
    }
    if head.method != "GET" {
        return Decision::Full;
    }
    let Some(range) = head.field("range") else {
        return Decision::Full;
    };
    if let Some(condition) = head.field("if-range")
        && !if_range_holds(condition, file)
    {
        return Decision::Full;
    }
    match parse_range(range, file.size) {
        None => Decision::Full,
        Some(None) => Decision::Unsatisfiable,
        Some(Some((start, len))) => Decision::Partial { start, len },
    }
    // END SOLUTION
}

/// `modified` rounded down to whole seconds, as an HTTP date carries it.
pub fn whole_seconds(modified: SystemTime) -> SystemTime {
    let secs = modified
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn parse_date(value: &[u8]) -> Option<SystemTime> {
    httpdate::parse_http_date(std::str::from_utf8(value).ok()?.trim()).ok()
}

/// Whether `list` (`*`, or entity tags separated by commas) holds a tag that weakly matches
/// `etag` (the same opaque tag, `W/` or not).
pub fn tag_list_matches(list: &[u8], etag: &str) -> bool {
    let list = trim_whitespace(list);
    if list == b"*" {
        return true;
    }
    let ours = etag.as_bytes();
    let mut rest = list;
    while let Some((tag, after)) = next_tag(rest) {
        if tag.opaque == ours {
            return true;
        }
        rest = after;
    }
    false
}

struct EntityTag<'a> {
    weak: bool,
    /// The quoted part, quotes included.
    opaque: &'a [u8],
}

/// The next entity tag in a comma-separated list, and what follows it.
fn next_tag(list: &[u8]) -> Option<(EntityTag<'_>, &[u8])> {
    let start = list
        .iter()
        .position(|&b| !matches!(b, b' ' | b'\t' | b','))?;
    let mut rest = &list[start..];
    let weak = rest.starts_with(b"W/");
    if weak {
        rest = &rest[2..];
    }
    if rest.first() != Some(&b'"') {
        return None;
    }
    let close = rest[1..].iter().position(|&b| b == b'"')? + 1;
    let (opaque, after) = rest.split_at(close + 1);
    Some((EntityTag { weak, opaque }, after))
}

/// `If-Range`: a strong tag equal to ours, or a date equal to our Last-Modified.
fn if_range_holds(condition: &[u8], file: &Validators) -> bool {
    let condition = trim_whitespace(condition);
    if condition.starts_with(b"\"") || condition.starts_with(b"W/") {
        return match next_tag(condition) {
            Some((tag, after)) => {
                !tag.weak && tag.opaque == file.etag.as_bytes() && trim_whitespace(after).is_empty()
            }
            None => false,
        };
    }
    parse_date(condition).is_some_and(|date| date == file.modified)
}

/// A single byte range: `None` to ignore the header, `Some(None)` when it cannot be satisfied,
/// `Some(Some((start, len)))` otherwise.
pub fn parse_range(value: &[u8], size: u64) -> Option<Option<(u64, u64)>> {
    let value = std::str::from_utf8(trim_whitespace(value)).ok()?;
    let (unit, spec) = value.split_once('=')?;
    if !unit.trim().eq_ignore_ascii_case("bytes") || spec.contains(',') {
        return None;
    }
    let (first, last) = spec.trim().split_once('-')?;
    let number = |text: &str| {
        (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
            .then(|| text.parse::<u64>().ok())
            .flatten()
    };
    match (first.is_empty(), last.is_empty()) {
        (true, false) => {
            let suffix = number(last)?;
            let len = suffix.min(size);
            Some((len > 0).then_some((size - len, len)))
        }
        (false, true) => {
            let start = number(first)?;
            Some((start < size).then(|| (start, size - start)))
        }
        (false, false) => {
            let (start, end) = (number(first)?, number(last)?);
            if end < start {
                return None;
            }
            Some((start < size).then(|| (start, end.min(size - 1) - start + 1)))
        }
        (true, true) => None,
    }
}
