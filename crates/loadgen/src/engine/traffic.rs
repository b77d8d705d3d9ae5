//! Request/response traffic: write S bytes, read S bytes back, verify, record, repeat.
//!
//! Each active connection has one request in flight at a time (a closed loop): the latency
//! recorded is from the first `write` of a request to the last byte of its echo, and the next
//! request is written in the same wake-up as the echo completes. Under a closed loop a slow
//! server also slows the arrival of requests, so the percentiles describe the server *at this
//! concurrency*, not at a fixed arrival rate (no coordinated-omission correction is applied).
//!
//! A request costs one `write`, one `read` and its share of an `epoll_wait`: no `epoll_ctl`
//! while the interest stays "readable", and no `read` right after a fresh `write`, which could
//! only return `EAGAIN`.
//!
//! Pitfall shown here: a request is *written and read at the same time*. "Write S bytes, then
//! read S bytes" deadlocks once S exceeds the socket buffers: the server blocks writing its echo
//! to us because we do not read, and we block writing because it does not read. So in
//! `Exchanging` the interest is readable always and writable while bytes remain unsent.

use std::io::{self, ErrorKind, Read, Write};
use std::time::Instant;

use super::{Conn, Engine, MAX_WAIT, Role, State, Stop, is_retry};
use crate::failure::Failure;

impl Engine {
    /// Runs request/response traffic on every established active connection until `stop`, or
    /// until the engine's stop is requested, or until no connection is left.
    pub fn run_traffic(&mut self, stop: Stop) -> io::Result<()> {
        let began = Instant::now();
        (self.request_limit, self.request_deadline) = match stop {
            Stop::Requests(n) => (n, None),
            Stop::Duration(d) => (u64::MAX, Some(began + d)),
        };
        let ready: Vec<usize> = self
            .slots
            .iter()
            .filter(|(_, c)| c.role == Role::Active && matches!(c.state, State::Open))
            .map(|(slot, _)| slot)
            .collect();
        for slot in ready {
            self.exchange(slot, true, false);
        }
        let mut next_scan = Instant::now() + MAX_WAIT;
        while self.exchanging > 0 {
            if self.stop.is_stopped() {
                self.tally.interrupted = true;
                break;
            }
            let now = Instant::now();
            if self.request_deadline.is_some_and(|d| now >= d) {
                break;
            }
            if now >= next_scan {
                self.expire_requests(now);
                next_scan = now + MAX_WAIT;
            }
            self.turn(self.request_deadline)?;
        }
        self.tally.traffic_secs = began.elapsed().as_secs_f64();
        if let Some(deadline) = self.request_deadline {
            // The window is the duration asked for, not the moment the loop noticed it ended.
            self.tally.traffic_secs = self
                .tally
                .traffic_secs
                .min((deadline - began).as_secs_f64());
        }
        self.tally.unfinished += self.exchanging;
        self.request_limit = self.issued; // nothing new starts after the run
        Ok(())
    }

    fn expire_requests(&mut self, now: Instant) {
        for slot in self.slots.keys() {
            let late = matches!(
                self.slots.get(slot),
                Some(Conn { state: State::Exchanging { started, .. }, .. })
                    if now.duration_since(*started) >= self.settings.request_timeout
            );
            if late {
                self.fail(slot, Failure::RequestTimeout, None);
            }
        }
    }

    /// An open connection with no request in flight became readable: the server closed it, or
    /// sent bytes nobody asked for. Either way the connection is no longer usable.
    pub(super) fn on_unexpected_input(&mut self, slot: usize) {
        let conn = self.slots.get_mut(slot).expect("slot holds a connection");
        let mut byte = [0u8; 1];
        match conn.stream.read(&mut byte) {
            Ok(0) => self.fail(slot, Failure::ClosedByServer, None),
            Ok(_) => self.fail(slot, Failure::Mismatch, None),
            Err(e) if is_retry(&e) => {} // spurious wake-up; level-triggered will report again
            Err(e) => self.fail(slot, Failure::of(&e), Some(&e)),
        }
    }

