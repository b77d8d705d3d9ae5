//! The FTP server under attack: what a hostile client (or a hostile local user sharing the
//! served root) tries, and what it gets. Each test here failed against the server before its
//! fix; the docs page's "What an attacker tries" section gives the measured results.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use common::{Ftp, Tree, run_client};
use harness::time::STEP;
use harness::{Deadline, ExampleProcess};
use nix::fcntl::{AT_FDCWD, RenameFlags, renameat2};

/// Tries in the race test, at least: each is a RETR, a LIST and a STOR through the flipping
/// symlink (about a millisecond each; the server before its fix escaped in about 1 try in 100).
const RACE_TRIES: u32 = 1_500;

/// SIZE commands in each try: one round trip each, the cheapest way to look through `d`.
const SIZES_PER_TRY: u32 = 8;

/// Swaps `root/d` (a real directory) and `root/d_swap` (a symlink to the outside directory)
/// with `RENAME_EXCHANGE`, as fast as it can, until `stop`; counts the swaps.
fn flip_until(root: &std::path::Path, stop: &AtomicBool, flips: &AtomicU64) {
    let (d, swap) = (root.join("d"), root.join("d_swap"));
    while !stop.load(Ordering::Relaxed) {
        renameat2(AT_FDCWD, &d, AT_FDCWD, &swap, RenameFlags::RENAME_EXCHANGE)
            .expect("exchanging d and d_swap");
        flips.fetch_add(1, Ordering::Relaxed);
    }
}

/// Sets the flag when dropped, so a failing test does not leave the flipper spinning.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// What the client saw in the race: reads of the benign file, of the secret, refusals.
#[derive(Debug, Default)]
struct Seen {
    benign: u32,
    secret: u32,
    refused: u32,
    outside_listings: u32,
}

/// SIZEs and one RETR of `d/secret.txt` (benign inside, secret outside), one NLST of `d`.
fn retr_and_list(ftp: &mut Ftp, seen: &mut Seen) {
    for _ in 0..SIZES_PER_TRY {
        match ftp.cmd("SIZE d/secret.txt").as_str() {
            "213 12" => seen.benign += 1,
            "213 7" => seen.secret += 1,
            reply => {
                assert!(reply.starts_with("550 "), "SIZE d/secret.txt: {reply}");
                seen.refused += 1;
            }
        }
    }
    let mut data = ftp.epsv();
    let reply = ftp.cmd("RETR d/secret.txt");
    if reply.starts_with("150 ") {
        let bytes = data.read_to_eof().unwrap();
        let done = ftp.reply();
        match &bytes[..] {
            b"benign file\n" => seen.benign += 1,
            b"secret\n" => seen.secret += 1,
            _ => assert!(!done.starts_with("226 "), "RETR sent {bytes:?}: {done}"),
        }
    } else {
        assert!(reply.starts_with("550 "), "RETR d/secret.txt: {reply}");
        seen.refused += 1;
    }
    let (names, done) = ftp.listing("NLST d");
    if done.starts_with("226 ") && !names.iter().any(|n| n == "marker") {
        seen.outside_listings += 1; // the benign directory holds `marker`, the outside one not
    }
}

