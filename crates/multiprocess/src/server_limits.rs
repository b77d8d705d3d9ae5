//! The bounds of a server made of processes, and the command-line flags that set them.
//!
//! A process per client is the most expensive way to serve one: a fork, a page table, a slot in
//! the process table. Without a bound, a thousand clients make a thousand processes, and the
//! next `fork` to fail may be the shell the operator needs to stop it. So:
//!
//! - **Fork per connection: [`Limits::max_children`].** At the bound, the parent still accepts
//!   and turns the client away at once with [`Limits::busy`] and a log line
//!   ([`netkit::shed`]). It could instead stop accepting and let the kernel's listen backlog
//!   queue clients until a child exits — but a client in the backlog is connected and
//!   unanswered, cannot tell a busy server from a dead one, and once the backlog is full its
//!   SYNs are dropped and `connect` hangs for a minute of retries. A prompt refusal costs one
//!   `accept` and one short write, far less than the `fork` it saves, and tells the client to
//!   come back.
//! - **Prefork: its `workers` are the bound**, and client `workers + 1` waits in the backlog
//!   until a worker is free — that is what prefork is (Apache's model).
//! - **Both: [`Limits::idle_timeout`].** A client that connects and then sends nothing (or stops
//!   reading what it is sent) holds its child or worker for as long as it likes: N such clients
//!   starve a prefork server of N workers, and use up a fork server's `max_children`. A timeout
//!   on every read and write (`SO_RCVTIMEO`/`SO_SNDTIMEO`) frees the process, with a log line.
//!   A timeout, and not a worker that serves several connections at once: the one-client,
//!   plain-blocking worker is the lesson of the model, and a worker that multiplexes is an event
//!   loop (the io-models chapter) in a process.

use std::io;
use std::net::TcpStream;
use std::time::Duration;

use netkit::echo::echo_blocking;
use netkit::lines::{serve_blocking, uppercase};
use netkit::shed::BUSY;

/// The fork server's bound on children when none is given: room for a class of students (and
/// for the echo suite's 100 clients at once), well under any process limit.
pub const DEFAULT_MAX_CHILDREN: usize = 128;

/// How long a client may stay silent before its process lets it go, when not given.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// The bounds of a server made of processes, and what a client over them is told.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Fork per connection: children at once; the next client is turned away. (Prefork's
    /// bound is its number of workers.)
    pub max_children: usize,
    /// A client that sends (or reads) nothing for this long is closed, freeing its child or
    /// worker; `None`: never.
    pub idle_timeout: Option<Duration>,
    /// Written to a client turned away: [`BUSY`] for a line protocol, the protocol's own
    /// refusal otherwise (HTTP's `503`).
    pub busy: &'static [u8],
    /// Prefork: at a stop, let each worker finish what is in flight (within the stop's grace
    /// period; [`crate::prefork_stop`]) instead of ending every worker at once. Right for
    /// HTTP; not for echo, whose client decides when a conversation ends.
    pub graceful: bool,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_children: DEFAULT_MAX_CHILDREN,
            idle_timeout: Some(DEFAULT_IDLE_TIMEOUT),
            busy: BUSY,
            graceful: false,
        }
    }
}

/// The flags the process servers' examples share: the idle timeout, and the protocol.
#[derive(Debug, Clone, clap::Args)]
pub struct LimitArgs {
    /// Seconds a client may send (or read) nothing before it is closed; 0: never.
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_IDLE_TIMEOUT.as_secs_f64(), value_parser = labkit::args::seconds)]
    pub idle_timeout: f64,
    /// Answer each line in upper case instead of echoing (the same server, another handler).
    #[arg(long)]
    pub uppercase: bool,
}

impl LimitArgs {
    /// These flags over the default limits.
    pub fn limits(&self) -> Limits {
        Limits {
            idle_timeout: (self.idle_timeout > 0.0)
                .then(|| Duration::from_secs_f64(self.idle_timeout)),
            ..Limits::default()
        }
    }

    /// The handler `--uppercase` asks for: the line-uppercasing protocol, or echo.
    pub fn handler(&self) -> fn(&mut TcpStream) -> io::Result<()> {
        if self.uppercase {
            |stream| serve_blocking(stream, uppercase)
        } else {
            echo_blocking
        }
    }
}

/// Says on stderr (so `listening on` stays the first line of stdout) how to see the server's
/// children.
pub fn show_pid() {
    let pid = std::process::id();
    eprintln!("server pid {pid}: see its children with `ps -o pid,stat,cmd --ppid {pid}`");
}
