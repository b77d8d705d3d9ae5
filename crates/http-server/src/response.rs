//! The response planner: from a request head to a response head and a plan for its body.
//!
//! **What.** [`respond`] answers one parsed request: GET and HEAD are served, any other method
//! gets 405 with `Allow: GET, HEAD`. The path goes through [`crate::resolve`]; a file gets
//! `Content-Type` by its extension (text types with `charset=utf-8`), `Content-Length`,
//! `Last-Modified`, a strong `ETag` and `Accept-Ranges: bytes`, and [`crate::conditional`]
//! decides between 200, 304, 206 and 416. Every error carries a small HTML page. Every response
//! has `Date` and says whether the connection stays open.
//!
//! The result is a [`Response`]: the head as bytes, and a [`Body`] that is either bytes or an
//! open file and the range of it to send — so the code that writes it can use `sendfile(2)` and
//! never copy the file through user space.
//!
//! **The pitfall.** HEAD must carry exactly the headers GET would (Content-Length included) and
//! no body; a 304 carries no body at all. A server that gets either wrong desynchronises a
//! keep-alive client, which then reads the next response from the wrong byte.

use std::fmt::Write as _;
use std::fs::{File, Metadata};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::time::SystemTime;

use crate::conditional::{self, Decision, Validators};
use crate::head::{RequestHead, Version};
use crate::listing::escape_html;
use crate::resolve::{self, Resolution, Root};
use crate::status::Status;

/// What follows the head.
#[derive(Debug)]
pub enum Body {
    /// Nothing (HEAD, 304).
    Empty,
    /// These bytes.
    Bytes(Vec<u8>),
    /// `len` bytes of `file` from `offset`.
    File {
        /// The open file.
        file: File,
        /// First byte to send.
        offset: u64,
        /// How many bytes.
        len: u64,
    },
}

/// A planned response.
#[derive(Debug)]
pub struct Response {
    /// Its status.
    pub status: Status,
    /// The status line and header fields, ending in the empty line.
    pub head: Vec<u8>,
    /// What to send after the head.
    pub body: Body,
    /// Close the connection once it is sent.
    pub close: bool,
}

/// Appends the HTTP date of `now` to `out`. The `Date` field changes once a second, and a busy
/// server answers thousands of requests in that second: each thread formats it once per second
/// and copies it after that.
fn http_date_cached(now: SystemTime, out: &mut String) {
    thread_local! {
        static LAST: std::cell::RefCell<(u64, String)> = const {
            std::cell::RefCell::new((u64::MAX, String::new()))
        };
    }
    let second = now
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    LAST.with_borrow_mut(|(at, text)| {
        if *at != second {
            *at = second;
            *text = httpdate::fmt_http_date(now);
        }
        out.push_str(text);
    });
}

/// What every response to one request shares.
#[derive(Debug, Clone, Copy)]
pub struct Reply {
    /// HEAD: headers only.
    pub head_only: bool,
    /// Close after this response.
    pub close: bool,
    /// The request was HTTP/1.0 (keep-alive must then be said out loud).
    pub http10: bool,
    /// The time for the `Date` field.
    pub now: SystemTime,
}

impl Reply {
    /// The reply context for `request`.
    pub fn to(request: &RequestHead, now: SystemTime) -> Reply {
        Reply {
            head_only: request.method == "HEAD",
            close: !request.keep_alive,
            http10: request.version == Version::Http10,
            now,
        }
    }

    /// The reply context when there is no usable request (a parse error): close afterwards.
    pub fn closing(now: SystemTime) -> Reply {
        Reply {
            head_only: false,
            close: true,
            http10: false,
            now,
        }
    }

    /// Starts a head: status line, Date, Server, Connection; `extra` fields follow.
    fn head(&self, status: Status, extra: &[(&str, String)]) -> Vec<u8> {
        let mut head = format!("HTTP/1.1 {status}\r\n");
        head.push_str("Date: ");
        http_date_cached(self.now, &mut head);
        head.push_str("\r\n");
        head.push_str("Server: concurrency-labs\r\n");
        if self.close {
            head.push_str("Connection: close\r\n");
        } else if self.http10 {
            head.push_str("Connection: keep-alive\r\n");
        }
        for (name, value) in extra {
            let _ = write!(head, "{name}: {value}\r\n");
        }
        head.push_str("\r\n");
        head.into_bytes()
    }

    /// A response whose body is `page` (not sent for HEAD, but counted in Content-Length).
    fn page(&self, status: Status, page: String, mut extra: Vec<(&str, String)>) -> Response {
        extra.push(("Content-Type", "text/html; charset=utf-8".into()));
        extra.push(("Content-Length", page.len().to_string()));
        Response {
            status,
            head: self.head(status, &extra),
            body: if self.head_only {
                Body::Empty
            } else {
                Body::Bytes(page.into_bytes())
            },
            close: self.close,
        }
    }

