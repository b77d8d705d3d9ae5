//! Ctrl-C ends the `ftp_server` example promptly whatever it is waiting for: a passive data
//! connection nobody opens, an active one that never completes, an upload and a download in
//! progress — and with its descriptor table full, where a wake-up that needs a new descriptor
//! never comes.

mod common;

use std::time::{Duration, Instant};

use common::{Ftp, Tree, random_file};
use harness::leaks::fd_count;
use harness::time::STEP;
use harness::{Conn, Deadline, ExampleProcess};

/// How soon after Ctrl-C the server must have exited (scaled by the harness): far below the
/// 30 s a data connection may take to open.
const EXIT_LIMIT: Duration = Duration::from_secs(2);

/// `ftp_server` serving `root`, with `extra` arguments.
fn server(root: &std::path::Path, extra: &[&str]) -> ExampleProcess {
    let mut args = vec!["--root", root.to_str().unwrap(), "--addr", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    ExampleProcess::start("ftp_server", &args).unwrap()
}

/// Sends SIGINT and checks the server exits with status 0 within [`EXIT_LIMIT`].
fn interrupt_and_expect_prompt_exit(mut server: ExampleProcess) {
    let started = Instant::now();
    server.signal(nix::sys::signal::Signal::SIGINT).unwrap();
    let status = server.wait_within(EXIT_LIMIT).unwrap();
    assert!(status.success(), "{status}: {}", server.stderr_text());
    eprintln!("exited {:?} after Ctrl-C", started.elapsed());
}

/// A listener on 127.0.0.1 whose accept queue is full, so a connection to it hangs in
/// SYN_SENT: Python's `listen(0)` (room for one), one connection queued, then the port printed;
/// it lives until its stdin closes.
const FULL_BACKLOG: &str = r#"
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(0)
queued = socket.create_connection(s.getsockname(), timeout=10)
print(s.getsockname()[1], flush=True)
sys.stdin.read()
"#;

/// Whether some socket on this machine is in SYN_SENT towards 127.0.0.1:`port`
/// (`/proc/net/tcp`: field 2 the remote address, field 3 the state, `02` = SYN_SENT).
fn syn_sent_to(port: u16) -> bool {
    let remote = format!("0100007F:{port:04X}");
    std::fs::read_to_string("/proc/net/tcp")
        .unwrap()
        .lines()
        .skip(1)
        .map(|line| line.split_whitespace().collect::<Vec<_>>())
        .any(|fields| fields.get(2) == Some(&remote.as_str()) && fields.get(3) == Some(&"02"))
}

#[test]
fn ctrl_c_ends_the_server_at_once_with_a_retr_a_stor_and_data_connections_pending() {
    let tree = Tree::new();
    random_file(&tree.root().join("big.bin"), 8 << 20, 7);
    let server = server(&tree.root(), &["--allow-uploads"]);
    // 1. RETR after EPSV, and the client never connects: the server waits for it. (This test
    //    has `retr` in its name: the `mt-ftp-retr` exercise's RETR is needed for it.)
    let mut passive = Ftp::login(server.addr());
    let reply = passive.cmd("EPSV");
    assert!(reply.starts_with("229 "), "{reply}");
    assert!(passive.cmd("RETR a.txt").starts_with("150 "));
    // 2. An upload half sent.
    let mut uploader = Ftp::login(server.addr());
    let mut upload = uploader.epsv();
    assert!(uploader.cmd("STOR up.bin").starts_with("150 "));
    upload.write_all(&[1u8; 100_000]).unwrap();
    // 3. A download the client does not read: the server is blocked writing.
    let mut downloader = Ftp::login(server.addr());
    let _download = downloader.epsv();
    assert!(downloader.cmd("RETR big.bin").starts_with("150 "));
    // 4. LIST after EPRT to a port whose backlog is full: the server's connect hangs.
    let mut full = std::process::Command::new("python3")
        .args(["-c", FULL_BACKLOG])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut port = String::new();
    let stdout = full.stdout.as_mut().unwrap();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut port).unwrap();
    let port: u16 = port.trim().parse().unwrap();
    let mut active = Ftp::login(server.addr());
    assert_eq!(active.code(&format!("EPRT |1|127.0.0.1|{port}|")), 200);
    assert!(active.cmd("LIST").starts_with("150 "));
    Deadline::after(STEP, "the server's connect to hang in SYN_SENT")
        .poll(|| syn_sent_to(port).then_some(()))
        .unwrap();
    interrupt_and_expect_prompt_exit(server);
    for mut ftp in [passive, uploader, downloader, active] {
        ftp.conn.read_to_eof().unwrap(); // closed (after a 425 or 426, or nothing)
    }
    assert!(
        !tree.root().join("up.bin").exists(),
        "a cut upload is not kept"
    );
    let _ = full.kill();
    let _ = full.wait();
}

/// Sets process `pid`'s soft limit of open descriptors to `soft` (its hard limit stays).
fn set_fd_limit(pid: u32, soft: u64) {
    let pid = pid as libc::pid_t;
    let mut old = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: prlimit(2) only reads the limits it is given and writes `old`, which lives for
    // the call; `pid` is our own child, still running.
    let got = unsafe { libc::prlimit(pid, libc::RLIMIT_NOFILE, std::ptr::null(), &mut old) };
    assert_eq!(got, 0, "reading the server's RLIMIT_NOFILE");
    let new = libc::rlimit {
        rlim_cur: soft,
        rlim_max: old.rlim_max,
    };
    // SAFETY: as above; `new` lives for the call and nothing is written back.
    let set = unsafe { libc::prlimit(pid, libc::RLIMIT_NOFILE, &new, std::ptr::null_mut()) };
    assert_eq!(set, 0, "lowering the server's RLIMIT_NOFILE");
}

#[test]
fn ctrl_c_ends_the_server_at_once_with_its_descriptor_table_full() {
    let tree = Tree::new();
    let server = server(&tree.root(), &[]);
    // A session waiting for its data connection, and an idle one that has been greeted (so its
    // session holds every descriptor it will hold).
    let mut passive = Ftp::login(server.addr());
    let reply = passive.cmd("EPSV");
    assert!(reply.starts_with("229 "), "{reply}");
    assert!(passive.cmd("LIST").starts_with("150 "));
    let mut idle = Ftp::connect(server.addr());
    // The table is full at what is open now: a steady state, not a moment caught between a
    // connection's accept and the end of a session that could not get its descriptors.
    let pid = server.pid();
    let open = fd_count(pid).unwrap();
    set_fd_limit(pid, open as u64);
    // Proof: one more client is shed — accept failed with EMFILE, the reserve descriptor was
    // given up for it, and the connection is closed unanswered.
    let mut shed = Conn::connect(server.addr()).unwrap();
    let unanswered = shed.read_to_eof().unwrap();
    assert!(
        unanswered.is_empty(),
        "a client past a full table was answered: {:?}",
        String::from_utf8_lossy(&unanswered)
    );
    Deadline::after(
        STEP,
        "the server to take its reserve descriptor back after the shed",
    )
    .poll(|| (fd_count(pid).ok()? == open).then_some(()))
    .unwrap();
    // Anything new the server would need now fails with EMFILE, a wake-up connection included.
    interrupt_and_expect_prompt_exit(server);
    passive.conn.read_to_eof().unwrap();
    idle.conn.read_to_eof().unwrap();
}
