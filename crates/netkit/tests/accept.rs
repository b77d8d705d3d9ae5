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
    // The handshakes complete in the kernel: the connections wait in the listen queue.
    let shed_clients: Vec<TcpStream> = (0..2).map(|_| TcpStream::connect(addr).unwrap()).collect();

    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
    let open_now = harness::leaks::fd_count(std::process::id()).unwrap() as u64;
    setrlimit(Resource::RLIMIT_NOFILE, open_now + 16, hard).unwrap();
    let mut filler = Vec::new();
    while let Ok(file) = File::open("/dev/null") {
        filler.push(file); // until EMFILE: not one descriptor left
    }
    // Both are shed: after the first, the reserve must be back in place for the second.
    let outcomes = [acceptor.accept(), acceptor.accept()];
    drop(filler);
    setrlimit(Resource::RLIMIT_NOFILE, soft, hard).unwrap();

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
