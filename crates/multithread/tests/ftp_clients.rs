//! The FTP server with real clients: curl, Python's ftplib, lftp, and this chapter's own
//! `ftp_client` example; the `ftp_server` example as a black box; a large round trip
//! (8 MiB by default, 100 MiB with `LABS_BIG=1`), byte-identical both ways.

mod common;

use std::fs;
use std::time::Duration;

use common::{Ftp, Tree, random_file, run_client, same_file};
use harness::ExampleProcess;

const CLIENT_LIMIT: Duration = Duration::from_secs(30);

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn curl_session_lists_retr_downloads_and_uploads() {
    let tree = Tree::new();
    let server = tree.serve_with_uploads();
    let url = format!("ftp://{}", server.addr());
    let curl = |args: &[&str]| {
        let mut all = vec!["--silent", "--show-error", "--max-time", "20"];
        all.extend_from_slice(args);
        let out = run_client("curl", &all, "", CLIENT_LIMIT);
        assert!(out.status.success(), "curl {args:?}: {}", text(&out.stderr));
        text(&out.stdout)
    };
    let listing = curl(&[&format!("{url}/")]);
    assert!(
        listing
            .lines()
            .any(|l| l.starts_with('-') && l.ends_with(" a.txt")),
        "{listing}"
    );
    assert!(
        listing
            .lines()
            .any(|l| l.starts_with('d') && l.ends_with(" sub")),
        "{listing}"
    );
    assert_eq!(
        curl(&["--list-only", &format!("{url}/sub/")]),
        "inner.txt\n",
        "ASCII mode: curl turns CRLF into LF"
    );
    assert_eq!(curl(&[&format!("{url}/a.txt")]), "hello\n");
    assert_eq!(curl(&[&format!("{url}/sub/inner.txt")]), "inner\n");
    let upload = tree.dir.path().join("upload.txt");
    fs::write(&upload, "from curl\n").unwrap();
    curl(&["-T", upload.to_str().unwrap(), &format!("{url}/sub/")]);
    assert_eq!(
        fs::read_to_string(tree.root().join("sub/upload.txt")).unwrap(),
        "from curl\n"
    );
    // Active mode (EPRT/PORT) too.
    assert_eq!(
        curl(&["--ftp-port", "127.0.0.1", &format!("{url}/a.txt")]),
        "hello\n"
    );
    // A file outside: curl reports the server's 550 (curl exit 78: remote file not found).
    let denied = run_client(
        "curl",
        &["--silent", &format!("{url}/escape")],
        "",
        CLIENT_LIMIT,
    );
    assert_eq!(denied.status.code(), Some(78));
    assert!(denied.stdout.is_empty());
}

const FTPLIB_SESSION: &str = r#"
import ftplib, io, sys
host, port, root = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ftp = ftplib.FTP()
ftp.connect(host, port, timeout=20)
print(ftp.login())
print(ftp.pwd())
print(sorted(ftp.nlst()))
lines = []
ftp.retrlines("LIST", lines.append)
print(len(lines))
data = io.BytesIO()
ftp.retrbinary("RETR a.txt", data.write)
print(data.getvalue())
ftp.storbinary("STOR py.bin", io.BytesIO(bytes(range(256)) * 1000))
print(ftp.size("py.bin"))
print(ftp.mkd("made"))
ftp.cwd("made")
print(ftp.pwd())
ftp.cwd("..")
print(ftp.rmd("made"))
print(ftp.delete("py.bin"))
try:
    ftp.retrbinary("RETR ../outside/secret.txt", data.write)
except ftplib.error_perm as e:
    print("refused", str(e)[:3])
ftp.set_pasv(False)
print(sorted(ftp.nlst("sub")))
print(ftp.quit())
"#;

