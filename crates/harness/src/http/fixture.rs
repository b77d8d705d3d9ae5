//! The folder every HTTP server under test serves, the secret beside it, and the hostile paths
//! that must never reach the secret.
//!
//! ```text
//! <tmp>/secret.txt            outside the root: no response may ever contain SECRET
//! <tmp>/www/                  the root
//!   hello.txt  page.html  data.bin (100,000 bytes)
//!   listing/   a b.txt  <b>&amp.txt  sub/
//!   site/      index.html
//!   inside-link  -> hello.txt            (a symlink that stays inside: served)
//!   outside-link -> ../secret.txt        (leads out: 404)
//!   outside-abs  -> <tmp>/secret.txt     (leads out: 404)
//!   outside-dir  -> ..                   (a directory out of the root: 404 beneath it)
//! ```

use std::fs;
use std::io;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

/// The marker in the file outside the root.
pub const SECRET: &str = "SECRET-7f3a9c outside the root";
/// The body of `/hello.txt`.
pub const HELLO: &str = "hello, http\n";
/// The body of `/site/index.html`.
pub const SITE_INDEX: &str = "<!DOCTYPE html><title>site</title><p>site index</p>\n";
/// The size of `/data.bin`.
pub const DATA_LEN: usize = 100_000;

/// The bytes of `/data.bin`: every byte value, in an order that shows a misplaced range.
pub fn data_bin() -> Vec<u8> {
    (0..DATA_LEN).map(|i| (i * 31 % 251) as u8).collect()
}

/// A served folder in a temporary directory, removed on drop.
#[derive(Debug)]
pub struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    /// Builds the tree above.
    pub fn create() -> io::Result<Fixture> {
        let dir = tempfile::Builder::new().prefix("labs-http-").tempdir()?;
        let secret = dir.path().join("secret.txt");
        fs::write(&secret, format!("{SECRET}\n"))?;
        let root = dir.path().join("www");
        fs::create_dir(&root)?;
        fs::write(root.join("hello.txt"), HELLO)?;
        fs::write(
            root.join("page.html"),
            "<!DOCTYPE html><title>page</title>\n",
        )?;
        fs::write(root.join("data.bin"), data_bin())?;
        fs::create_dir_all(root.join("listing/sub"))?;
        fs::write(root.join("listing/a b.txt"), "a b\n")?;
        fs::write(root.join("listing/<b>&amp.txt"), "markup\n")?;
        fs::create_dir(root.join("site"))?;
        fs::write(root.join("site/index.html"), SITE_INDEX)?;
        symlink("hello.txt", root.join("inside-link"))?;
        symlink("../secret.txt", root.join("outside-link"))?;
        symlink(&secret, root.join("outside-abs"))?;
        symlink("..", root.join("outside-dir"))?;
        Ok(Fixture { dir })
    }

    /// The folder to serve.
    pub fn root(&self) -> PathBuf {
        self.dir.path().join("www")
    }

    /// The folder that holds the root and the secret.
    pub fn parent(&self) -> &Path {
        self.dir.path()
    }
}

/// Paths that try to leave the root: every spelling of `..` joined by every spelling of `/`,
/// one to three levels deep, aimed at the secret beside the root and at `/etc/passwd`; then
/// absolute paths, absolute-form targets and the symlinks of the fixture.
pub fn traversal_payloads() -> Vec<String> {
    let dots = [
        "..",
        "%2e%2e",
        "%2E%2E",
        ".%2e",
        "%2e.",
        "%252e%252e",
        "%c0%ae%c0%ae",
        "%e0%80%ae%e0%80%ae",
        "%c0%2e%c0%2e",
        "..%00",
        "...",
        ".%00.",
    ];
    let slashes = [
        "/",
        "%2f",
        "%2F",
        "\\",
        "%5c",
        "%5C",
        "%252f",
        "%c0%af",
        "%e0%80%af",
        "//",
        "/./",
    ];
    let mut payloads = Vec::new();
    for dot in dots {
        for slash in slashes {
            for depth in 1..=3 {
                let climb = format!("{dot}{slash}").repeat(depth);
                payloads.push(format!("/{climb}secret.txt"));
                payloads.push(format!("/listing/{climb}{climb}etc/passwd"));
            }
        }
    }
    let fixed = [
        "/etc/passwd",
        "//etc/passwd",
        "/%2fetc%2fpasswd",
        "/..",
        "/../",
        "/../secret.txt",
        "/./../secret.txt",
        "/listing/sub/../../../secret.txt",
        "/site/%2e%2e/%2e%2e/secret.txt",
        "/%2e%2e%2fsecret.txt",
        "/..%2fsecret.txt",
        "/..%5csecret.txt",
        "/..\\secret.txt",
        "/%00/../secret.txt",
        "/hello.txt%00.html",
        "http://suite/../secret.txt",
        "http://suite/%2e%2e/secret.txt",
        "http://suite/..%2f..%2fsecret.txt",
        "/outside-link",
        "/outside-abs",
        "/outside-dir/secret.txt",
        "/outside-dir/www/outside-dir/secret.txt",
        "/outside-dir/",
        "/inside-link/../../secret.txt",
        "/proc/self/root/etc/passwd",
        "/dev/stdin",
    ];
    payloads.extend(fixed.iter().map(|p| p.to_string()));
    payloads
}
