//! A line protocol: each line a client sends gets one reply, made by a function of the line.
//!
//! The second protocol of the workspace, after echo, and the proof that the event loops serve
//! any protocol: every model runs it through the same entry point it runs echo with
//! (`run_with(listener, stop, new_conn)` for the event loops, a handler for the blocking
//! servers). [`uppercase`] is the reply the tests use — a line-uppercasing server.
//!
//! Unlike echo, a line protocol must *frame*: one `read` may bring half a line, or three lines
//! and a half, so bytes wait in an input buffer until a `\n` completes a line. The pitfall is the
//! line that never ends — a client sending bytes without a newline would grow that buffer without
//! bound — so a line over [`MAX_LINE`] bytes is answered with [`TOO_LONG`] and the connection is
//! closed once that is sent. A last line without a newline (the peer closed after it) is still
//! answered.

use std::io::{self, BufRead, BufReader, Write};
use std::net::{Shutdown, TcpStream};

use crate::conn::{self, CHUNK, Connection, ReadStop};
use crate::echo::{MAX_PENDING, ignore_not_connected};
use crate::outbox::Outbox;

/// The longest line accepted, newline excluded.
pub const MAX_LINE: usize = 4096;
/// The reply to a longer line, after which the server closes the connection.
pub const TOO_LONG: &[u8] = b"error: line too long (the limit is 4096 bytes)\n";

/// The tests' line protocol: the line in upper case (ASCII), newline-terminated.
pub fn uppercase(line: &[u8]) -> Vec<u8> {
    let mut reply = line.to_ascii_uppercase();
    reply.push(b'\n');
    reply
}

/// A connection of the line-uppercasing server.
pub type UppercaseConn = LineConn<fn(&[u8]) -> Vec<u8>>;

/// The factory of the line-uppercasing server, for any event loop's `run_with`.
pub fn uppercase_conn(stream: TcpStream) -> io::Result<UppercaseConn> {
    LineConn::new(stream, uppercase)
}

/// What one input buffer holds once complete lines are taken out.
enum Framed {
    /// Keep reading.
    Partial,
    /// A line over the limit arrived: answer [`TOO_LONG`] and close.
    TooLong,
}

/// Takes every complete line out of `input`, appending `reply(line)` for each to `out`.
fn frame_lines(
    input: &mut Vec<u8>,
    out: &mut Outbox,
    reply: &mut impl FnMut(&[u8]) -> Vec<u8>,
) -> Framed {
    let mut start = 0;
    while let Some(end) = input[start..].iter().position(|&b| b == b'\n') {
        let line = &input[start..start + end];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.len() > MAX_LINE {
            return Framed::TooLong;
        }
        out.push(&reply(line));
        start += end + 1;
    }
    input.drain(..start);
    // Room for the limit and a CR: a line that long may still end well.
    if input.len() > MAX_LINE + 1 {
        Framed::TooLong
    } else {
        Framed::Partial
    }
}

/// One non-blocking connection of a line protocol.
pub struct LineConn<F> {
    stream: TcpStream,
    /// Bytes of a line not yet complete.
    input: Vec<u8>,
    output: Outbox,
    reply: F,
    /// Nothing more will be read: the peer sent FIN, or a line was too long.
    done_reading: bool,
}

impl<F> std::fmt::Debug for LineConn<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LineConn")
            .field("stream", &self.stream)
            .field("input", &self.input.len())
            .field("output", &self.output)
            .field("done_reading", &self.done_reading)
            .finish_non_exhaustive()
    }
}

impl<F: FnMut(&[u8]) -> Vec<u8>> LineConn<F> {
    /// Wraps a connection (switched to non-blocking mode) answering each line with `reply`.
    pub fn new(stream: TcpStream, reply: F) -> io::Result<LineConn<F>> {
        stream.set_nonblocking(true)?;
        Ok(LineConn {
            stream,
            input: Vec::new(),
            output: Outbox::new(),
            reply,
            done_reading: false,
        })
    }

    /// Frames what one `read` brought (`bytes`; none: the peer closed) into lines and answers.
    fn frame(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            self.finish_reading(Framed::Partial);
            return;
        }
        self.input.extend_from_slice(bytes);
        if let Framed::TooLong = frame_lines(&mut self.input, &mut self.output, &mut self.reply) {
            self.finish_reading(Framed::TooLong);
        }
    }

    /// The peer is done, or a line was too long: answer what is left, read no more.
    fn finish_reading(&mut self, framed: Framed) {
        match framed {
            Framed::TooLong => self.output.push(TOO_LONG),
            Framed::Partial if !self.input.is_empty() => {
                let last = std::mem::take(&mut self.input);
                self.output.push(&(self.reply)(&last));
            }
            Framed::Partial => {}
        }
        self.input.clear();
        self.done_reading = true;
    }
}

impl<F: FnMut(&[u8]) -> Vec<u8>> Connection for LineConn<F> {
    fn stream(&self) -> &TcpStream {
        &self.stream
    }

    fn wants_read(&self) -> bool {
        !self.done_reading && self.output.unsent() < MAX_PENDING
    }

    fn wants_write(&self) -> bool {
        !self.output.is_empty()
    }

    fn is_finished(&self) -> bool {
        self.done_reading && self.output.is_empty()
    }

    fn on_readable(&mut self, budget: usize) -> io::Result<ReadStop> {
        let stopped = |c: &LineConn<F>| {
            if c.done_reading {
                Some(ReadStop::Eof)
            } else {
                (c.output.unsent() >= MAX_PENDING).then_some(ReadStop::Full)
            }
        };
        let mut chunk = [0u8; CHUNK];
        let stop = conn::read_budgeted(self, budget, stopped, |c, room| {
            let n = io::Read::read(&mut c.stream, &mut chunk[..room])?;
            c.frame(&chunk[..n]);
            Ok(n)
        })?;
        self.on_writable()?;
        Ok(stop)
    }

    fn on_writable(&mut self) -> io::Result<()> {
        self.output.write_to(&mut self.stream)?;
        if self.is_finished() {
            self.stream
                .shutdown(Shutdown::Write)
                .or_else(ignore_not_connected)?;
        }
        Ok(())
    }
}

/// The same protocol over a blocking stream, for the thread and process servers: answers each
/// line until the peer closes (or a line is too long), then closes our side.
pub fn serve_blocking(
    stream: &mut TcpStream,
    mut reply: impl FnMut(&[u8]) -> Vec<u8>,
) -> io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = Vec::new();
    loop {
        line.clear();
        // At most one byte over the limit is read into `line`: the rest stays in the socket.
        let limit = (MAX_LINE + 2) as u64;
        let n = io::Read::take(&mut reader, limit).read_until(b'\n', &mut line)?;
        if n == 0 {
            break;
        }
        let complete = line.last() == Some(&b'\n');
        let body = line.strip_suffix(b"\n").unwrap_or(&line);
        let body = body.strip_suffix(b"\r").unwrap_or(body);
        if body.len() > MAX_LINE || (!complete && n as u64 == limit) {
            stream.write_all(TOO_LONG)?;
            break;
        }
        stream.write_all(&reply(body))?;
        if !complete {
            break; // the peer closed after an unterminated last line
        }
    }
    stream
        .shutdown(Shutdown::Write)
        .or_else(ignore_not_connected)
}
