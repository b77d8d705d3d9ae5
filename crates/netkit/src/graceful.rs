//! A graceful stop for an event loop: stop accepting, finish what is in flight, within a bound.
//!
//! **What.** A server that returns the moment its [`Stop`] is set drops every connection where
//! it is: a client half-way through a 5 MiB download is left with a truncated file (and one that
//! does not check `Content-Length` keeps it as if it were whole). A graceful stop, the way nginx
//! and every load balancer's "drain" do it, goes in three steps, and [`Graceful`] gives every
//! loop the same ones:
//!
//! 1. **Stop accepting**: the loop closes its listener, so a new client is refused at once
//!    (`ECONNREFUSED`) and can try another server, instead of waiting in a backlog nobody reads.
//! 2. **Close the idle, finish the busy**: a connection that is between requests
//!    ([`Connection::is_idle`]: nothing half-written, no request half-read) is closed now; a
//!    busy one is served on until it turns idle, and is closed then.
//! 3. **Within a bound**: after the stop's [grace period](Stop::grace), or at once on a second
//!    request ([`Stop::force`], a second Ctrl-C), what is still busy is cut, and the log says
//!    how many.
//!
//! **Why a bound.** "Finish what is in flight" is a promise to clients, but a client decides how
//! fast it reads: one that never reads would hold the server's exit forever. Each connection's
//! own timeouts (a write that makes no progress) bound it too; the grace period bounds the whole.
//!
//! **The pitfall.** The stop's descriptor ([`Stop::fd`]) stays readable once set — that is how it
//! wakes every loop — so a loop that keeps watching it while it drains wakes at once on every
//! turn: a busy spin for the whole drain. A draining loop watches [`Graceful::fd`] instead (the
//! [force](Stop::force_fd) descriptor), and sleeps no longer than the grace period allows
//! ([`Graceful::wait`]). A loop that registered the stop's descriptor with epoll must deregister it.

use std::os::fd::BorrowedFd;
use std::time::{Duration, Instant};

use crate::accept::Acceptor;
use crate::conn::Connection;
use crate::{Slab, Stop, Timers, log_line};

/// Where a loop is in its stop (see the module docs).
#[derive(Debug)]
pub struct Graceful<'s> {
    model: &'s str,
    stop: &'s Stop,
    /// What is counted in the log lines: connections, unless told ([`Graceful::counting`]).
    what: &'static str,
    /// When the grace period ends; `None` until the stop is seen.
    until: Option<Instant>,
}

/// What a loop does this turn.
#[derive(Debug, PartialEq, Eq)]
pub enum Turn {
    /// No stop yet: accept and serve as usual.
    Serve,
    /// Stopping: the listener must be closed (if it is not yet), these idle connections closed
    /// now, and the busy ones served on.
    Drain(Vec<usize>),
    /// The drain is over (every connection done, the grace period passed, or the stop forced):
    /// return; dropping the connections closes them.
    Over,
}

