//! From a request path to an open file, never outside the served root.
//!
//! **What.** [`resolve`] turns the path of a request target into what to send: an open regular
//! file, a directory listing, a redirect (a directory asked for without its trailing slash), or a
//! refusal. It works in two steps:
//!
//! 1. [`segments`] — split the path on `/` *first*, then percent-decode each segment exactly
//!    once. A segment that decodes to a `/` (`%2F`) is refused, as is a NUL (`%00`); `.` is
//!    dropped and `..` removes the segment before it, never going above the root.
//! 2. [`Root::open_beneath`] — open what is left with `openat2(RESOLVE_BENEATH |
//!    RESOLVE_NO_MAGICLINKS)` relative to a descriptor of the root, so the *kernel* refuses any
//!    step outside it: a `..` the first step missed, or a symlink (anywhere on the path) that
//!    points out of the root. Symlinks that stay inside the root still work.
//!
//! **Why.** The Python course's web server did `root + path` and `open`: `GET /../../etc/passwd` served the
//! password file. Filtering strings for `..` is not enough — `%2e%2e`, `..%2f`, double encoding,
//! a symlink planted in the served folder all get past a filter.
//!
//! **The pitfall.** Check-then-open (`canonicalize`, check the prefix, `open`) races: between the
//! check and the open, a directory on the path can be swapped for a symlink. Resolving with the
//! root's descriptor in one system call leaves no gap. The file is opened with `O_NONBLOCK` so a
//! FIFO in the root cannot hang the server in `open`, and only regular files are served.

use std::ffi::OsStr;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{OFlag, OpenHow, ResolveFlag, openat2};

use crate::listing;
use crate::status::Status;

/// The served folder, held open: every lookup starts from this descriptor.
#[derive(Debug)]
pub struct Root {
    dir: OwnedFd,
    path: PathBuf,
}

/// What a request path resolves to.
#[derive(Debug)]
pub enum Resolution {
    /// A regular file, open for reading; `name` is its last path segment (for its type).
    File {
        /// The open file.
        file: File,
        /// Its name, for the Content-Type.
        name: Vec<u8>,
    },
    /// A directory without `index.html`: its listing as an HTML page.
    Listing(String),
    /// A directory asked for without its trailing slash: the path to redirect to.
    Redirect(String),
    /// Nothing to serve: the status and a sentence for the error page.
    Refused(Status, &'static str),
}

impl Root {
    /// Opens `path` as the root to serve.
    pub fn open(path: &Path) -> io::Result<Root> {
        let flags = OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
        let dir = nix::fcntl::open(path, flags, nix::sys::stat::Mode::empty()).map_err(|e| {
            io::Error::new(
                io::Error::from(e).kind(),
                format!("cannot serve {}: {e}", path.display()),
            )
        })?;
        Ok(Root {
            dir,
            path: path.to_path_buf(),
        })
    }

    /// The folder this root was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Opens `relative` (no leading slash, no `.`/`..` needed) beneath the root, for reading.
    ///
    /// `EXDEV`/`ELOOP` (an escape or a magic link), `ENOENT`, `ENOTDIR` and `EACCES` all come
    /// back as `NotFound`: the client learns nothing about what lies outside the root.
    pub fn open_beneath(&self, relative: &Path) -> Result<File, Errno> {
        let relative = if relative.as_os_str().is_empty() {
            Path::new(".")
        } else {
            relative
        };
        let how = OpenHow::new()
            .flags(OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC | OFlag::O_NOCTTY)
            .resolve(ResolveFlag::RESOLVE_BENEATH | ResolveFlag::RESOLVE_NO_MAGICLINKS);
        loop {
            match openat2(self.dir.as_fd(), relative, how) {
                Err(Errno::EINTR | Errno::EAGAIN) => continue,
                other => return other.map(File::from),
            }
        }
    }
}

/// Splits a request path (query already removed) into decoded segments, resolving `.` and `..`.
pub fn segments(path: &str) -> Result<Vec<Vec<u8>>, (Status, &'static str)> {
    let mut kept: Vec<Vec<u8>> = Vec::new();
    for raw in path.split('/') {
        let segment = percent_decode(raw.as_bytes())
            .ok_or((Status::BadRequest, "a malformed percent-escape in the path"))?;
        if segment.contains(&0) {
            return Err((Status::BadRequest, "a NUL byte in the path"));
        }
        if segment.contains(&b'/') {
            return Err((Status::NotFound, "an encoded slash in the path"));
        }
        match segment.as_slice() {
            b"" | b"." => {}
            b".." => {
                kept.pop();
            }
            _ => kept.push(segment),
        }
    }
    Ok(kept)
}

/// Decodes `%XX` escapes once (`%252e` becomes `%2e`, not `.`); `None` for a malformed escape.
pub fn percent_decode(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let text = std::str::from_utf8(hex).ok()?;
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            out.push(u8::from_str_radix(text, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

/// Resolves the path of a request (`path` as sent, percent-encoded, without its query).
pub fn resolve(root: &Root, path: &str, query: Option<&str>) -> Resolution {
    let kept = match segments(path) {
        Ok(kept) => kept,
        Err((status, reason)) => return Resolution::Refused(status, reason),
    };
    let relative: PathBuf = kept.iter().map(|s| OsStr::from_bytes(s)).collect();
    let file = match root.open_beneath(&relative) {
        Ok(file) => file,
        Err(e) => return refusal(e),
    };
    let meta = match file.metadata() {
        Ok(meta) => meta,
        Err(_) => return Resolution::Refused(Status::InternalServerError, "cannot stat the file"),
    };
    let name = kept.last().cloned().unwrap_or_default();
    if meta.is_file() {
        if path.ends_with('/') {
            // `file.txt/` names a directory that is not there (open(2) would say ENOTDIR).
            return Resolution::Refused(Status::NotFound, "a file asked for as a directory");
        }
        return Resolution::File { file, name };
    }
    if !meta.is_dir() {
        return Resolution::Refused(Status::NotFound, "not a regular file");
    }
    if !path.ends_with('/') {
        return Resolution::Redirect(slashed(&kept, query));
    }
    match root.open_beneath(&relative.join("index.html")) {
        Ok(index) if index.metadata().is_ok_and(|m| m.is_file()) => Resolution::File {
            file: index,
            name: b"index.html".to_vec(),
        },
        _ => match listing::html(file, &kept) {
            Ok(page) => Resolution::Listing(page),
            Err(_) => Resolution::Refused(Status::NotFound, "cannot list the directory"),
        },
    }
}

/// The canonical path of a directory, with its slash: built from the resolved segments, never
/// from the path as sent — `//evil.example` must not become a `Location` that leaves the site.
fn slashed(kept: &[Vec<u8>], query: Option<&str>) -> String {
    let mut location = String::from("/");
    for segment in kept {
        location.push_str(&listing::percent_encode(segment));
        location.push('/');
    }
    if let Some(query) = query {
        location.push('?');
        location.push_str(query);
    }
    location
}

fn refusal(error: Errno) -> Resolution {
    match error {
        Errno::ENOENT
        | Errno::ENOTDIR
        | Errno::EXDEV
        | Errno::ELOOP
        | Errno::EACCES
        | Errno::ENAMETOOLONG
        | Errno::ENXIO
        | Errno::EPERM => Resolution::Refused(Status::NotFound, "no such file here"),
        _ => Resolution::Refused(Status::InternalServerError, "cannot open the file"),
    }
}
