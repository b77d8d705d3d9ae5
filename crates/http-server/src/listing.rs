//! A directory listing as an HTML page, safe whatever the file names hold.
//!
//! **What.** [`html`] lists a directory's entries (sorted, directories with a trailing `/`) as
//! links. Each name appears twice, and each place has its own escaping: in the link it is
//! *percent-encoded* byte by byte ([`percent_encode`]), so `a b#?.txt` becomes `a%20b%23%3F.txt`
//! and still names the file; in the text it is *HTML-escaped* ([`escape_html`]).
//!
//! **The pitfall.** A file named `<script>alert(1)</script>` in the served folder is a stored
//! cross-site-scripting attack on everyone who opens the listing if the name is pasted in as is;
//! a name with `#` or `?` breaks its own link if it is not encoded.

use std::fs::File;
use std::io;

use nix::dir::{Dir, Type};

/// The page listing the directory open as `dir`, reached by the decoded `segments`.
pub fn html(dir: File, segments: &[Vec<u8>]) -> io::Result<String> {
    let mut entries = Vec::new();
    let dir = Dir::from_fd(dir.into()).map_err(io::Error::from)?;
    for entry in dir {
        let entry = entry.map_err(io::Error::from)?;
        let name = entry.file_name().to_bytes();
        if name == b"." || name == b".." {
            continue;
        }
        let is_dir = entry.file_type() == Some(Type::Directory);
        entries.push((name.to_vec(), is_dir));
    }
    entries.sort();
    let mut title = String::from("/");
    for segment in segments {
        title.push_str(&String::from_utf8_lossy(segment));
        title.push('/');
    }
    let title = escape_html(&title);
    let mut page = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of {title}</title></head>\n\
         <body><h1>Index of {title}</h1>\n<ul>\n"
    );
    if !segments.is_empty() {
        page.push_str("<li><a href=\"../\">../</a></li>\n");
    }
    for (name, is_dir) in entries {
        let slash = if is_dir { "/" } else { "" };
        let href = percent_encode(&name);
        let text = escape_html(&String::from_utf8_lossy(&name));
        page.push_str(&format!(
            "<li><a href=\"{href}{slash}\">{text}{slash}</a></li>\n"
        ));
    }
    page.push_str("</ul></body></html>\n");
    Ok(page)
}

/// Percent-encodes every byte but the unreserved ones of RFC 3986 (letters, digits, `-._~`).
pub fn percent_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Escapes the five characters that mean something in HTML text and attributes.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}
