//! Links: the `href`s of a page, and where each one leads — if it stays on the crawled host.
//!
//! [`hrefs`] is a small scanner, not an HTML parser: it walks the tags, skips comments and the
//! raw text of `<script>` and `<style>`, and reads attributes quoted with `"` or `'` or not at
//! all. That is enough for pages this chapter's server serves; what it does not do is decode
//! character references other than `&amp;` (a link with `&#47;` in it is taken literally).
//!
//! [`resolve`] is RFC 3986's reference resolution, cut down to what a crawler needs: a
//! fragment is dropped (`page#top` is `page`), an absolute or scheme-relative URL is kept only
//! on the same host *and port* (`http://host` is `http://host:80`), other schemes (`mailto:`,
//! `https:`) are not followed, and `.`/`..` segments are removed, so `a/../b` and `b` are one
//! page and are fetched once. The pitfall: without that normalising, a site with relative links
//! in both directions is an endless crawl of ever-longer paths.

/// The values of every `href` attribute in `html`, in order.
pub fn hrefs(html: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(open) = find(html, at, b"<") {
        at = open + 1;
        if html[at..].starts_with(b"!--") {
            at = find(html, at, b"-->").map_or(html.len(), |end| end + 3);
            continue;
        }
        let name_end = html[at..]
            .iter()
            .position(|b| b.is_ascii_whitespace() || *b == b'>' || *b == b'/')
            .map_or(html.len(), |n| at + n);
        let name = html[at..name_end].to_ascii_lowercase();
        at = attributes(html, name_end, &mut found);
        if name == b"script" || name == b"style" {
            let mut close = b"</".to_vec();
            close.extend_from_slice(&name);
            at = find_ignoring_case(html, at, &close).unwrap_or(html.len());
        }
    }
    found
}

/// Reads the attributes of a tag from `at` to its `>`, keeping `href` values; returns where
/// the tag ends.
fn attributes(html: &[u8], mut at: usize, found: &mut Vec<String>) -> usize {
    let skip_space = |at: usize| {
        at + html[at..]
            .iter()
            .take_while(|b| b.is_ascii_whitespace())
            .count()
    };
    loop {
        at = skip_space(at);
        match html.get(at) {
            None => return at,
            Some(b'>') => return at + 1,
            Some(b'/') => {
                at += 1;
                continue;
            }
            Some(_) => {}
        }
        let name_len = html[at..]
            .iter()
            .take_while(|b| !b.is_ascii_whitespace() && !matches!(b, b'=' | b'>' | b'/'))
            .count()
            .max(1);
        let name = html[at..at + name_len].to_ascii_lowercase();
        at = skip_space(at + name_len);
        if html.get(at) != Some(&b'=') {
            continue; // an attribute without a value
        }
        at = skip_space(at + 1);
        let (value, end) = match html.get(at) {
            Some(&quote @ (b'"' | b'\'')) => {
                let end = find(html, at + 1, &[quote]).unwrap_or(html.len());
                (&html[at + 1..end], (end + 1).min(html.len()))
            }
            _ => {
                let len = html[at..]
                    .iter()
                    .take_while(|b| !b.is_ascii_whitespace() && **b != b'>')
                    .count();
                (&html[at..at + len], at + len)
            }
        };
        if name == b"href" {
            found.push(String::from_utf8_lossy(value).replace("&amp;", "&"));
        }
        at = end;
    }
}

fn find(haystack: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    let rest = haystack.get(from..)?;
    rest.windows(needle.len())
        .position(|w| w == needle)
        .map(|n| from + n)
}

fn find_ignoring_case(haystack: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    let rest = haystack.get(from..)?;
    rest.windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
        .map(|n| from + n)
}

/// The path (with its query) that `href`, found on the page at path `base`, leads to — if it
/// is on `authority` (`host:port`, lowercase, port always given) over `http`; otherwise `None`.
pub fn resolve(authority: &str, base: &str, href: &str) -> Option<String> {
    let href = href.trim();
    let href = href.split_once('#').map_or(href, |(before, _)| before);
    let target = if let Some(rest) = href.strip_prefix("//") {
        same_host(authority, rest)?
    } else if let Some((scheme, rest)) = scheme(href) {
        if !scheme.eq_ignore_ascii_case("http") {
            return None;
        }
        same_host(authority, rest.strip_prefix("//")?)?
    } else if href.starts_with('/') {
        href.to_string()
    } else if href.is_empty() {
        return None; // the page itself (or only a fragment of it)
    } else if href.starts_with('?') {
        format!(
            "{}{href}",
            base.split_once('?').map_or(base, |(path, _)| path)
        )
    } else {
        let base = base.split_once('?').map_or(base, |(path, _)| path);
        format!("{}{href}", &base[..=base.rfind('/').unwrap_or(0)])
    };
    Some(normalize(&target))
}

