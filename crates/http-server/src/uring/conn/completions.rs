//! What each completion means to a connection, and how its timer follows its deadline.

use std::io;
use std::time::{Duration, Instant, SystemTime};

use io_models::uring::{Op, Ring};
use io_uring::opcode::{Timeout, TimeoutRemove, TimeoutUpdate};
use io_uring::types::Timespec;
use netkit::conn::log_broken;

use super::{LINGER, Phase, Timer, UringConn};

/// How much earlier a deadline must move before the timer in flight is updated.
const SLACK: Duration = Duration::from_millis(1);

impl UringConn {
    /// A receive completed: bytes for the session (or the drain), the peer's FIN, or an error.
    pub(super) fn on_received(&mut self, result: io::Result<u32>) {
        (self.io, self.cancelling) = (None, false);
        let n = match result {
            Ok(0) => return self.phase = Phase::Finished,
            Ok(n) => n as usize,
            Err(e) => return self.broke(&e),
        };
        match &mut self.phase {
            Phase::Reading => {
                if !self.session.mid_request() {
                    self.since = Instant::now(); // a request begins: the header timeout starts
                }
                self.session.receive(&self.input[..n]);
            }
            Phase::Draining { drained } => {
                *drained += n;
                if *drained >= LINGER.1 {
                    self.phase = Phase::Finished;
                }
            }
            // Its cancellation was asked (a deadline passed, or the server stops): dropped.
            Phase::Writing { .. } | Phase::Finished => {}
        }
    }

    /// A send completed: `n` bytes went out — maybe fewer than asked (the rest is sent next).
    pub(super) fn on_sent(&mut self, result: io::Result<u32>) {
        (self.io, self.cancelling) = (None, false);
        match result {
            Ok(0) => self.broke(&io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                self.sent += n as usize;
                self.since = Instant::now(); // progress restarts the write timeout
                if self.sent == self.output.len() {
                    self.output.clear();
                    self.sent = 0;
                }
            }
            Err(e) => self.broke(&e),
        }
    }

    /// A read of the response's file completed: `n` more bytes at the end of `output`.
    pub(super) fn on_read(&mut self, result: io::Result<u32>) {
        self.io = None;
        let Phase::Writing {
            file: Some(range), ..
        } = &mut self.phase
        else {
            return; // finished meanwhile: the bytes are not sent
        };
        match result {
            Ok(0) => {
                eprintln!("uring: a file shrank while it was sent; closing the connection");
                self.phase = Phase::Finished;
            }
            Ok(n) => {
                // SAFETY: the kernel wrote `n` bytes into the spare capacity the read was
                // given, which starts at `output.len()`.
                unsafe { self.output.set_len(self.output.len() + n as usize) };
                range.offset += u64::from(n);
                range.len -= u64::from(n);
            }
            Err(e) => {
                log_broken("uring", &e);
                self.phase = Phase::Finished;
            }
        }
    }

    /// The timer completed: it fired (the deadline may have moved on since it was armed) or
    /// was removed.
    pub(super) fn on_timer(&mut self) {
        let was = std::mem::replace(&mut self.timer, Timer::Off);
        if was == Timer::Removing || matches!(self.phase, Phase::Finished) {
            return;
        }
        if Instant::now() >= self.deadline() {
            self.expire();
        }
    }

    /// When the current wait ends: the header timeout while a request arrives, the idle timeout
    /// between requests, the write timeout while a response goes out, the linger while draining.
    fn deadline(&self) -> Instant {
        let wait = match self.phase {
            Phase::Reading if self.session.mid_request() => self.limits.header_timeout,
            Phase::Reading | Phase::Finished => self.limits.idle_timeout,
            Phase::Writing { .. } => self.limits.write_timeout,
            Phase::Draining { .. } => LINGER.0,
        };
        self.since + wait
    }

    /// The deadline passed: a 408 for a request under way (sent once the receive in flight is
    /// cancelled); otherwise the connection ends.
    fn expire(&mut self) {
        match self.session.timed_out(SystemTime::now()) {
            Some(response) if matches!(self.phase, Phase::Reading) => self.start(response),
            _ => self.phase = Phase::Finished,
        }
    }

    /// The connection cannot go on; a cancellation we asked for is not a failure.
    fn broke(&mut self, e: &io::Error) {
        if e.raw_os_error() == Some(libc::ECANCELED) {
            return; // the phase already says what follows
        }
        log_broken("uring", e);
        self.phase = Phase::Finished;
    }

    /// Keeps one timer in flight at the deadline: armed when there is none, moved earlier
    /// when the deadline did, removed once the connection is finished.
    pub(super) fn keep_timer(&mut self, key: usize, ring: &mut Ring) -> io::Result<()> {
        let timer = Op::Timeout(key).user_data();
        let bookkeeping = Op::Cancel(key).user_data();
        if matches!(self.phase, Phase::Finished) {
            if let Timer::Armed(_) = self.timer {
                self.timer = Timer::Removing;
                let remove = TimeoutRemove::new(timer).build();
                self.push(ring, &remove.user_data(bookkeeping))?;
            }
            return Ok(());
        }
        let deadline = self.deadline();
        let entry = match self.timer {
            Timer::Off => Timeout::new(&*self.timespec).build().user_data(timer),
            Timer::Armed(at) if deadline + SLACK < at => {
                let update = TimeoutUpdate::new(timer, &*self.timespec).build();
                update.user_data(bookkeeping)
            }
            Timer::Armed(_) | Timer::Removing => return Ok(()),
        };
        *self.timespec = Timespec::from(deadline.saturating_duration_since(Instant::now()));
        self.timer = Timer::Armed(deadline);
        self.push(ring, &entry)
    }

    /// The ring has nothing in flight (the loop ended on an error): whatever this connection
    /// still counts, no buffer of it is the kernel's.
    pub fn release(&mut self) {
        self.in_flight = 0;
    }
}

impl Drop for UringConn {
    /// The safety net of the ownership rule: a connection freed with an operation in flight
    /// leaks its buffers (the kernel may still use them) and panics to say so.
    fn drop(&mut self) {
        if self.in_flight > 0 {
            std::mem::forget(std::mem::take(&mut self.input));
            std::mem::forget(std::mem::take(&mut self.output));
            std::mem::forget(std::mem::replace(
                &mut self.timespec,
                Box::new(Timespec::new()),
            ));
            if !std::thread::panicking() {
                panic!(
                    "uring: an HTTP connection was freed with {} operation(s) in flight; its \
                     buffers are leaked, since the kernel may still use them",
                    self.in_flight
                );
            }
        }
    }
}
