//! `Acceptor` sheds a connection instead of spinning when the process is out of descriptors.
//!
//! Lowers this process's descriptor limit, so every test in this file holds the process lock
//! (and this file holds only such tests).

use std::fs::File;
use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use netkit::accept::{Accepted, Acceptor};
use nix::sys::resource::{Resource, getrlimit, setrlimit};

#[test]
fn out_of_descriptors_sheds_the_connection_then_recovers() {
    let _guard = harness::process_lock();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut acceptor = Acceptor::new(listener).unwrap();
    // The handshake completes in the kernel: the connection waits in the listen queue.
    let mut shed_client = TcpStream::connect(addr).unwrap();
    shed_client
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();

    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
    let open_now = harness::leaks::fd_count(std::process::id()).unwrap() as u64;
    setrlimit(Resource::RLIMIT_NOFILE, open_now + 16, hard).unwrap();
    let mut filler = Vec::new();
    while let Ok(file) = File::open("/dev/null") {
        filler.push(file); // until EMFILE: not one descriptor left
    }
    let outcome = acceptor.accept();
    drop(filler);
    setrlimit(Resource::RLIMIT_NOFILE, soft, hard).unwrap();

    assert!(matches!(outcome, Ok(Accepted::Shed)), "{outcome:?}");
    // The shed client was closed in an orderly way, not left hanging in the queue.
    assert_eq!(shed_client.read(&mut [0u8; 8]).unwrap(), 0);
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
