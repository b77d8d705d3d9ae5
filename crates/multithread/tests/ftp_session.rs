//! The FTP server byte for byte: every command and its replies, confinement to the root, IAC
//! bytes, an over-long line, concurrent sessions, and uploads cut short.

mod common;

use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;

use common::{Ftp, Tree, active_listener};
use harness::time::{STEP, scaled};
use harness::{Deadline, serve};
use multithread::ftp::{self, Config};

#[test]
fn login_sequence_and_the_simple_commands() {
    let tree = Tree::new();
    let server = tree.serve();
    let mut ftp = Ftp::connect(server.addr());
    for (line, code, why) in [
        ("PWD", 530, "nothing before login"),
        ("PASS x", 503, "PASS before USER is the wrong sequence"),
        ("USER", 501, "a name is needed"),
        ("USER nobody", 331, "any name may try"),
        ("PASS x", 530, "only anonymous without a users file"),
        ("USER anonymous", 331, "anonymous may try"),
        ("PASS guest@", 230, "with any password"),
        ("PASS again", 503, "already logged in, and still so"),
    ] {
        assert_eq!(ftp.code(line), code, "{line}: {why}");
    }
    assert_eq!(ftp.cmd("SYST"), "215 UNIX Type: L8");
    assert_eq!(ftp.code("NOOP"), 200);
    assert_eq!(ftp.cmd("PWD"), "257 \"/\" is the current directory");
    for (line, code) in [
        ("TYPE I", 200),
        ("TYPE A", 200),
        ("TYPE L 8", 200),
        ("TYPE E", 504),
        ("TYPE X", 501),
        ("TYPE", 501),
        ("MODE S", 200),
        ("MODE B", 504),
        ("MODE Q", 501),
        ("STRU F", 200),
        ("STRU R", 504),
        ("XYZZY", 502),
        ("RNFR a.txt", 550), // read-only
        ("RNTO b.txt", 503),
        ("CWD", 501),
        ("RETR", 501),
        ("STOR", 501),
        ("DELE", 501),
        ("PORT", 501),
        ("ABOR", 226),
    ] {
        assert_eq!(ftp.code(line), code, "{line}");
    }
    assert!(ftp.cmd("FEAT").ends_with("211 End"));
    assert_eq!(ftp.code("quit"), 221, "commands are case-insensitive");
    ftp.conn.expect_eof().unwrap();
}

#[test]
fn a_users_file_decides_who_logs_in() {
    let tree = Tree::new();
    let users = tree.dir.path().join("users");
    fs::write(&users, "# name:password\nalice:wonder land\n\nbob:b\n").unwrap();
    let config = Config::with_users(&tree.root(), &users).unwrap();
    let server = serve(move |listener, stop| ftp::run(listener, &stop, &config));
    let mut ftp = Ftp::connect(server.addr());
    for (user, password, code) in [
        ("anonymous", "x", 530),
        ("alice", "wonder", 530),
        ("bob", "b", 230),
        ("alice", "wonder land", 230),
    ] {
        assert_eq!(ftp.code(&format!("USER {user}")), 331);
        assert_eq!(ftp.code(&format!("PASS {password}")), code, "{user}");
    }
    assert!(ftp::parse_users("no colon here").is_err());
}

#[test]
fn directories_listings_sizes_and_deletes() {
    let tree = Tree::new();
    let server = tree.serve_with_uploads();
    let mut ftp = Ftp::login(server.addr());
    assert_eq!(ftp.cmd("MKD new"), "257 \"/new\" created");
    assert_eq!(ftp.code("MKD new"), 550, "exists already");
    assert_eq!(ftp.code("CWD new"), 250);
    assert_eq!(ftp.cmd("PWD"), "257 \"/new\" is the current directory");
    assert_eq!(ftp.code("CWD /sub"), 250);
    assert_eq!(ftp.code("CDUP"), 250);
    assert_eq!(ftp.cmd("PWD"), "257 \"/\" is the current directory");
    assert_eq!(ftp.code("CWD a.txt"), 550, "not a directory");
    assert_eq!(ftp.code("CWD nowhere"), 550);
    assert_eq!(ftp.cmd("SIZE a.txt"), "213 6");
    assert_eq!(
        ftp.cmd("SIZE inside_link"),
        "213 6",
        "a symlink inside the root is fine"
    );
    assert_eq!(ftp.code("SIZE sub"), 550);
    assert_eq!(ftp.code("SIZE missing"), 550);
    let (names, done) = ftp.listing("NLST");
    assert!(done.starts_with("226 "), "{done}");
    assert_eq!(
        names,
        ["a.txt", "inside_link", "new", "sub"],
        "no symlink out is listed"
    );
    let (lines, done) = ftp.listing("LIST -la sub");
    assert!(done.starts_with("226 "), "{done}");
    assert_eq!(lines.len(), 1);
    assert!(lines[0].starts_with("-rw"), "{}", lines[0]);
    assert!(lines[0].ends_with(" inner.txt"), "{}", lines[0]);
    let (lines, _) = ftp.listing("LIST a.txt");
    assert!(
        lines[0].contains(" 6 ") && lines[0].ends_with(" a.txt"),
        "{lines:?}"
    );
    assert_eq!(ftp.code("RMD sub"), 550, "not empty");
    assert_eq!(ftp.code("RMD new"), 250);
    assert_eq!(ftp.code("RMD /"), 550);
    assert_eq!(ftp.code("DELE sub"), 550, "a directory");
    assert_eq!(ftp.code("DELE sub/inner.txt"), 250);
    assert_eq!(ftp.code("DELE sub/inner.txt"), 550, "gone");
    assert_eq!(
        ftp.code("LIST"),
        503,
        "a transfer before PASV/EPSV/PORT/EPRT"
    );
    assert_eq!(Tree::names(&tree.root().join("sub")), Vec::<String>::new());
}

