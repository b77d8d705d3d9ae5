//! The control channel, read as bytes: one command line at a time, Telnet IAC skipped.
//!
//! FTP's control connection is a Telnet stream. Most clients send plain `COMMAND arg\r\n`, but
//! some send Telnet commands too — `IAC IP IAC DM` (`FF F4 FF F2`) before `ABOR`, to interrupt —
//! and a hostile or broken client may send a line that never ends. So the reader works on
//! bytes, never on "a `String` per line":
//!
//! - `IAC IAC` is a literal `0xFF` byte; `IAC WILL/WONT/DO/DONT x` (3 bytes) and every other
//!   two-byte `IAC x` are dropped; `IAC SB … IAC SE` (sub-negotiation) is dropped whole;
//! - a line ends at `\n`; a `\r` before it is removed;
//! - a line longer than [`MAX_LINE`] bytes is not kept: the rest of it is read and thrown away
//!   up to its `\n`, and the caller answers `500` — the connection survives, and the server's
//!   memory for one line stays bounded.

use std::io::{self, BufRead};

/// The longest command line kept, in bytes (without the line end).
pub const MAX_LINE: usize = 2048;

const IAC: u8 = 0xFF;
const SB: u8 = 0xFA;
const SE: u8 = 0xF0;
const WILL: u8 = 0xFB;
const DONT: u8 = 0xFE;

/// One line from the client.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// A complete line, IAC sequences and line end removed.
    Text(Vec<u8>),
    /// A line over [`MAX_LINE`] bytes, read to its end and dropped.
    TooLong,
    /// The client closed the connection (a partial last line is dropped with it).
    Eof,
}

/// Where the reader is in a Telnet sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Telnet {
    Data,
    /// After `IAC`.
    Command,
    /// After `IAC WILL/WONT/DO/DONT`: one option byte follows.
    Option,
    /// Inside `IAC SB …`, until `IAC SE`.
    Sub,
    /// After `IAC` inside a sub-negotiation.
    SubCommand,
}

/// Reads command lines from a buffered control connection.
#[derive(Debug)]
pub struct LineReader<R> {
    input: R,
    telnet: Telnet,
}

impl<R: BufRead> LineReader<R> {
    /// Reads lines from `input`.
    pub fn new(input: R) -> Self {
        LineReader {
            input,
            telnet: Telnet::Data,
        }
    }

    /// The next line. Errors are the connection's (a read timeout, a reset).
    pub fn next_line(&mut self) -> io::Result<Line> {
        let mut line = Vec::new();
        let mut too_long = false;
        loop {
            let chunk = match self.input.fill_buf() {
                Ok([]) => return Ok(Line::Eof),
                Ok(chunk) => chunk,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            let mut used = 0;
            let mut ended = false;
            for &byte in chunk {
                used += 1;
                match step(&mut self.telnet, byte) {
                    Some(b'\n') => {
                        ended = true;
                        break;
                    }
                    Some(byte) if line.len() < MAX_LINE + 1 => line.push(byte),
                    Some(_) => too_long = true,
                    None => {}
                }
            }
            self.input.consume(used);
            if ended {
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(if too_long || line.len() > MAX_LINE {
                    Line::TooLong
                } else {
                    Line::Text(line)
                });
            }
        }
    }
}

/// Feeds one byte through the Telnet state machine; the data byte it yields, if any.
fn step(telnet: &mut Telnet, byte: u8) -> Option<u8> {
    let (next, out) = match (*telnet, byte) {
        (Telnet::Data, IAC) => (Telnet::Command, None),
        (Telnet::Data, b) => (Telnet::Data, Some(b)),
        (Telnet::Command, IAC) => (Telnet::Data, Some(IAC)),
        (Telnet::Command, SB) => (Telnet::Sub, None),
        (Telnet::Command, WILL..=DONT) => (Telnet::Option, None),
        (Telnet::Command, _) => (Telnet::Data, None),
        (Telnet::Option, _) => (Telnet::Data, None),
        (Telnet::Sub, IAC) => (Telnet::SubCommand, None),
        (Telnet::Sub, _) => (Telnet::Sub, None),
        (Telnet::SubCommand, SE) => (Telnet::Data, None),
        (Telnet::SubCommand, _) => (Telnet::Sub, None),
    };
    *telnet = next;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8]) -> Vec<Line> {
        let mut reader = LineReader::new(io::BufReader::with_capacity(7, input));
        let mut out = Vec::new();
        loop {
            let line = reader.next_line().unwrap();
            let end = line == Line::Eof;
            out.push(line);
            if end {
                return out;
            }
        }
    }

    fn text(s: &[u8]) -> Line {
        Line::Text(s.to_vec())
    }

    #[test]
    fn telnet_sequences_are_skipped_and_iac_iac_is_a_byte() {
        let input = b"\xff\xf4\xff\xf2ABOR\r\nNO\xff\xfb\x01OP\n\xff\xfa\x18\x01\xff\xf0PWD\r\nA\xff\xffB\r\n";
        assert_eq!(
            lines(input),
            [
                text(b"ABOR"),
                text(b"NOOP"),
                text(b"PWD"),
                text(b"A\xffB"),
                Line::Eof
            ]
        );
    }

    #[test]
    fn an_over_long_line_is_dropped_and_the_next_one_read() {
        let mut input = vec![b'x'; MAX_LINE * 3];
        input.extend_from_slice(b"\r\nNOOP\r\n");
        assert_eq!(lines(&input), [Line::TooLong, text(b"NOOP"), Line::Eof]);
        let mut exact = vec![b'y'; MAX_LINE];
        exact.extend_from_slice(b"\r\n");
        assert_eq!(lines(&exact), [text(&exact[..MAX_LINE]), Line::Eof]);
    }

    #[test]
    fn a_partial_last_line_is_dropped_at_eof() {
        assert_eq!(lines(b"NOOP\r\nQU"), [text(b"NOOP"), Line::Eof]);
    }
}