#[test]
fn retr_list_and_stor_through_a_flipping_symlink_never_leave_the_root() {
    let tree = Tree::new();
    let root = tree.root();
    fs::create_dir(root.join("d")).unwrap();
    fs::write(root.join("d/secret.txt"), "benign file\n").unwrap();
    fs::write(root.join("d/marker"), "").unwrap();
    std::os::unix::fs::symlink(tree.outside(), root.join("d_swap")).unwrap();
    let server = tree.serve_with_uploads();
    let (stop, flips) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicU64::new(0)),
    );
    let flipper = {
        let (root, stop, flips) = (root.clone(), Arc::clone(&stop), Arc::clone(&flips));
        std::thread::spawn(move || flip_until(&root, &stop, &flips))
    };
    let _stop_on_panic = StopOnDrop(Arc::clone(&stop));
    let mut ftp = Ftp::login(server.addr());
    let deadline = Deadline::after(STEP * 6, "the race tries to finish");
    let mut seen = Seen::default();
    let mut tries = 0;
    let escaped = |seen: &Seen| {
        seen.secret + seen.outside_listings > 0 || Tree::names(&tree.outside()).len() > 1
    };
    // Until the race has been met from both sides, however the flipper was scheduled.
    let raced = |seen: &Seen| seen.benign > 0 && seen.refused > 0;
    while (tries < RACE_TRIES || !raced(&seen)) && !escaped(&seen) && deadline.remaining().is_ok() {
        retr_and_list(&mut ftp, &mut seen);
        let mut data = ftp.epsv();
        if ftp.cmd(&format!("STOR d/up-{tries}")).starts_with("150 ") {
            data.write_all(b"upload\n").unwrap();
            drop(data);
            ftp.reply();
        }
        tries += 1;
    }
    stop.store(true, Ordering::Relaxed);
    flipper.join().unwrap();
    eprintln!(
        "{tries} tries, {} flips: {seen:?}",
        flips.load(Ordering::Relaxed)
    );
    assert_eq!(seen.secret, 0, "RETR read outside the root: {seen:?}");
    assert_eq!(seen.outside_listings, 0, "NLST listed outside: {seen:?}");
    assert_eq!(
        Tree::names(&tree.outside()),
        ["secret.txt"],
        "STOR created files outside the root"
    );
    assert_eq!(
        fs::read_to_string(tree.outside().join("secret.txt")).unwrap(),
        "secret\n"
    );
    // The race happened: some tries met the directory, some the symlink.
    assert!(
        tries >= RACE_TRIES,
        "the deadline cut the tries short at {tries}: {seen:?}"
    );
    assert!(raced(&seen), "{seen:?}");
}

/// `ftp_server` serving `root`, with extra arguments.
fn example(root: &std::path::Path, extra: &[&str]) -> ExampleProcess {
    let mut args = vec!["--root", root.to_str().unwrap(), "--addr", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    ExampleProcess::start("ftp_server", &args).unwrap()
}

#[test]
fn retr_of_a_fifo_answers_550_and_ctrl_c_still_stops_the_server() {
    let tree = Tree::new();
    let fifo = tree.root().join("pipe");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o644)).unwrap();
    let server = example(&tree.root(), &[]);
    let mut ftp = Ftp::login(server.addr());
    let _data = ftp.epsv();
    let reply = ftp.cmd("RETR pipe");
    assert!(reply.starts_with("550 "), "{reply}");
    assert!(ftp.cmd("SIZE pipe").starts_with("550 "));
    let (lines, done) = ftp.listing("LIST");
    assert!(done.starts_with("226 "), "{done}");
    let kinds: Vec<(char, &str)> = lines
        .iter()
        .map(|l| (l.chars().next().unwrap(), l.rsplit(' ').next().unwrap()))
        .collect();
    assert!(kinds.contains(&('p', "pipe")), "{lines:?}");
    assert!(kinds.contains(&('d', "sub")), "{lines:?}");
    assert!(kinds.contains(&('-', "a.txt")), "{lines:?}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with('l') && l.ends_with(" inside_link -> sub/inner.txt")),
        "{lines:?}"
    );
    server.interrupt_and_expect_clean_exit().unwrap();
}

#[test]
fn anonymous_sessions_are_read_only_by_default() {
    let tree = Tree::new();
    let server = tree.serve();
    let mut ftp = Ftp::login(server.addr());
    let _data = ftp.epsv();
    assert_eq!(ftp.code("STOR new.txt"), 550);
    assert_eq!(ftp.code("STOR a.txt"), 550);
    assert_eq!(ftp.code("DELE a.txt"), 550);
    assert_eq!(ftp.code("MKD made"), 550);
    assert_eq!(ftp.code("RMD sub"), 550);
    // A real client is told so, too: curl's upload fails (exit 25: upload failed).
    let upload = tree.dir.path().join("up.txt");
    fs::write(&upload, "x\n").unwrap();
    let url = format!("ftp://{}/", server.addr());
    let out = run_client(
        "curl",
        &["-sS", "-T", upload.to_str().unwrap(), &url],
        "",
        Duration::from_secs(30),
    );
    assert_eq!(out.status.code(), Some(25), "curl -T on a read-only server");
    assert_eq!(
        Tree::names(&tree.root()),
        ["a.txt", "escape", "escape_dir", "inside_link", "sub"]
    );
    assert_eq!(Tree::names(&tree.root().join("sub")), ["inner.txt"]);
    assert_eq!(
        fs::read_to_string(tree.root().join("a.txt")).unwrap(),
        "hello\n"
    );
}