#[test]
fn rnfr_and_rnto_rename_inside_the_root_and_never_replace() {
    let tree = Tree::new();
    fs::write(tree.root().join("ro.txt"), "ro\n").unwrap();
    let ro = fs::Permissions::from_mode(0o444);
    fs::set_permissions(tree.root().join("ro.txt"), ro).unwrap();
    let server = tree.serve_with_uploads();
    let mut ftp = Ftp::login(server.addr());
    assert_eq!(ftp.code("RNTO b.txt"), 503, "no RNFR");
    assert_eq!(ftp.code("RNFR a.txt"), 350);
    assert_eq!(ftp.cmd("RNTO b.txt"), "250 /a.txt renamed to /b.txt");
    assert_eq!(
        fs::read_to_string(tree.root().join("b.txt")).unwrap(),
        "hello\n"
    );
    for (to, code) in [
        ("../outside/x", 550),  // above the root
        ("escape_dir/x", 550),  // through a symlink leading out
        ("sub/inner.txt", 550), // exists: never replaced
        ("nowhere/x", 550),     // no such directory
    ] {
        assert_eq!(ftp.code("RNFR b.txt"), 350);
        assert_eq!(ftp.code(&format!("RNTO {to}")), code, "RNTO {to}");
    }
    assert_eq!(ftp.code("RNFR escape"), 550, "a symlink leading out");
    assert_eq!(ftp.code("RNFR ro.txt"), 550, "read-only");
    assert_eq!(ftp.code("RNFR b.txt"), 350);
    assert_eq!(ftp.code("NOOP"), 200);
    assert_eq!(
        ftp.code("RNTO c.txt"),
        503,
        "RNTO must come right after RNFR"
    );
    assert_eq!(ftp.code("RNFR sub"), 350);
    assert_eq!(ftp.code("RNTO moved"), 250, "a directory");
    assert_eq!(
        fs::read_to_string(tree.root().join("moved/inner.txt")).unwrap(),
        "inner\n"
    );
    assert_eq!(
        Tree::names(&tree.outside()),
        ["secret.txt"],
        "nothing moved out"
    );
}

/// Sets up the data connection by `mode`, sends `command`, expects 150; the data stream.
fn data_for(ftp: &mut Ftp, mode: &str, command: &str) -> TcpStream {
    let stream = match mode {
        "PASV" | "EPSV" => {
            let reply = ftp.cmd(mode);
            let port: u16 = if mode == "EPSV" {
                reply.split('|').nth(3).unwrap().parse().unwrap()
            } else {
                let inside = &reply[reply.find('(').unwrap() + 1..reply.find(')').unwrap()];
                let n: Vec<u16> = inside.split(',').map(|x| x.parse().unwrap()).collect();
                n[4] << 8 | n[5]
            };
            let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
            let started = ftp.cmd(command);
            assert!(started.starts_with("150 "), "{mode} {command}: {started}");
            stream
        }
        _ => {
            let listener = active_listener();
            let port = listener.local_addr().unwrap().port();
            let line = if mode == "PORT" {
                format!("PORT 127,0,0,1,{},{}", port >> 8, port & 0xFF)
            } else {
                format!("EPRT |1|127.0.0.1|{port}|")
            };
            assert_eq!(ftp.code(&line), 200);
            let started = ftp.cmd(command);
            assert!(started.starts_with("150 "), "{mode} {command}: {started}");
            listener.set_nonblocking(true).unwrap();
            let deadline = Deadline::after(STEP, format!("the server's {mode} data connection"));
            let (stream, _) = deadline.poll(|| listener.accept().ok()).unwrap();
            stream.set_nonblocking(false).unwrap();
            stream
        }
    };
    stream.set_read_timeout(Some(scaled(STEP))).unwrap();
    stream.set_write_timeout(Some(scaled(STEP))).unwrap();
    stream
}