    /// Makes progress on the request in flight on `slot` (or starts one when `start` is set):
    /// write what the socket takes, read and verify what has come back (when `readable`), and on
    /// a complete echo record its latency and start the next request.
    pub(super) fn exchange(&mut self, slot: usize, start: bool, readable: bool) {
        if start && !self.begin_request(slot) {
            return;
        }
        let size = self.settings.size;
        let mut may_read = readable;
        loop {
            let conn = self.slots.get_mut(slot).expect("slot holds a connection");
            let State::Exchanging {
                started,
                mut written,
                mut read,
            } = conn.state
            else {
                return;
            };
            while written < size {
                match conn.stream.write(&conn.payload[written..]) {
                    Ok(n) => written += n,
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) => return self.fail(slot, Failure::of(&e), Some(&e)),
                }
            }
            while may_read && read < written {
                let want = (size - read).min(self.scratch.len());
                match conn.stream.read(&mut self.scratch[..want]) {
                    Ok(0) => return self.fail(slot, Failure::ClosedByServer, None),
                    Ok(n) => {
                        if self.scratch[..n] != conn.payload[read..read + n] {
                            return self.fail(slot, Failure::Mismatch, None);
                        }
                        read += n;
                    }
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) => return self.fail(slot, Failure::of(&e), Some(&e)),
                }
            }
            if read < size {
                conn.state = State::Exchanging {
                    started,
                    written,
                    read,
                };
                return self.set_interest(slot, (true, written < size));
            }
            if !self.complete_request(slot, started) {
                return;
            }
            // The echo of the request about to be written cannot be back yet: wait for
            // readiness instead of spending a `read` on EAGAIN.
            may_read = false;
        }
    }

    /// The whole echo of the request on `slot` is back: records its latency (unless the run's
    /// window closed first) and starts the next request. Returns whether one was started.
    fn complete_request(&mut self, slot: usize, started: Instant) -> bool {
        let now = Instant::now();
        self.exchanging -= 1;
        if let Some(conn) = self.slots.get_mut(slot) {
            conn.state = State::Open;
        }
        if self.request_deadline.is_some_and(|d| now > d) {
            // Completed after the window closed: like any request still in flight at the
            // deadline, it is not counted.
            self.tally.unfinished += 1;
            self.set_interest(slot, (true, false));
            return false;
        }
        let nanos = u64::try_from((now - started).as_nanos()).unwrap_or(u64::MAX);
        self.tally.latency.saturating_record(nanos.max(1));
        self.tally.requests += 1;
        self.begin_request(slot)
    }

    /// Moves an open active connection into `Exchanging` with a fresh request number, if the
    /// run allows another request. Returns false (and leaves it `Open`) if not.
    fn begin_request(&mut self, slot: usize) -> bool {
        let now = Instant::now();
        if self.issued >= self.request_limit || self.request_deadline.is_some_and(|d| now >= d) {
            self.set_interest(slot, (true, false));
            return false;
        }
        self.issued += 1;
        self.exchanging += 1;
        let conn = self.slots.get_mut(slot).expect("slot holds a connection");
        conn.sequence += 1;
        let header = conn.sequence.to_le_bytes();
        let n = header.len().min(conn.payload.len());
        conn.payload[..n].copy_from_slice(&header[..n]);
        conn.state = State::Exchanging {
            started: now,
            written: 0,
            read: 0,
        };
        true
    }
}

/// Request bytes for connection `index`: pseudo-random, different on every connection, so a
/// server that mixes up connections or repeats stale data is caught.
pub(super) fn payload_for(index: u64, size: usize) -> Vec<u8> {
    let mut state = index.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..size)
        .map(|_| {
            // xorshift64: fast, and plenty random for telling connections apart.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_differ_between_connections() {
        assert_ne!(payload_for(1, 64), payload_for(2, 64));
        assert_eq!(payload_for(7, 64), payload_for(7, 64));
        assert!(payload_for(3, 0).is_empty());
    }
}