fn mode(path: &std::path::Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

/// STOR `name` with `content` over EPSV; the final reply.
fn stor(ftp: &mut Ftp, name: &str, content: &[u8]) -> String {
    let mut data = ftp.epsv();
    let started = ftp.cmd(&format!("STOR {name}"));
    if !started.starts_with("150 ") {
        return started;
    }
    data.write_all(content).unwrap();
    drop(data);
    ftp.reply()
}

#[test]
fn stor_and_dele_leave_read_only_files_alone_and_keep_private_ones_private() {
    let tree = Tree::new();
    let root = tree.root();
    fs::write(root.join("ro.txt"), "read only\n").unwrap();
    fs::set_permissions(root.join("ro.txt"), fs::Permissions::from_mode(0o444)).unwrap();
    fs::write(root.join("private.txt"), "private\n").unwrap();
    fs::set_permissions(root.join("private.txt"), fs::Permissions::from_mode(0o600)).unwrap();
    let server = tree.serve_with_uploads();
    let mut ftp = Ftp::login(server.addr());
    let reply = stor(&mut ftp, "ro.txt", b"replaced\n");
    assert!(reply.starts_with("550 "), "{reply}");
    assert_eq!(ftp.code("DELE ro.txt"), 550);
    assert_eq!(
        fs::read_to_string(root.join("ro.txt")).unwrap(),
        "read only\n"
    );
    assert_eq!(mode(&root.join("ro.txt")), 0o444);
    let reply = stor(&mut ftp, "private.txt", b"replaced\n");
    assert!(reply.starts_with("226 "), "{reply}");
    assert_eq!(
        fs::read_to_string(root.join("private.txt")).unwrap(),
        "replaced\n"
    );
    assert_eq!(mode(&root.join("private.txt")), 0o600, "the mode is kept");
    // A set-user-ID program keeps its permissions, not its set-user-ID bit.
    fs::write(root.join("tool"), "#!/bin/sh\n").unwrap();
    fs::set_permissions(root.join("tool"), fs::Permissions::from_mode(0o4755)).unwrap();
    let reply = stor(&mut ftp, "tool", b"#!/bin/sh\nid\n");
    assert!(reply.starts_with("226 "), "{reply}");
    assert_eq!(mode(&root.join("tool")), 0o755, "no set-user-ID upload");
    // A symlink is never written through, even one that stays inside.
    let reply = stor(&mut ftp, "inside_link", b"through\n");
    assert!(reply.starts_with("550 "), "{reply}");
    assert_eq!(
        fs::read_to_string(root.join("sub/inner.txt")).unwrap(),
        "inner\n"
    );
}

#[test]
fn stor_of_a_250_byte_name_works_and_no_temp_name_is_ever_seen() {
    let tree = Tree::new();
    let server = tree.serve_with_uploads();
    let mut ftp = Ftp::login(server.addr());
    let name = "n".repeat(250);
    let before = Tree::names(&tree.root());
    let mut data = ftp.epsv();
    assert!(ftp.cmd(&format!("STOR {name}")).starts_with("150 "));
    data.write_all(&[5u8; 50_000]).unwrap();
    // Mid-upload: nothing new in the directory, not even a hidden temp name.
    assert_eq!(Tree::names(&tree.root()), before);
    drop(data);
    let done = ftp.reply();
    assert!(done.starts_with("226 "), "{done}");
    assert_eq!(fs::read(tree.root().join(&name)).unwrap(), [5u8; 50_000]);
    // Replacing it works too, and leaves only the one name.
    let reply = stor(&mut ftp, &name, b"second\n");
    assert!(reply.starts_with("226 "), "{reply}");
    assert_eq!(fs::read(tree.root().join(&name)).unwrap(), b"second\n");
    let mut after = before.clone();
    after.push(name.clone());
    after.sort();
    assert_eq!(Tree::names(&tree.root()), after);
    // 256 bytes is over NAME_MAX: refused as a name, 553.
    let reply = stor(&mut ftp, &"n".repeat(256), b"x");
    assert!(reply.starts_with("553 "), "{reply}");
}

#[test]
fn port_and_eprt_connect_only_back_to_the_client_at_an_unprivileged_port() {
    let tree = Tree::new();
    let server = tree.serve();
    let mut ftp = Ftp::login(server.addr());
    for line in [
        "PORT 127,0,0,2,31,144", // another loopback address: a bounce
        "EPRT |1|127.0.0.2|8080|",
        "EPRT |2|::1|8080|",   // the client is 127.0.0.1
        "PORT 127,0,0,1,0,22", // ssh: a privileged port
        "EPRT |1|127.0.0.1|1023|",
        "PORT 10,0,0,1,0,21",
    ] {
        assert_eq!(ftp.code(line), 504, "{line}");
        assert_eq!(
            ftp.code("LIST"),
            503,
            "{line}: no data connection was set up"
        );
    }
    assert_eq!(ftp.code("EPRT |1|127.0.0.1|1024|"), 200);
    // curl asked to use another address for active mode is refused (curl exit 30).
    let url = format!("ftp://{}/a.txt", server.addr());
    let out = run_client(
        "curl",
        &["-sS", "--ftp-port", "127.0.0.2", &url],
        "",
        Duration::from_secs(30),
    );
    assert_eq!(
        out.status.code(),
        Some(30),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn ftp_server_without_root_serves_an_empty_read_only_folder() {
    let server = ExampleProcess::start("ftp_server", &["--addr", "127.0.0.1:0"]);
    let mut server = server.unwrap();
    let banner = server.read_line().unwrap();
    assert!(
        banner.contains("an empty folder") && banner.contains("read-only"),
        "{banner}"
    );
    let mut ftp = Ftp::login(server.addr());
    let (names, done) = ftp.listing("NLST");
    assert!(done.starts_with("226 "), "{done}");
    assert_eq!(names, Vec::<String>::new(), "not the current directory");
    let _data = ftp.epsv();
    assert_eq!(ftp.code("STOR x.txt"), 550);
    server.interrupt_and_expect_clean_exit().unwrap();
}

/// Connects from 127.0.0.2 to `port` on 127.0.0.1 and prints what it receives until the close.
const STRANGER: &str = r#"
import socket, sys
s = socket.socket()
s.settimeout(20)
s.bind(("127.0.0.2", 0))
s.connect(("127.0.0.1", int(sys.argv[1])))
data = b""
try:
    while chunk := s.recv(4096):
        data += chunk
except ConnectionResetError:
    pass
print(repr(data))
"#;

#[test]
fn retr_over_epsv_sends_nothing_to_a_stranger_from_another_address() {
    let tree = Tree::new();
    let server = tree.serve();
    let mut ftp = Ftp::login(server.addr());
    let reply = ftp.cmd("EPSV");
    let port: u16 = reply.split('|').nth(3).unwrap().parse().unwrap();
    assert!(ftp.cmd("RETR a.txt").starts_with("150 "));
    // The server is waiting for the data connection; a stranger gets there first.
    let stranger = run_client(
        "python3",
        &["-c", STRANGER, &port.to_string()],
        "",
        Duration::from_secs(30),
    );
    assert!(
        stranger.status.success(),
        "{}",
        String::from_utf8_lossy(&stranger.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&stranger.stdout),
        "b''\n",
        "closed, nothing sent"
    );
    let mut data = harness::Conn::connect(([127, 0, 0, 1], port).into()).unwrap();
    assert_eq!(data.read_to_eof().unwrap(), b"hello\n");
    assert!(ftp.reply().starts_with("226 "));
}
