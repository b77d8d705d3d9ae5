//! `Acceptor` out of descriptors: by default it sheds a connection instead of spinning;
//! `keep_queued` reports `EMFILE` and leaves the client in the listen queue.
//!
//! Lowers this process's descriptor limit, so every test in this file holds the process lock
//! (and this file holds only such tests).

use std::fs::File;
use std::io::{ErrorKind, Read};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use netkit::accept::{Accepted, Acceptor, is_out_of_descriptors};
use nix::sys::resource::{Resource, getrlimit, setrlimit};

/// Runs `f` with not one descriptor left to this process (the limit lowered to what is open
/// plus a few, and those few taken by `/dev/null`), then gives them back.
fn with_no_descriptors_left<T>(f: impl FnOnce() -> T) -> T {
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
    let open_now = harness::leaks::fd_count(std::process::id()).unwrap() as u64;
    setrlimit(Resource::RLIMIT_NOFILE, open_now + 16, hard).unwrap();
    let mut filler = Vec::new();
    while let Ok(file) = File::open("/dev/null") {
        filler.push(file); // until EMFILE
    }
    let result = f();
    drop(filler);
    setrlimit(Resource::RLIMIT_NOFILE, soft, hard).unwrap();
    result
}

#[test]
fn out_of_descriptors_sheds_the_connection_then_recovers() {
    let _guard = harness::process_lock();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut acceptor = Acceptor::new(listener).unwrap();
    // The handshakes complete in the kernel: the connections wait in the listen queue.
    let shed_clients: Vec<TcpStream> = (0..2).map(|_| TcpStream::connect(addr).unwrap()).collect();

    // Both are shed: after the first, the reserve must be back in place for the second.
    let outcomes = with_no_descriptors_left(|| [acceptor.accept(), acceptor.accept()]);

    for outcome in &outcomes {
        assert!(matches!(outcome, Ok(Accepted::Shed)), "{outcomes:?}");
    }
    // The shed clients were closed in an orderly way, not left hanging in the queue.
    for mut client in shed_clients {
        client
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        assert_eq!(client.read(&mut [0u8; 8]).unwrap(), 0);
    }
    // With descriptors free again, the next client is accepted normally.
    let _next = TcpStream::connect(addr).unwrap();
    let accepted = harness::Deadline::after(Duration::from_secs(10), "the next connection")
        .poll(|| match acceptor.accept() {
            Ok(Accepted::Connection(..)) => Some(true),
            Ok(Accepted::Empty) => None,
            Ok(Accepted::Shed) | Err(_) => Some(false),
        })
        .unwrap();
    assert!(accepted, "the next client was not accepted after recovery");
}

#[test]
fn keep_queued_reports_emfile_and_leaves_the_client_queued() {
    let _guard = harness::process_lock();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut acceptor = Acceptor::keep_queued(listener).unwrap();
    let mut client = TcpStream::connect(addr).unwrap();

    let error = with_no_descriptors_left(|| acceptor.accept()).expect_err("out of descriptors");
    assert!(is_out_of_descriptors(&error), "{error}");
    // Not closed: the client is still waiting, and is accepted now that descriptors are free.
    client
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let read = client.read(&mut [0u8; 8]).unwrap_err();
    assert_eq!(read.kind(), ErrorKind::WouldBlock, "{read}");
    let accepted = harness::Deadline::after(Duration::from_secs(10), "the queued connection")
        .poll(|| match acceptor.accept() {
            Ok(Accepted::Connection(_, peer)) => Some(peer),
            Ok(Accepted::Empty) => None,
            other => panic!("{other:?}"),
        })
        .unwrap();
    assert_eq!(accepted, client.local_addr().unwrap());
}

#[test]
fn a_stop_wakes_a_blocked_accept_with_no_descriptor_left() {
    let _guard = harness::process_lock();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = std::sync::Arc::new(netkit::Stop::new().unwrap());
    let mut acceptor = Acceptor::new(listener).unwrap();
    let waiter = {
        let stop = std::sync::Arc::clone(&stop);
        std::thread::spawn(move || acceptor.next_blocking(&stop).map(|c| c.is_none()))
    };
    let (woke, connect_to_self) = with_no_descriptors_left(|| {
        // The old wake-up needs a socket, which this process cannot have now.
        let connect_to_self = TcpStream::connect(addr).map(drop);
        stop.stop();
        let woke =
            harness::Deadline::after(Duration::from_secs(10), "the stopped accept to return")
                .poll(|| waiter.is_finished().then_some(()));
        (woke, connect_to_self)
    });
    let error = connect_to_self.expect_err("connecting needs a descriptor");
    assert!(is_out_of_descriptors(&error), "{error}");
    woke.unwrap();
    assert!(
        waiter.join().unwrap().unwrap(),
        "stopped: no connection returned"
    );
}

/// The number of the lowest free descriptor of this process (the one the next open gets).
fn lowest_free_fd() -> i32 {
    use std::os::fd::AsRawFd;
    File::open("/dev/null").unwrap().as_raw_fd()
}

#[test]
fn a_blocking_accept_rides_out_a_shed_whose_descriptor_another_thread_took() {
    let _guard = harness::process_lock();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = std::sync::Arc::new(netkit::Stop::new().unwrap());
    // The reserve takes the lowest free number now; a limit of that number then leaves the
    // reserve's own slot out of reach once it is closed: exactly what another thread taking
    // the freed descriptor does to a shed.
    let reserve_fd = lowest_free_fd();
    let mut acceptor = Acceptor::new(listener).unwrap();
    let target = std::fs::read_link(format!("/proc/self/fd/{reserve_fd}")).unwrap();
    assert_eq!(
        target,
        std::path::Path::new("/dev/null"),
        "the reserve's number"
    );
    let client = TcpStream::connect(addr).unwrap();
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
    setrlimit(Resource::RLIMIT_NOFILE, reserve_fd as u64, hard).unwrap();
    let mut filler = Vec::new();
    while let Ok(file) = File::open("/dev/null") {
        filler.push(file); // every slot below the reserve's, until EMFILE
    }
    let waiter = {
        let stop = std::sync::Arc::clone(&stop);
        std::thread::spawn(move || {
            acceptor
                .next_blocking(&stop)
                .map(|c| c.map(|(_, peer)| peer))
        })
    };
    // Starved, the accept must keep waiting, not fail: give it a bounded look.
    let ended = harness::Deadline::after(Duration::from_millis(500), "a starved accept to end")
        .poll(|| waiter.is_finished().then_some(()));
    drop(filler);
    setrlimit(Resource::RLIMIT_NOFILE, soft, hard).unwrap();
    if ended.is_ok() {
        let outcome = waiter.join().unwrap();
        panic!("the accept ended while out of descriptors: {outcome:?}");
    }
    // Descriptors are free again: the waiting client is accepted, not shed.
    let accepted = harness::Deadline::after(Duration::from_secs(10), "the starved accept")
        .poll(|| waiter.is_finished().then_some(()));
    stop.stop();
    accepted.unwrap();
    let peer = waiter.join().unwrap().unwrap();
    assert_eq!(
        peer,
        Some(client.local_addr().unwrap()),
        "accepted, not shed"
    );
}