    /// An error response with a small HTML page saying `reason`.
    pub fn error(&self, status: Status, reason: &str, extra: Vec<(&str, String)>) -> Response {
        let page = format!(
            "<!DOCTYPE html>\n<html><head><title>{status}</title></head>\n\
             <body><h1>{status}</h1><p>{}.</p></body></html>\n",
            escape_html(reason)
        );
        self.page(status, page, extra)
    }
}

/// Plans the response to `request`, serving files beneath `root`; `reply` is usually
/// [`Reply::to`] the request (a caller may force the connection closed).
pub fn respond(root: &Root, request: &RequestHead, reply: &Reply) -> Response {
    if request.method != "GET" && request.method != "HEAD" {
        let allow = vec![("Allow", "GET, HEAD".to_string())];
        return reply.error(
            Status::MethodNotAllowed,
            "only GET and HEAD are served",
            allow,
        );
    }
    let Some((path, query)) = split_target(&request.target) else {
        return reply.error(
            Status::BadRequest,
            "the request target is not a path",
            vec![],
        );
    };
    match resolve::resolve(root, path, query) {
        Resolution::File { file, name, meta } => file_response(reply, request, file, &meta, &name),
        Resolution::Listing(page) => reply.page(Status::Ok, page, vec![]),
        Resolution::Redirect(location) => {
            let page = format!("<a href=\"{}\">moved here</a>", escape_html(&location));
            reply.page(Status::MovedPermanently, page, vec![("Location", location)])
        }
        Resolution::Refused(status, reason) => reply.error(status, reason, vec![]),
    }
}

/// The path and query of an origin-form (`/p?q`) or absolute-form (`http://h/p?q`) target.
pub fn split_target(target: &str) -> Option<(&str, Option<&str>)> {
    let path = if target.starts_with('/') {
        target
    } else {
        let lower = target.get(..8).unwrap_or(target).to_ascii_lowercase();
        let after_scheme = if lower.starts_with("http://") {
            &target[7..]
        } else if lower.starts_with("https://") {
            &target[8..]
        } else {
            return None;
        };
        match after_scheme.find(['/', '?']) {
            Some(i) if after_scheme[i..].starts_with('/') => &after_scheme[i..],
            _ => "/",
        }
    };
    let path = path.split('#').next().unwrap_or(path);
    match path.split_once('?') {
        Some((path, query)) => Some((path, Some(query))),
        None => Some((path, None)),
    }
}

/// The Content-Type for a file name: by extension, text types in UTF-8.
pub fn content_type(name: &[u8]) -> String {
    let guess = mime_guess::from_path(std::ffi::OsStr::from_bytes(name)).first_raw();
    match guess {
        Some(kind) if is_text(kind) => format!("{kind}; charset=utf-8"),
        Some(kind) => kind.to_string(),
        None => "application/octet-stream".to_string(),
    }
}

fn is_text(kind: &str) -> bool {
    kind.starts_with("text/")
        || matches!(
            kind,
            "application/javascript" | "application/json" | "application/xml" | "image/svg+xml"
        )
}

/// The validators of an open file: a strong tag from inode, size and nanosecond mtime.
pub fn validators(meta: &std::fs::Metadata) -> Validators {
    let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
    Validators {
        etag: format!(
            "\"{:x}-{:x}-{:x}.{:x}\"",
            meta.ino(),
            meta.len(),
            meta.mtime(),
            meta.mtime_nsec()
        ),
        modified: conditional::whole_seconds(modified),
        size: meta.len(),
    }
}

fn file_response(
    reply: &Reply,
    request: &RequestHead,
    file: File,
    meta: &Metadata,
    name: &[u8],
) -> Response {
    let file_info = validators(meta);
    let mut extra = vec![
        ("ETag", file_info.etag.clone()),
        ("Last-Modified", httpdate::fmt_http_date(file_info.modified)),
    ];
    let size = file_info.size;
    let (status, offset, len) = match conditional::decide(request, &file_info) {
        Decision::NotModified => {
            let head = reply.head(Status::NotModified, &extra);
            return Response {
                status: Status::NotModified,
                head,
                body: Body::Empty,
                close: reply.close,
            };
        }
        Decision::Unsatisfiable => {
            extra.push(("Content-Range", format!("bytes */{size}")));
            return reply.error(
                Status::RangeNotSatisfiable,
                "the range starts past the end",
                extra,
            );
        }
        Decision::Full => (Status::Ok, 0, size),
        Decision::Partial { start, len } => {
            let end = start + len - 1;
            extra.push(("Content-Range", format!("bytes {start}-{end}/{size}")));
            (Status::PartialContent, start, len)
        }
    };
    extra.push(("Content-Type", content_type(name)));
    extra.push(("Content-Length", len.to_string()));
    extra.push(("Accept-Ranges", "bytes".to_string()));
    let body = if reply.head_only || len == 0 {
        Body::Empty
    } else {
        Body::File { file, offset, len }
    };
    Response {
        status,
        head: reply.head(status, &extra),
        body,
        close: reply.close,
    }
}
