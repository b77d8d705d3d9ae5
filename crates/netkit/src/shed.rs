//! Turning a client away at a server's bound: a one-line answer, an orderly close, a log line.
//!
//! A blocking server (a thread, a pool slot or a process per client) has a bound, and a client
//! over it must learn so *at once*. Left waiting in the kernel's listen backlog, it is connected,
//! nobody answers, and it cannot tell a busy server from a dead one; once the backlog is full,
//! the kernel drops its SYNs and its `connect` hangs for a minute of retries. So the accept loop
//! keeps accepting, and each client over the bound gets [`BUSY`] (or the protocol's own refusal:
//! FTP's `421`, HTTP's `503`) and a close.
//!
//! [`Shedder::refuse`] does that without ever blocking the accept loop: one non-blocking write
//! (a short line always fits in a new socket's empty send buffer), `shutdown(Write)` so the line
//! is followed by an orderly end (FIN) even when the client already sent bytes nobody will read
//! (the close then also sends a reset, but the line and the end are already on their way).
//!
//! **The pitfall: a flood floods the log.** One line per refused client turns an overload into
//! a disk-filling log storm. The shedder logs the first refusal at once, then at most one line a
//! second with the count since the last line, and a last count when the server stops.

use std::fmt::Display;
use std::io::Write;
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// What a client over the bound is told, for a line protocol such as echo.
pub const BUSY: &[u8] = b"server busy, try again later\n";

/// At most one log line per this interval while refusing.
pub const LOG_EVERY: Duration = Duration::from_secs(1);

/// Refuses clients over a server's bound and logs it, rate-limited.
#[derive(Debug)]
pub struct Shedder {
    /// The server's name in log lines (`pool_echo`, `ftp`).
    role: String,
    /// Written to each refused client.
    busy: &'static [u8],
    /// Clients refused since the server started.
    total: u64,
    /// Clients refused since the last log line.
    unlogged: u64,
    /// When the last log line was written.
    last_log: Option<Instant>,
}

impl Shedder {
    /// A shedder that answers refused clients with `busy` and logs as `role`.
    pub fn new(role: &str, busy: &'static [u8]) -> Shedder {
        Shedder {
            role: role.to_string(),
            busy,
            total: 0,
            unlogged: 0,
            last_log: None,
        }
    }

    /// Turns `stream` away with the busy message, closes it, and logs (rate-limited) that the
    /// server is at its bound because `why` (`"64 children running"`).
    pub fn refuse(&mut self, stream: TcpStream, peer: SocketAddr, why: impl Display) {
        turn_away(&stream, self.busy);
        drop(stream);
        if let Some(line) = self.count(Instant::now(), peer, why) {
            crate::log_line(&line);
        }
    }

    /// Logs (rate-limited) one refusal the protocol answers itself — HTTP's 503, sent after the
    /// request is read — for the same reason as [`refuse`](Self::refuse).
    pub fn note(&mut self, peer: SocketAddr, why: impl Display) {
        if let Some(line) = self.count(Instant::now(), peer, why) {
            crate::log_line(&line);
        }
    }

    /// How many clients were refused so far.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Counts one refusal at `now`; the log line to write, if one is due.
    fn count(&mut self, now: Instant, peer: SocketAddr, why: impl Display) -> Option<String> {
        self.total += 1;
        self.unlogged += 1;
        if self
            .last_log
            .is_some_and(|last| now.duration_since(last) < LOG_EVERY)
        {
            return None;
        }
        let role = &self.role;
        let total = self.total;
        let line = if self.unlogged == 1 {
            format!("{role}: busy ({why}); turned {peer} away ({total} refused so far)")
        } else {
            let n = self.unlogged;
            format!(
                "{role}: busy ({why}); turned {n} clients away since the last line, the latest \
                 {peer} ({total} refused so far)"
            )
        };
        self.unlogged = 0;
        self.last_log = Some(now);
        Some(line)
    }
}

impl Drop for Shedder {
    /// The refusals not logged yet, so the log's count is complete.
    fn drop(&mut self) {
        if self.unlogged > 0 {
            let (role, n, total) = (&self.role, self.unlogged, self.total);
            crate::log_line(&format!(
                "{role}: turned {n} more clients away ({total} refused in all)"
            ));
        }
    }
}

/// Writes `message` to `stream` without blocking, then ends the connection in order.
pub fn turn_away(stream: &TcpStream, message: &[u8]) {
    // Best effort throughout: a client that already left needs no answer.
    let _ = stream.set_nonblocking(true);
    let _ = (&*stream).write(message);
    let _ = stream.shutdown(Shutdown::Write);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer() -> SocketAddr {
        "127.0.0.1:4000".parse().unwrap()
    }

    #[test]
    fn the_first_refusal_is_logged_then_at_most_one_line_a_second_with_the_count() {
        let mut shedder = Shedder::new("pool_echo", BUSY);
        let start = Instant::now();
        let first = shedder.count(start, peer(), "2 waiting").unwrap();
        assert!(first.contains("pool_echo: busy (2 waiting)"), "{first}");
        for ms in 1..100 {
            let at = start + Duration::from_millis(ms);
            assert_eq!(shedder.count(at, peer(), "2 waiting"), None);
        }
        let next = shedder
            .count(start + LOG_EVERY, peer(), "2 waiting")
            .unwrap();
        assert!(next.contains("turned 100 clients away"), "{next}");
        assert!(next.contains("(101 refused so far)"), "{next}");
        assert_eq!(shedder.total(), 101);
    }
}
