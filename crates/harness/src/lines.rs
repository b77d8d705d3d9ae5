//! The line-protocol check: the proof that a model serves a protocol other than echo.
//!
//! Every concurrency model serves echo *and* the line-uppercasing protocol of
//! [`netkit::lines`] through the same entry point (`run_with(listener, stop, new_conn)` for an
//! event loop, a handler for a blocking server). [`assert_uppercases`] checks the second on one
//! running server, in a few exchanges that each catch a framing or concurrency mistake:
//!
//! | exchange | the mistake it catches |
//! | --- | --- |
//! | two clients interleave lines, each gets only its own replies, in order | a loop that serves one client at a time, or mixes up connections |
//! | a line split over several writes gets one reply | treating one `read` as one line |
//! | three lines in one write get three replies | answering only the first line of a read |
//! | a line over the limit gets the refusal and then a close | an input buffer without a bound |
//! | an unterminated last line before a half-close is answered, then the server closes | losing the tail, or never closing |

use std::net::SocketAddr;

use netkit::lines::{MAX_LINE, TOO_LONG};

use crate::{Conn, Error, Result};

/// Runs every exchange of the module docs against the line-uppercasing server at `addr`.
pub fn check_uppercases(addr: SocketAddr) -> Result<()> {
    interleaved_clients(addr)?;
    check_framing(addr)
}

/// Every exchange but the concurrent one — what a one-client-at-a-time server passes.
pub fn check_framing(addr: SocketAddr) -> Result<()> {
    split_and_batched_lines(addr)?;
    overlong_line(addr)?;
    unterminated_last_line(addr)
}

/// [`check_uppercases`], panicking with the first failure.
pub fn assert_uppercases(addr: SocketAddr) {
    if let Err(e) = check_uppercases(addr) {
        panic!("the line-uppercasing server at {addr} is wrong: {e}");
    }
}

/// The next line (without its newline) is `want`.
fn expect_line(conn: &mut Conn, want: &str) -> Result<()> {
    let got = conn.read_line()?;
    if got == want {
        Ok(())
    } else {
        Err(Error::new(
            format!("a reply from {}", conn.peer()),
            format!("expected {want:?}, got {got:?}"),
        ))
    }
}

fn interleaved_clients(addr: SocketAddr) -> Result<()> {
    // Both connected before either speaks: a one-client-at-a-time server cannot answer `b`.
    let mut a = Conn::connect(addr)?;
    let mut b = Conn::connect(addr)?;
    for round in 0..3 {
        b.write_all(format!("bee {round}\n").as_bytes())?;
        expect_line(&mut b, &format!("BEE {round}"))?;
        a.write_all(format!("ay {round}\n").as_bytes())?;
        expect_line(&mut a, &format!("AY {round}"))?;
    }
    Ok(())
}

fn split_and_batched_lines(addr: SocketAddr) -> Result<()> {
    let mut conn = Conn::connect(addr)?;
    for piece in ["he", "llo, wor", "ld\r\n"] {
        conn.write_all(piece.as_bytes())?;
    }
    expect_line(&mut conn, "HELLO, WORLD")?;
    conn.write_all(b"one\ntwo\nthree\n")?;
    for want in ["ONE", "TWO", "THREE"] {
        expect_line(&mut conn, want)?;
    }
    Ok(())
}

fn overlong_line(addr: SocketAddr) -> Result<()> {
    let mut conn = Conn::connect(addr)?;
    let mut line = vec![b'x'; MAX_LINE + 1];
    line.push(b'\n');
    conn.write_all(&line)?;
    let reply = conn.read_to_eof()?;
    if reply == TOO_LONG {
        Ok(())
    } else {
        Err(Error::new(
            "the reply to a line over the limit",
            format!(
                "expected {:?} then a close, got {:?}",
                String::from_utf8_lossy(TOO_LONG),
                String::from_utf8_lossy(&reply[..reply.len().min(200)])
            ),
        ))
    }
}

fn unterminated_last_line(addr: SocketAddr) -> Result<()> {
    let mut conn = Conn::connect(addr)?;
    conn.write_all(b"first\nlast words")?;
    conn.shutdown_write()?;
    let reply = conn.read_to_eof()?;
    if reply == b"FIRST\nLAST WORDS\n" {
        Ok(())
    } else {
        Err(Error::new(
            "the replies before a half-close",
            format!(
                "expected \"FIRST\\nLAST WORDS\\n\" then a close, got {:?}",
                String::from_utf8_lossy(&reply)
            ),
        ))
    }
}
