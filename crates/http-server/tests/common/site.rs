//! A generated site for the crawler: 1,000 linked pages, some links relative, some absolute,
//! some to other hosts (not to be followed), some to pages that are not there. The crawler's
//! tests and its bench (`benches/crawl.rs` includes this file) crawl it.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

pub const PAGES: usize = 1000;
/// Every 50th page links to a page that does not exist: 20 broken links.
pub const BROKEN_EVERY: usize = 50;

/// The URL path of page `i` (page 0 is the site's index).
fn page(i: usize) -> String {
    match i {
        0 => "/".to_string(),
        i => format!("/d{}/page{i}.html", i % 10),
    }
}

/// Where page `i` is, under `root`.
pub fn file(root: &Path, i: usize) -> PathBuf {
    match i {
        0 => root.join("index.html"),
        i => root.join(format!("d{}/page{i}.html", i % 10)),
    }
}

/// The links of page `i`: to the next page (relative), to two children (absolute, and
/// root-relative with a fragment), to the same pages on other hosts, to a mail address, and
/// now and then to a page that is not there.
fn links(i: usize, authority: &str) -> Vec<String> {
    let next = (i + 1) % PAGES;
    let mut links = vec![match (i, next) {
        (0, n) => page(n)[1..].to_string(),
        (_, 0) => "../".to_string(),
        (_, n) => format!("..{}", page(n)),
    }];
    for child in [2 * i, 2 * i + 1]
        .into_iter()
        .filter(|&c| c > 0 && c < PAGES)
    {
        links.push(match child % 2 {
            0 => format!("http://{authority}{}", page(child)),
            _ => format!("{}#top", page(child)),
        });
    }
    let port = authority.rsplit_once(':').map_or("80", |(_, p)| p);
    links.push(format!("http://localhost:{port}{}", page(next))); // same server, other host name
    links.push(format!("http://example.invalid{}", page(next)));
    links.push("mailto:someone@example.invalid".to_string());
    if i.is_multiple_of(BROKEN_EVERY) {
        links.push(format!("/missing/{}.html", i / BROKEN_EVERY));
    }
    links
}

/// Writes the site under `root` for a server at `authority`; returns its pages and its broken
/// links.
pub fn generate(root: &Path, authority: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut broken = BTreeSet::new();
    for i in 0..PAGES {
        let mut html =
            format!("<!doctype html>\n<title>page {i}</title>\n<!-- <a href=\"/commented\"> -->\n");
        for (n, link) in links(i, authority).into_iter().enumerate() {
            if link.starts_with("/missing/") {
                broken.insert(link.clone());
            }
            // Every quoting HTML allows.
            html += &match n % 3 {
                0 => format!("<a href=\"{link}\">link {n}</a>\n"),
                1 => format!("<a class=x href='{link}'>link {n}</a>\n"),
                _ => format!("<A HREF={link}>link {n}</A>\n"),
            };
        }
        let path = file(root, i);
        fs::create_dir_all(path.parent().expect("a page is in a folder")).unwrap();
        fs::write(path, html).unwrap();
    }
    ((0..PAGES).map(page).collect(), broken)
}
