//! Root confinement without a socket: decoding, `.`/`..`, what is refused, and what the kernel
//! refuses for us (symlinks out of the root, FIFOs, devices).

use std::fs;
use std::os::unix::fs::symlink;

use http_server::Status;
use http_server::resolve::{Resolution, Root, percent_decode, resolve, segments};

fn names(path: &str) -> Vec<String> {
    segments(path)
        .unwrap()
        .iter()
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect()
}

#[test]
fn each_segment_is_decoded_once_and_dot_segments_resolved() {
    assert_eq!(names("/a/./b/../c/"), ["a", "c"]);
    assert_eq!(names("/../../a"), ["a"]);
    assert_eq!(names("/%2e%2e/a/%2E/b"), ["a", "b"]);
    // Decoded once: %252e%252e is the name "%2e%2e", not "..".
    assert_eq!(names("/x/%252e%252e/y"), ["x", "%2e%2e", "y"]);
    assert_eq!(names("/a%20b/%c0%ae"), ["a b", "\u{fffd}\u{fffd}"]);
    assert_eq!(percent_decode(b"%41%7a"), Some(b"Az".to_vec()));
    assert_eq!(percent_decode(b"%4"), None);
    assert_eq!(percent_decode(b"%zz"), None);
}

#[test]
fn encoded_slashes_nul_bytes_and_bad_escapes_are_refused() {
    assert_eq!(segments("/..%2fsecret").unwrap_err().0, Status::NotFound);
    assert_eq!(segments("/a%2Fb").unwrap_err().0, Status::NotFound);
    assert_eq!(segments("/a%00.html").unwrap_err().0, Status::BadRequest);
    assert_eq!(segments("/a%g0").unwrap_err().0, Status::BadRequest);
}

fn status(resolution: Resolution) -> String {
    match resolution {
        Resolution::File { name, .. } => format!("file {}", String::from_utf8_lossy(&name)),
        Resolution::Listing(_) => "listing".into(),
        Resolution::Redirect(to) => format!("redirect {to}"),
        Resolution::Refused(status, _) => format!("refused {}", status.code()),
    }
}

#[test]
fn the_kernel_keeps_lookups_beneath_the_root() {
    let dir = tempfile::tempdir().unwrap();
    let root_path = dir.path().join("www");
    fs::create_dir_all(root_path.join("evil.example")).unwrap();
    fs::write(dir.path().join("secret"), "secret").unwrap();
    fs::write(root_path.join("page.txt"), "page").unwrap();
    symlink("page.txt", root_path.join("alias")).unwrap();
    symlink("../secret", root_path.join("escape")).unwrap();
    symlink("/proc/self/root", root_path.join("magic")).unwrap();
    nix::unistd::mkfifo(
        &root_path.join("fifo"),
        nix::sys::stat::Mode::from_bits_truncate(0o600),
    )
    .unwrap();
    let root = Root::open(&root_path).unwrap();
    let cases = [
        ("/page.txt", "file page.txt"),
        ("/alias", "file alias"),
        ("/escape", "refused 404"),
        ("/magic/etc/passwd", "refused 404"),
        ("/fifo", "refused 404"),
        ("/missing", "refused 404"),
        ("/page.txt/", "refused 404"),
        ("/evil.example", "redirect /evil.example/"),
        // A protocol-relative Location would send the client to another site.
        ("//evil.example", "redirect /evil.example/"),
        ("/evil.example/", "listing"),
    ];
    for (path, expected) in cases {
        assert_eq!(status(resolve(&root, path, None)), expected, "{path}");
    }
    assert_eq!(
        status(resolve(&root, "/evil.example", Some("a=1"))),
        "redirect /evil.example/?a=1"
    );
}

#[test]
fn a_root_that_is_not_a_directory_is_refused_with_a_sentence() {
    let error = Root::open(std::path::Path::new("/nonexistent/labs-root")).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("cannot serve /nonexistent/labs-root:"),
        "{error}"
    );
}
