//! Messages over a byte stream: a 4-byte length, then the bytes.
//!
//! A pipe (like a TCP socket) carries bytes, not messages. Two writes of 10 bytes may arrive as
//! one read of 20, or as reads of 3 and 17 — the course calls this the "sticky packet" problem
//! (粘包). So every message between processes here is a *frame*: its length as a little-endian
//! `u32`, then that many bytes. The reader reads exactly 4 bytes, then exactly that many more,
//! looping over short reads (`read_exact` does).
//!
//! The pitfall besides stickiness: a peer that dies half-way. [`read_frame`] returns `Ok(None)`
//! only for a clean end (EOF before a frame starts); EOF inside a frame is an error, never a
//! short message passed on as if it were whole. Frames are bounded ([`MAX_FRAME`]) so a corrupt
//! length cannot make the reader allocate gigabytes.

use std::io::{self, ErrorKind, Read, Write};

use serde::Serialize;
use serde::de::DeserializeOwned;

/// The largest frame accepted: 64 MiB.
pub const MAX_FRAME: usize = 64 << 20;

/// Writes `payload` as one frame.
pub fn write_frame(out: &mut impl Write, payload: &[u8]) -> io::Result<()> {
    let len = u32::try_from(payload.len())
        .ok()
        .filter(|&len| len as usize <= MAX_FRAME)
        .ok_or_else(|| io::Error::new(ErrorKind::InvalidInput, "frame over 64 MiB"))?;
    // One buffer, one write_all: a frame of up to PIPE_BUF (4096) bytes reaches a pipe in a
    // single write(2), which the kernel never interleaves with another writer's.
    let mut frame = Vec::with_capacity(4 + payload.len());
    frame.extend_from_slice(&len.to_le_bytes());
    frame.extend_from_slice(payload);
    out.write_all(&frame)?;
    out.flush()
}

/// Reads one frame; `Ok(None)` at a clean end of stream.
pub fn read_frame(input: &mut impl Read) -> io::Result<Option<Vec<u8>>> {
    let mut len = [0u8; 4];
    let mut got = 0;
    while got < len.len() {
        match input.read(&mut len[got..]) {
            Ok(0) if got == 0 => return Ok(None),
            Ok(0) => return Err(truncated("length")),
            Ok(n) => got += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    let len = u32::from_le_bytes(len) as usize;
    if len > MAX_FRAME {
        return Err(io::Error::new(
            ErrorKind::InvalidData,
            format!("frame of {len} bytes is over the 64 MiB limit"),
        ));
    }
    let mut payload = vec![0; len];
    input.read_exact(&mut payload).map_err(|e| match e.kind() {
        ErrorKind::UnexpectedEof => truncated("payload"),
        _ => e,
    })?;
    Ok(Some(payload))
}

/// Writes `value` as one frame of JSON.
pub fn send<T: Serialize>(out: &mut impl Write, value: &T) -> io::Result<()> {
    let bytes = serde_json::to_vec(value).map_err(io::Error::other)?;
    write_frame(out, &bytes)
}

/// Reads one frame of JSON; `Ok(None)` at a clean end of stream.
pub fn receive<T: DeserializeOwned>(input: &mut impl Read) -> io::Result<Option<T>> {
    match read_frame(input)? {
        None => Ok(None),
        Some(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| io::Error::new(ErrorKind::InvalidData, e)),
    }
}

fn truncated(part: &str) -> io::Error {
    io::Error::new(
        ErrorKind::UnexpectedEof,
        format!("the stream ended inside a frame's {part}: the writer died mid-message"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out at most `chunk` bytes per read, like a pipe under load.
    struct Trickle<'a> {
        data: &'a [u8],
        chunk: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.chunk.min(buf.len()).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    #[test]
    fn frames_survive_stuck_together_and_split_reads() {
        let mut stream = Vec::new();
        for message in [&b"first"[..], b"", b"third message"] {
            write_frame(&mut stream, message).unwrap();
        }
        let mut input = Trickle {
            data: &stream,
            chunk: 3,
        };
        assert_eq!(read_frame(&mut input).unwrap().unwrap(), b"first");
        assert_eq!(read_frame(&mut input).unwrap().unwrap(), b"");
        assert_eq!(read_frame(&mut input).unwrap().unwrap(), b"third message");
        assert_eq!(read_frame(&mut input).unwrap(), None);
    }

    #[test]
    fn a_frame_cut_short_is_an_error_not_a_message() {
        let mut stream = Vec::new();
        write_frame(&mut stream, b"complete").unwrap();
        for cut in [2, 6] {
            let error = read_frame(&mut &stream[..cut]).unwrap_err();
            assert_eq!(error.kind(), ErrorKind::UnexpectedEof, "cut at {cut}");
        }
    }

    #[test]
    fn an_absurd_length_is_refused_before_allocating() {
        let stream = u32::MAX.to_le_bytes();
        let error = read_frame(&mut &stream[..]).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidData);
    }

    #[test]
    fn json_values_round_trip() {
        let mut stream = Vec::new();
        send(&mut stream, &(7u32, "seven".to_string())).unwrap();
        let back: (u32, String) = receive(&mut &stream[..]).unwrap().unwrap();
        assert_eq!(back, (7, "seven".to_string()));
    }
}
