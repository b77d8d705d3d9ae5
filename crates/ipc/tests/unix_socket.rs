//! Lesson `unix_socket`: paths and abstract names, datagram boundaries, socketpair, peer
//! credentials, and a descriptor handed from one process to another.

use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::time::Duration;

use harness::ExampleProcess;
use harness::leaks::{FdSnapshot, expect_no_zombies};
use ipc::unix_socket::{self, SocketPath};
use multiprocess::spawn;

const SETTLE: Duration = Duration::from_secs(5);

#[test]
fn a_path_socket_leaves_a_file_that_its_guard_removes() {
    let _lock = harness::process_lock();
    let (listener, guard) = unix_socket::bind_stream().unwrap();
    let path = guard.path().to_path_buf();
    assert!(path.exists(), "bind makes a socket file");
    let mut client = UnixStream::connect(&path).unwrap();
    let (mut server, _) = listener.accept().unwrap();
    client.write_all(b"ping").unwrap();
    let mut got = [0u8; 4];
    server.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"ping");
    drop(listener);
    assert!(
        path.exists(),
        "closing the listener does not remove the file"
    );
    drop(guard);
    assert!(!path.exists(), "{} was left behind", path.display());
}

#[test]
fn an_abstract_name_has_no_file_and_vanishes_with_its_socket() {
    let _lock = harness::process_lock();
    let name = ipc::unique_name("abstract");
    let listener = unix_socket::bind_abstract(&name).unwrap();
    assert!(!std::env::temp_dir().join(&name).exists());
    let mut client = unix_socket::connect_abstract(&name).unwrap();
    let (mut server, _) = listener.accept().unwrap();
    client.write_all(b"hi").unwrap();
    let mut got = [0u8; 2];
    server.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"hi");
    drop(listener);
    let error = unix_socket::connect_abstract(&name).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::ConnectionRefused, "{error}");
    // And the name can be bound again at once: nothing to clean up.
    drop(unix_socket::bind_abstract(&name).unwrap());
}

#[test]
fn datagrams_keep_their_boundaries_where_a_stream_merges_them() {
    let _lock = harness::process_lock();
    let (a, b) = UnixDatagram::pair().unwrap();
    for size in [1usize, 1000, 5] {
        a.send(&vec![7u8; size]).unwrap();
    }
    let mut buf = [0u8; 2000];
    let sizes: Vec<usize> = (0..3).map(|_| b.recv(&mut buf).unwrap()).collect();
    assert_eq!(sizes, [1, 1000, 5], "one recv, one datagram");

    let (mut a, mut b) = UnixStream::pair().unwrap();
    for size in [1usize, 1000, 5] {
        a.write_all(&vec![7u8; size]).unwrap();
    }
    drop(a);
    let mut all = Vec::new();
    b.read_to_end(&mut all).unwrap();
    assert_eq!(all.len(), 1006, "a stream has bytes, not messages");
}

#[test]
fn peer_credentials_name_the_process_that_connected() {
    let _lock = harness::process_lock();
    let name = ipc::unique_name("creds");
    let listener = unix_socket::bind_abstract(&name).unwrap();
    let child = spawn::fork_run(|| {
        let greeted = unix_socket::connect_abstract(&name)
            .and_then(|mut s| s.write_all(b"x").and_then(|()| s.read(&mut [0u8; 1])));
        i32::from(greeted.is_err())
    })
    .unwrap();
    let (mut stream, _) = listener.accept().unwrap();
    let mut byte = [0u8; 1];
    stream.read_exact(&mut byte).unwrap();
    let creds = unix_socket::peer_credentials(&stream).unwrap();
    stream.write_all(b"y").unwrap();
    assert!(spawn::wait_for(child).unwrap().success());
    assert_eq!(creds.pid, child.as_raw());
    assert_eq!(creds.uid, ids().0);
    assert_eq!(creds.gid, ids().1);
    // A socketpair records its maker, before any fork: this process, at both ends.
    let (a, _b) = UnixStream::pair().unwrap();
    assert_eq!(
        unix_socket::peer_credentials(&a).unwrap().pid,
        std::process::id() as i32
    );
}