#[test]
fn retr_and_stor_work_over_pasv_epsv_port_and_eprt() {
    let tree = Tree::new();
    let server = tree.serve_with_uploads();
    let mut ftp = Ftp::login(server.addr());
    assert_eq!(ftp.code("TYPE I"), 200);
    for mode in ["PASV", "EPSV", "PORT", "EPRT"] {
        let name = format!("up-{mode}.bin");
        let content: Vec<u8> = (0..70_000u32)
            .map(|i| (i * 7 + mode.len() as u32) as u8)
            .collect();
        let mut data = data_for(&mut ftp, mode, &format!("STOR {name}"));
        data.write_all(&content).unwrap();
        drop(data);
        let done = ftp.reply();
        assert!(done.starts_with("226 "), "{mode}: {done}");
        assert_eq!(
            fs::read(tree.root().join(&name)).unwrap(),
            content,
            "{mode}"
        );
        let mut data = data_for(&mut ftp, mode, &format!("RETR {name}"));
        let mut got = Vec::new();
        data.read_to_end(&mut got).unwrap();
        assert_eq!(got, content, "{mode}");
        assert!(ftp.reply().starts_with("226 "), "{mode}");
    }
    assert_eq!(ftp.code("RETR missing.bin"), 550);
    assert_eq!(ftp.code("RETR sub"), 550, "a directory");
}

#[test]
fn port_and_eprt_must_be_well_formed() {
    let tree = Tree::new();
    let server = tree.serve();
    let mut ftp = Ftp::login(server.addr());
    for line in [
        "PORT 127,0,0,1,1",
        "PORT 127,0,0,1,1,300",
        "PORT 127,0,0,1,x,1",
        "EPRT |1|127.0.0.1|0|",
        "EPRT |2|127.0.0.1|2121|",
        "EPRT nonsense",
    ] {
        assert_eq!(ftp.code(line), 501, "{line}");
    }
    assert_eq!(ftp.code("EPSV ALL"), 200);
}

/// Paths that try to leave the root, each in its own way.
const TRAVERSALS: &[&str] = &[
    "../outside/secret.txt",
    "../../outside/secret.txt",
    "/../outside/secret.txt",
    "sub/../../outside/secret.txt",
    "/etc/passwd",
    "%2e%2e/outside/secret.txt",
    "..%2foutside%2fsecret.txt",
    "..\\outside\\secret.txt",
    "....//outside/secret.txt",
    "escape",
    "escape_dir/secret.txt",
    "sub/../escape",
    "./escape_dir/../escape_dir/secret.txt",
];

/// The traversals that are, on Linux, just file names without a `/`.
const LITERAL_NAMES: &[&str] = &["..%2foutside%2fsecret.txt", "..\\outside\\secret.txt"];

#[test]
fn retr_of_every_traversal_path_answers_550() {
    let tree = Tree::new();
    let server = tree.serve();
    let mut ftp = Ftp::login(server.addr());
    for path in TRAVERSALS {
        let _data = ftp.epsv();
        let reply = ftp.cmd(&format!("RETR {path}"));
        assert!(reply.starts_with("550 "), "RETR {path}: {reply}");
    }
    // A NUL byte in the path.
    ftp.conn.write_all(b"RETR a\0.txt\r\n").unwrap();
    assert!(ftp.reply().starts_with("550 "));
}

#[test]
fn paths_outside_the_root_answer_550_for_every_other_command() {
    let tree = Tree::new();
    let server = tree.serve_with_uploads();
    let mut ftp = Ftp::login(server.addr());
    for path in TRAVERSALS {
        for command in ["CWD", "SIZE", "DELE", "RMD"] {
            assert_eq!(
                ftp.code(&format!("{command} {path}")),
                550,
                "{command} {path}"
            );
        }
        for command in ["LIST", "NLST"] {
            let (lines, reply) = ftp.listing(&format!("{command} {path}"));
            assert!(
                reply.starts_with("550 ") && lines.is_empty(),
                "{command} {path}: {reply}"
            );
        }
        // `..%2f…` and `..\\…` are plain names (nothing is decoded): writing them is allowed,
        // and lands inside the root, as the listing below shows.
        if LITERAL_NAMES.contains(path) {
            continue;
        }
        let _data = ftp.epsv();
        assert_eq!(ftp.code(&format!("STOR {path}")), 550, "STOR {path}");
        assert_eq!(ftp.code(&format!("MKD {path}")), 550, "MKD {path}");
    }
    for name in LITERAL_NAMES {
        assert_eq!(ftp.code(&format!("MKD {name}")), 257, "MKD {name}");
        assert!(tree.root().join(name).is_dir());
    }
    assert_eq!(ftp.code("CDUP"), 550, "no parent above the root");
    assert_eq!(ftp.code("CWD .."), 550);
    assert_eq!(ftp.cmd("PWD"), "257 \"/\" is the current directory");
    // Nothing outside was read, written or removed.
    assert_eq!(Tree::names(&tree.outside()), ["secret.txt"]);
    assert_eq!(
        fs::read_to_string(tree.outside().join("secret.txt")).unwrap(),
        "secret\n"
    );
    assert!(
        tree.dir
            .path()
            .join("root/escape")
            .symlink_metadata()
            .is_ok()
    );
}

