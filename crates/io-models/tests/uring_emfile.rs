//! io_uring's accept out of descriptors (`EMFILE`): the waiting client is accepted with the
//! reserve descriptor and closed at once, the server stays up, and serves the next client once
//! descriptors are free.
//!
//! The test fills this process's whole descriptor table, which would starve any test running
//! beside it, so it is the only test of this binary. (It fills the table rather than lowering
//! `RLIMIT_NOFILE`: io_uring reads the limit when the accept is *submitted*, so lowering it
//! under an accept already in flight changes nothing.)

mod uring_support;

use std::fs::File;
use std::io::ErrorKind;

use harness::{Conn, serve};
use io_models::uring;
use uring_support::uring_works;

#[test]
fn uring_echo_sheds_a_client_when_out_of_descriptors_and_serves_the_next() {
    if !uring_works() {
        return;
    }
    let server = serve(|l, stop| uring::run(l, &stop));
    let mut early = Conn::connect(server.addr()).unwrap();
    round_trip(&mut early, "before the table fills");

    let mut padding = fill_the_descriptor_table();
    drop(padding.pop()); // room for one client socket, none for the server to accept it with
    let mut shed = Conn::connect(server.addr()).unwrap();
    // Accepted with the reserve descriptor and closed at once: told, not left in the queue.
    shed.expect_eof().unwrap();
    round_trip(&mut early, "the server is still up");

    drop(padding);
    let mut later = Conn::connect(server.addr()).unwrap();
    round_trip(&mut later, "room again");
    server.stop().unwrap();
}

fn round_trip(conn: &mut Conn, line: &str) {
    conn.write_all(format!("{line}\n").as_bytes()).unwrap();
    assert_eq!(conn.read_line().unwrap(), line);
}

/// Opens `/dev/null` until `EMFILE`: every descriptor this process may have is taken.
fn fill_the_descriptor_table() -> Vec<File> {
    let mut padding = Vec::new();
    loop {
        match File::open("/dev/null") {
            Ok(file) => padding.push(file),
            Err(e) if e.raw_os_error() == Some(libc::EMFILE) => return padding,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => panic!("opening /dev/null as padding: {e}"),
        }
        assert!(padding.len() < 1 << 20, "RLIMIT_NOFILE too high to fill");
    }
}