#[test]
fn ftplib_session_retr_stor_and_directories() {
    let tree = Tree::new();
    let server = tree.serve_with_uploads();
    let (ip, port) = (
        server.addr().ip().to_string(),
        server.addr().port().to_string(),
    );
    let root = tree.root();
    let out = run_client(
        "python3",
        &["-c", FTPLIB_SESSION, &ip, &port, root.to_str().unwrap()],
        "",
        CLIENT_LIMIT,
    );
    assert!(out.status.success(), "ftplib: {}", text(&out.stderr));
    let lines: Vec<String> = text(&out.stdout).lines().map(str::to_string).collect();
    assert_eq!(
        lines,
        [
            "230 User anonymous logged in",
            "/",
            "['a.txt', 'inside_link', 'sub']",
            "3",
            "b'hello\\n'",
            "256000",
            "/made",
            "/made",
            "250 /made removed",
            "250 /py.bin deleted",
            "refused 550",
            "['inner.txt']",
            "221 Goodbye",
        ]
    );
}

#[test]
fn lftp_session_lists_retr_downloads_uploads_and_mirrors() {
    let tree = Tree::new();
    let server = tree.serve_with_uploads();
    let local = tree.dir.path().join("local");
    fs::create_dir(&local).unwrap();
    fs::write(local.join("up.txt"), "from lftp\n").unwrap();
    let script = format!(
        "set cmd:fail-exit yes; set ftp:ssl-allow no; set net:max-retries 1; \
         set net:timeout 10; set net:reconnect-interval-base 1; set xfer:clobber yes; lcd {local}; \
         open -u anonymous,lftp@ -p {port} {ip}; \
         cls -1; get a.txt; put up.txt; mkdir made; rmdir made; \
         cd sub; pwd; cd ..; mirror sub mirrored",
        local = local.display(),
        port = server.addr().port(),
        ip = server.addr().ip(),
    );
    let out = run_client("lftp", &["-c", &script], "", CLIENT_LIMIT);
    assert!(
        out.status.success(),
        "lftp: {}\n{}",
        text(&out.stderr),
        text(&out.stdout)
    );
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("a.txt\n") && stdout.contains("sub/\n"),
        "{stdout}"
    );
    assert!(stdout.contains("/sub\n"), "{stdout}");
    assert_eq!(fs::read_to_string(local.join("a.txt")).unwrap(), "hello\n");
    assert_eq!(
        fs::read_to_string(tree.root().join("up.txt")).unwrap(),
        "from lftp\n"
    );
    assert_eq!(
        fs::read_to_string(local.join("mirrored/inner.txt")).unwrap(),
        "inner\n"
    );
    assert!(!tree.root().join("made").exists());
}

/// 8 MiB, or 100 MiB with `LABS_BIG=1`.
fn big_len() -> usize {
    if std::env::var("LABS_BIG").is_ok_and(|v| v == "1") {
        100 << 20
    } else {
        8 << 20
    }
}

#[test]
fn curl_retr_and_stor_round_trip_a_large_file_byte_identical() {
    let tree = Tree::new();
    let server = tree.serve_with_uploads();
    let len = big_len();
    let source = tree.dir.path().join("big.src");
    let back = tree.dir.path().join("big.back");
    random_file(&source, len, 2026);
    let url = format!("ftp://{}/big.bin", server.addr());
    let limit = Duration::from_secs(if len > 10 << 20 { 120 } else { 30 });
    let up = run_client(
        "curl",
        &["-sS", "-T", source.to_str().unwrap(), &url],
        "",
        limit,
    );
    assert!(up.status.success(), "upload: {}", text(&up.stderr));
    assert!(
        same_file(&source, &tree.root().join("big.bin")),
        "uploaded bytes differ"
    );
    let down = run_client(
        "curl",
        &["-sS", "-o", back.to_str().unwrap(), &url],
        "",
        limit,
    );
    assert!(down.status.success(), "download: {}", text(&down.stderr));
    assert!(same_file(&source, &back), "downloaded bytes differ");
    // Streaming, not buffering: this process (server and test) never held the file. Only
    // meaningful when the file dwarfs everything else the test binary holds, so only for 100 MiB.
    let peak = multithread::memory::proc_kib("/proc/self/status", "VmHWM:").unwrap();
    if len >= 100 << 20 {
        assert!(
            peak < 64 * 1024,
            "peak RSS {peak} KiB for a {} MiB file",
            len >> 20
        );
    }
    eprintln!(
        "round trip of {} MiB: identical; peak RSS {peak} KiB",
        len >> 20
    );
}

