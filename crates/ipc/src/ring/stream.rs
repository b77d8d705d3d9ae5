//! A checked byte stream through a ring: the producer sends a pattern, the consumer finds the
//! first byte that differs — so a lost, repeated or reordered byte cannot pass unseen, whatever
//! the sizes of the writes and reads (which need not match: the ring carries bytes, not
//! messages).

use std::io;
use std::time::Duration;

use super::Ring;

/// The byte at stream offset `i`: it differs from its neighbours, and from the byte 256 (and
/// 65,536) places away, so a shift of the stream shows.
pub fn pattern(i: u64) -> u8 {
    (i ^ (i >> 8) ^ (i >> 16)) as u8
}

/// The producer: pushes `total` bytes of [`pattern`] in writes of `chunk` bytes.
pub fn send_pattern(ring: &Ring, total: u64, chunk: usize, patience: Duration) -> io::Result<()> {
    let mut offset = 0u64;
    let mut buf = vec![0u8; chunk.max(1)];
    while offset < total {
        let n = buf.len().min((total - offset) as usize);
        for (k, byte) in buf[..n].iter_mut().enumerate() {
            *byte = pattern(offset + k as u64);
        }
        ring.write_all(&buf[..n], patience)?;
        offset += n as u64;
    }
    Ok(())
}

/// The consumer: pops `total` bytes in reads of `chunk` bytes and checks each against
/// [`pattern`]; returns the offset of the first wrong byte, if any (it reads on to the end, so
/// the producer is never left waiting for room).
pub fn receive_pattern(
    ring: &Ring,
    total: u64,
    chunk: usize,
    patience: Duration,
) -> io::Result<Option<u64>> {
    let mut offset = 0u64;
    let mut buf = vec![0u8; chunk.max(1)];
    let mut wrong = None;
    while offset < total {
        let n = buf.len().min((total - offset) as usize);
        ring.read_exact(&mut buf[..n], patience)?;
        if wrong.is_none() {
            wrong = (0..n)
                .find(|&k| buf[k] != pattern(offset + k as u64))
                .map(|k| offset + k as u64);
        }
        offset += n as u64;
    }
    Ok(wrong)
}