impl<'s> Graceful<'s> {
    /// A loop named `model` (for its log lines), stopped by `stop`.
    pub fn new(model: &'s str, stop: &'s Stop) -> Graceful<'s> {
        Graceful {
            model,
            stop,
            what: "connection(s)",
            until: None,
        }
    }

    /// The same, saying `what` it waits for in its log lines (a prefork server's "worker(s)").
    pub fn counting(self, what: &'static str) -> Graceful<'s> {
        Graceful { what, ..self }
    }

    /// The turn of a loop whose connections are in `conns` (`conn` finds the connection in a
    /// slot; `|c| c` when the slab holds connections). Call it at the top of every turn, before
    /// waiting: a connection that turned idle during the last turn is then closed before the
    /// loop sleeps.
    pub fn turn<T, C: Connection>(&mut self, conns: &Slab<T>, conn: impl Fn(&T) -> &C) -> Turn {
        if !self.stop.is_stopped() {
            return Turn::Serve;
        }
        let idle: Vec<usize> = conns
            .iter()
            .filter(|(_, slot)| conn(slot).is_idle())
            .map(|(key, _)| key)
            .collect();
        if self.goes_on(conns.len() - idle.len()) {
            Turn::Drain(idle)
        } else {
            Turn::Over
        }
    }

    /// [`Graceful::turn`], done, for a loop whose slab holds its connections and whose timers
    /// use the same keys (select, poll): once stopping, drops the acceptor (closing the
    /// listener) and closes the idle connections. False when the drain is over: return.
    pub fn carry_on<C: Connection>(
        &mut self,
        acceptor: &mut Option<Acceptor>,
        conns: &mut Slab<C>,
        timers: &mut Timers,
    ) -> bool {
        match self.turn(conns, |c| c) {
            Turn::Serve => true,
            Turn::Drain(idle) => {
                *acceptor = None;
                for key in idle {
                    conns.remove(key);
                    timers.remove(key);
                }
                true
            }
            Turn::Over => false,
        }
    }

    /// Whether a stopping loop with `busy` connections still in flight waits for them: false
    /// when there are none, when the grace period has passed, or when the stop was forced (what
    /// is cut is logged). The first call starts the grace period. For a loop that counts its
    /// busy connections itself (the reactor's tasks); [`Graceful::turn`] calls it.
    pub fn goes_on(&mut self, busy: usize) -> bool {
        let now = Instant::now();
        let grace = self.stop.grace();
        let until = *self.until.get_or_insert_with(|| {
            if busy > 0 {
                log_line(&format!(
                    "{}: stopping: no longer accepting; finishing {busy} {} in flight, for at \
                     most {}s",
                    self.model,
                    self.what,
                    grace.as_secs_f64()
                ));
            }
            now + grace
        });
        let why = if busy == 0 {
            return false;
        } else if self.stop.is_forced() {
            "stopped at once (a second stop)".to_string()
        } else if now >= until {
            format!("the {}s grace period is over", grace.as_secs_f64())
        } else {
            return true;
        };
        log_line(&format!(
            "{}: {why}; cutting {busy} {} still busy",
            self.model, self.what
        ));
        false
    }

    /// True once the stop was seen (by [`Graceful::turn`] or [`Graceful::goes_on`]).
    pub fn is_draining(&self) -> bool {
        self.until.is_some()
    }

    /// The descriptor the loop's wait watches: the stop's while serving, the force descriptor
    /// while draining (the stop's is readable for good by then).
    pub fn fd(&self) -> BorrowedFd<'s> {
        if self.is_draining() {
            self.stop.force_fd()
        } else {
            self.stop.fd()
        }
    }

    /// How long the loop may sleep, given how long its connections let it (`None`: as long as
    /// it likes): no longer than the grace period has left while draining.
    pub fn wait(&self, wait: Option<Duration>) -> Option<Duration> {
        match self.until {
            None => wait,
            Some(until) => {
                let left = until.saturating_duration_since(Instant::now());
                Some(wait.map_or(left, |w| w.min(left)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::net::{TcpListener, TcpStream};
    use std::os::fd::AsRawFd;

    use super::*;
    use crate::conn::ReadStop;

    /// A connection that is idle or busy as the test says.
    struct Fake {
        stream: TcpStream,
        idle: bool,
    }

    impl Connection for Fake {
        fn stream(&self) -> &TcpStream {
            &self.stream
        }
        fn wants_read(&self) -> bool {
            true
        }
        fn wants_write(&self) -> bool {
            false
        }
        fn is_finished(&self) -> bool {
            false
        }
        fn on_readable(&mut self, _: usize) -> io::Result<ReadStop> {
            Ok(ReadStop::Drained)
        }
        fn on_writable(&mut self) -> io::Result<()> {
            Ok(())
        }
        fn is_idle(&self) -> bool {
            self.idle
        }
    }

    fn fake(listener: &TcpListener, idle: bool) -> Fake {
        let stream = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        Fake { stream, idle }
    }

    #[test]
    fn after_the_stop_the_idle_are_closed_and_the_busy_waited_for_until_they_are_idle() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let stop = Stop::with_grace(Duration::from_secs(60)).unwrap();
        let mut conns = Slab::new();
        let idle = conns.insert(fake(&listener, true));
        let busy = conns.insert(fake(&listener, false));
        let mut graceful = Graceful::new("test", &stop);
        assert_eq!(graceful.turn(&conns, |c| c), Turn::Serve);
        assert_eq!(graceful.fd().as_raw_fd(), stop.fd().as_raw_fd());
        assert_eq!(graceful.wait(None), None, "serving: no bound of its own");
        stop.stop();
        assert_eq!(graceful.turn(&conns, |c| c), Turn::Drain(vec![idle]));
        assert_eq!(graceful.fd().as_raw_fd(), stop.force_fd().as_raw_fd());
        let wait = graceful
            .wait(None)
            .expect("draining: the grace period bounds the wait");
        assert!(wait <= Duration::from_secs(60) && wait > Duration::from_secs(50));
        let short = Duration::from_millis(5);
        assert_eq!(graceful.wait(Some(short)), Some(short));
        conns.remove(idle);
        assert_eq!(graceful.turn(&conns, |c| c), Turn::Drain(vec![]));
        conns.get_mut(busy).unwrap().idle = true;
        assert_eq!(graceful.turn(&conns, |c| c), Turn::Over, "all idle: done");
    }

    #[test]
    fn the_grace_period_and_a_forced_stop_end_the_drain() {
        let over = Stop::with_grace(Duration::ZERO).unwrap();
        over.stop();
        assert!(!Graceful::new("test", &over).goes_on(1));
        let forced = Stop::with_grace(Duration::from_secs(60)).unwrap();
        forced.stop();
        let mut graceful = Graceful::new("test", &forced);
        assert!(graceful.goes_on(1));
        assert!(!graceful.goes_on(0), "nothing left: done");
        forced.force();
        assert!(!graceful.goes_on(1));
    }
}