/// The `ftp_server` example serving `root` on a free port.
fn ftp_server_example(root: &std::path::Path) -> ExampleProcess {
    ExampleProcess::start(
        "ftp_server",
        &[
            "--root",
            root.to_str().unwrap(),
            "--addr",
            "127.0.0.1:0",
            "--allow-uploads",
        ],
    )
    .unwrap()
}

#[test]
fn ftp_server_example_serves_and_ends_sessions_on_ctrl_c() {
    let tree = Tree::new();
    let root = tree.root();
    let server = ftp_server_example(&root);
    let mut ftp = Ftp::login(server.addr());
    let (names, done) = ftp.listing("NLST");
    assert!(done.starts_with("226 "), "{done}");
    assert_eq!(names, ["a.txt", "inside_link", "sub"]);
    let mut idle = Ftp::connect(server.addr());
    server.interrupt_and_expect_clean_exit().unwrap();
    ftp.conn.expect_eof().unwrap();
    idle.conn.expect_eof().unwrap();
}

#[test]
fn ftp_server_example_refuses_a_missing_root() {
    let mut server = ExampleProcess::spawn(
        "ftp_server",
        &["--root", "/no/such/dir", "--addr", "127.0.0.1:0"],
    )
    .unwrap();
    let text = server
        .expect_failure_sentence(Duration::from_secs(10))
        .unwrap();
    assert!(text.contains("cannot serve /no/such/dir"), "{text}");
}

#[test]
fn ftp_client_example_lists_retr_gets_and_puts() {
    let tree = Tree::new();
    let root = tree.root();
    let server = ftp_server_example(&root);
    let downloads = tree.dir.path().join("downloads");
    fs::create_dir(&downloads).unwrap();
    let upload = tree.dir.path().join("mine.txt");
    fs::write(&upload, "mine\n").unwrap();
    let addr = server.addr().to_string();
    let mut client = ExampleProcess::spawn(
        "ftp_client",
        &["--addr", &addr, "--dir", downloads.to_str().unwrap()],
    )
    .unwrap();
    let script = format!(
        "list\nget a.txt\nget nothing.txt\nput {}\nput /missing/file\nrm a.txt\nget\ncd sub\nlist\n\
         cd ..\nquit\n",
        upload.display()
    );
    std::io::Write::write_all(client.stdin(), script.as_bytes()).unwrap();
    client.close_stdin();
    let mut lines = Vec::new();
    while let Ok(line) = client.read_line() {
        lines.push(line);
    }
    client.expect_success().unwrap();
    let all = lines.join("\n");
    assert_eq!(lines[0], format!("connected to {addr} as anonymous"));
    assert!(all.contains("ftp> a.txt\ninside_link\nsub\n"), "{all}");
    assert!(all.contains("ftp> got a.txt (6 bytes)"), "{all}");
    assert!(
        all.contains("ftp> error: server said: 550 nothing.txt: does not exist"),
        "{all}"
    );
    assert!(all.contains("(5 bytes)"), "{all}");
    // A local file that is not there is named; a command the client lacks is called unknown.
    assert!(
        all.contains("ftp> error: cannot read /missing/file: No such file or directory"),
        "{all}"
    );
    assert!(
        all.contains("ftp> unknown command \"rm\"; commands: list | cd DIR"),
        "{all}"
    );
    assert!(all.contains("ftp> get needs an argument;"), "{all}");
    assert!(
        all.contains("ftp> now in sub\nftp> inner.txt\nftp> now in .."),
        "{all}"
    );
    assert!(all.ends_with("bye"), "{all}");
    assert_eq!(
        fs::read_to_string(downloads.join("a.txt")).unwrap(),
        "hello\n"
    );
    assert_eq!(fs::read_to_string(root.join("mine.txt")).unwrap(), "mine\n");
    server.interrupt_and_expect_clean_exit().unwrap();
}