#[test]
fn telnet_iac_bytes_are_skipped() {
    let tree = Tree::new();
    let server = tree.serve();
    let mut ftp = Ftp::login(server.addr());
    ftp.conn.write_all(b"\xff\xf4\xff\xf2NOOP\r\n").unwrap();
    assert!(ftp.reply().starts_with("200 "));
    ftp.conn.write_all(b"\xff\xf4\xff\xf2ABOR\r\n").unwrap();
    assert!(ftp.reply().starts_with("226 "));
    ftp.conn.write_all(b"SY\xff\xfb\x18ST\r\n").unwrap();
    assert_eq!(ftp.reply(), "215 UNIX Type: L8");
    ftp.conn
        .write_all(b"\xff\xfa\x18\x00xterm\xff\xf0PWD\r\n")
        .unwrap();
    assert!(ftp.reply().starts_with("257 "));
}

#[test]
fn an_over_long_line_gets_500_and_the_session_survives() {
    let tree = Tree::new();
    let server = tree.serve();
    let mut ftp = Ftp::login(server.addr());
    let mut long = b"NOOP ".to_vec();
    long.extend(std::iter::repeat_n(b'A', 100_000));
    long.extend_from_slice(b"\r\n");
    ftp.conn.write_all(&long).unwrap();
    assert!(ftp.reply().starts_with("500 "));
    assert_eq!(ftp.code("NOOP"), 200);
    ftp.conn.write_all(b"NOOP \xc3\x28\r\n").unwrap();
    assert!(ftp.reply().starts_with("501 "), "not UTF-8");
    assert_eq!(ftp.code("NOOP"), 200);
}

#[test]
fn two_sessions_are_served_at_once() {
    let tree = Tree::new();
    let server = tree.serve_with_uploads();
    let mut uploader = Ftp::login(server.addr());
    let mut data = uploader.epsv();
    assert!(uploader.cmd("STOR slow.bin").starts_with("150 "));
    data.write_all(&[7u8; 100_000]).unwrap();
    // The upload is in progress (its session's thread is inside the transfer), and another
    // session logs in, lists and is answered.
    let mut other = Ftp::login(server.addr());
    let (names, done) = other.listing("NLST");
    assert!(done.starts_with("226 "), "{done}");
    assert!(
        !names.contains(&"slow.bin".to_string()),
        "an upload in progress is not listed"
    );
    assert_eq!(other.code("QUIT"), 221);
    data.write_all(&[7u8; 100_000]).unwrap();
    drop(data);
    assert!(uploader.reply().starts_with("226 "));
    assert_eq!(
        fs::metadata(tree.root().join("slow.bin")).unwrap().len(),
        200_000
    );
}

#[test]
fn an_upload_cut_short_leaves_no_file_and_the_server_keeps_going() {
    let tree = Tree::new();
    let server = tree.serve_with_uploads();
    // 1. The data connection is reset halfway: 426, and the old a.txt is untouched.
    let mut ftp = Ftp::login(server.addr());
    let mut data = ftp.epsv();
    assert!(ftp.cmd("STOR a.txt").starts_with("150 "));
    data.write_all(&[1u8; 300_000]).unwrap();
    data.reset().unwrap();
    let reply = ftp.reply();
    assert!(reply.starts_with("426 "), "{reply}");
    assert_eq!(
        fs::read_to_string(tree.root().join("a.txt")).unwrap(),
        "hello\n"
    );
    // 2. The client goes away (control first, then data, as a killed client's would close).
    let mut data = ftp.epsv();
    assert!(ftp.cmd("STOR half.bin").starts_with("150 "));
    data.write_all(&[2u8; 300_000]).unwrap();
    drop(ftp);
    drop(data);
    // 3. The server is still up; neither the file nor a temp file remains.
    let mut next = Ftp::login(server.addr());
    assert_eq!(next.code("NOOP"), 200);
    let deadline = Deadline::after(STEP, "the aborted upload's temp file to be removed");
    deadline
        .poll(|| {
            (Tree::names(&tree.root()) == ["a.txt", "escape", "escape_dir", "inside_link", "sub"])
                .then_some(())
        })
        .unwrap_or_else(|e| panic!("{e}: {:?}", Tree::names(&tree.root())));
}