#[test]
fn fd_passing_hands_over_a_file_that_has_no_name() {
    let _lock = harness::process_lock();
    let fds = FdSnapshot::of_self().unwrap();
    let passed = unix_socket::pass_unlinked_file("nobody can open me by name").unwrap();
    assert_eq!(passed.content, "nobody can open me by name");
    assert!(
        !passed.path_exists,
        "{} was unlinked before it was sent",
        passed.path.display()
    );
    assert_eq!(
        passed.peer.pid, passed.child,
        "SO_PEERCRED names the sender"
    );
    fds.expect_no_growth(0, SETTLE).unwrap();
    expect_no_zombies(SETTLE).unwrap();
}

#[test]
fn fd_passing_shares_the_open_file_offset() {
    let _lock = harness::process_lock();
    let (a, b) = UnixStream::pair().unwrap();
    let mut file = tempfile::tempfile().unwrap();
    file.write_all(b"0123456789").unwrap();
    unix_socket::send_fd(&a, std::os::fd::AsFd::as_fd(&file), b"").unwrap();
    let (fd, note) = unix_socket::recv_fd(&b, 16).unwrap();
    assert_eq!(note, [0], "an empty note travels as one zero byte");
    let mut copy = std::fs::File::from(fd);
    use std::io::Seek;
    file.seek(std::io::SeekFrom::Start(3)).unwrap();
    let mut rest = String::new();
    copy.read_to_string(&mut rest).unwrap();
    assert_eq!(
        rest, "3456789",
        "one open file, one offset, two descriptors"
    );
}

#[test]
fn fd_passing_from_a_peer_that_closes_is_end_of_file() {
    let _lock = harness::process_lock();
    let (a, b) = UnixStream::pair().unwrap();
    drop(a);
    let error = unix_socket::recv_fd(&b, 16).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::UnexpectedEof, "{error}");
}

#[test]
fn fd_passing_example() {
    let _lock = harness::process_lock();
    let mut demo = ExampleProcess::spawn("fd_passing", &["--text", "hello from a child"]).unwrap();
    let opened = demo.read_line().unwrap();
    let gone = demo.read_line().unwrap();
    let read = demo.read_line().unwrap();
    let creds = demo.read_line().unwrap();
    demo.expect_success().unwrap();
    let child: &str = opened
        .strip_prefix("child ")
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("{opened}"));
    assert!(gone.ends_with("exists: false"), "{gone}");
    assert_eq!(
        read,
        "parent read through the received descriptor: \"hello from a child\""
    );
    assert!(
        creds.starts_with(&format!("SO_PEERCRED: the sender is pid {child} ")),
        "{creds}"
    );
}

#[test]
fn a_socket_path_is_unique_per_guard() {
    let _lock = harness::process_lock();
    assert_ne!(SocketPath::new().path(), SocketPath::new().path());
}

/// This process's uid and gid, read from /proc (the `user` feature of nix is not enabled).
fn ids() -> (u32, u32) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let field = |name: &str| -> u32 {
        let line = status.lines().find(|l| l.starts_with(name)).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    };
    (field("Uid:"), field("Gid:"))
}

#[test]
fn fd_passing_at_the_descriptor_limit_reports_the_childs_emfile() {
    let _lock = harness::process_lock();
    // With five descriptors (0-2, the listener, the child's socket) the child cannot open its
    // file: the parent must say so, not only that its peer closed.
    let mut demo = ExampleProcess::spawn("fd_passing", &["--max-open", "5"]).unwrap();
    let stderr = demo.expect_failure_sentence(SETTLE).unwrap();
    assert!(
        stderr.contains("the child could not send the descriptor: Too many open files"),
        "{stderr}"
    );
}