/// `(scheme, rest)` if `href` starts with a scheme (`http:`, `mailto:`).
fn scheme(href: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = href.split_once(':')?;
    let mut chars = scheme.chars();
    let valid = chars.next()?.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then_some((scheme, rest))
}

/// The path of `rest` (`host[:port][/path]`) if its host and port are `authority`'s.
fn same_host(authority: &str, rest: &str) -> Option<String> {
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (host, path) = rest.split_at(end);
    let host = host.to_ascii_lowercase();
    let host = if host.contains(':') {
        host
    } else {
        format!("{host}:80")
    };
    (host == authority).then(|| match path.strip_prefix('?') {
        Some(_) => format!("/{path}"),
        None if path.is_empty() => "/".to_string(),
        None => path.to_string(),
    })
}

/// Removes `.` and `..` segments from an absolute path (its query left alone).
pub fn normalize(target: &str) -> String {
    let (path, query) = match target.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (target, None),
    };
    let mut segments: Vec<&str> = Vec::new();
    let parts: Vec<&str> = path.split('/').skip(1).collect();
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        match *part {
            "." | ".." => {
                if *part == ".." {
                    segments.pop();
                }
                if last {
                    segments.push(""); // `a/..` is the directory `/`, with its slash
                }
            }
            part => segments.push(part),
        }
    }
    let mut normal = format!("/{}", segments.join("/"));
    if let Some(query) = query {
        normal.push('?');
        normal.push_str(query);
    }
    normal
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_hrefs_are_found_in_every_quoting() {
        let html = br#"<html><head><link rel=stylesheet href="style.css"></head>
            <body><A HREF='/x?a=1&amp;b=2'>x</A> <a class="c" href=plain.html>p</a>
            <a name=top>no href</a><img src="i.png"/><a href = "spaced" >s</a>"#;
        assert_eq!(
            hrefs(html),
            ["style.css", "/x?a=1&b=2", "plain.html", "spaced"]
        );
    }

    #[test]
    fn links_in_comments_scripts_and_styles_are_not_links() {
        let html = br##"<!-- <a href="commented"> --><script>let s = '<a href="js">';</script>
            <style>a[href="css"] {}</style><a href="real">r</a><a href="#">"##;
        assert_eq!(hrefs(html), ["real", "#"]);
        assert_eq!(hrefs(b"<a href=\"unterminated"), ["unterminated"]);
        assert!(hrefs(b"<").is_empty() && hrefs(b"<a href=").len() == 1);
    }

    #[test]
    fn links_resolve_relative_absolute_and_other_hosts() {
        let at = |href| resolve("127.0.0.1:8080", "/dir/page.html?q=1", href);
        assert_eq!(at("other.html").as_deref(), Some("/dir/other.html"));
        assert_eq!(at("../up.html#part").as_deref(), Some("/up.html"));
        assert_eq!(at("./sub/../same.html").as_deref(), Some("/dir/same.html"));
        assert_eq!(at("/abs/x.html").as_deref(), Some("/abs/x.html"));
        assert_eq!(at("?q=2").as_deref(), Some("/dir/page.html?q=2"));
        assert_eq!(at("../../../../etc").as_deref(), Some("/etc"));
        assert_eq!(at("..").as_deref(), Some("/"));
        assert_eq!(at("http://127.0.0.1:8080/a").as_deref(), Some("/a"));
        assert_eq!(at("HTTP://127.0.0.1:8080").as_deref(), Some("/"));
        assert_eq!(at("//127.0.0.1:8080/b").as_deref(), Some("/b"));
        for elsewhere in [
            "http://127.0.0.1:8081/a",
            "http://example.com/",
            "https://127.0.0.1:8080/",
            "mailto:someone@example.com",
            "javascript:void(0)",
            "//example.com/x",
            "#top",
            "",
        ] {
            assert_eq!(at(elsewhere), None, "{elsewhere}");
        }
        assert_eq!(
            resolve("example.com:80", "/", "http://EXAMPLE.com/x").as_deref(),
            Some("/x")
        );
    }
}
