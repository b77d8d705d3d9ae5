//! A refused client reads the busy line and then an orderly end — even one that had already
//! sent bytes the server never read (closing over unread bytes sends a reset instead).

use std::net::TcpListener;

use harness::Conn;
use netkit::shed::{BUSY, Shedder};

#[test]
fn a_refused_client_that_already_sent_reads_the_busy_line_then_eof() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut client = Conn::connect(listener.local_addr().unwrap()).unwrap();
    client.write_all(&[b'x'; 10_000]).unwrap();
    client.write_all(b"hello\n").unwrap();
    let (stream, peer) = listener.accept().unwrap();
    // Wait until the client's bytes have arrived, so the close would be over unread bytes.
    let mut peek = [0u8; 1];
    stream.peek(&mut peek).unwrap();
    let mut shedder = Shedder::new("test", BUSY);
    shedder.refuse(stream, peer, "a bound of 0");
    assert_eq!(shedder.total(), 1);
    let answer = client.read_to_eof().unwrap();
    assert_eq!(answer, BUSY);
}
