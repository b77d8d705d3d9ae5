//! One cell of the tables: a subject at a size, timed as throughput and as ping-pong.
//!
//! - **Throughput**: the parent sends `n` messages of the size; the child receives them all and
//!   answers with one byte. Time from the first send to that byte (after a start handshake, so
//!   the fork is not timed).
//! - **Latency**: the parent sends a message, the child sends it back; the mean round trip over
//!   many.
//!
//! Each is run [`Plan::repeats`] times (a fresh child each time) and the median reported.

use std::io;
use std::time::{Duration, Instant};

use benchkit::Spread;
use ipc::mechanisms::{Endpoint, Mechanism};
use multiprocess::spawn;
use nix::unistd::getpid;

/// What a row measures: a mechanism between two processes, or `memcpy` in one as the ceiling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// `memcpy` in one process: the ceiling.
    Memcpy,
    Ipc(Mechanism),
}

impl Subject {
    /// Every row, in table order: the ceiling first.
    pub fn all() -> impl Iterator<Item = Subject> {
        std::iter::once(Subject::Memcpy).chain(Mechanism::ALL.map(Subject::Ipc))
    }

    pub fn name(self) -> &'static str {
        match self {
            Subject::Memcpy => "memcpy (1 process)",
            Subject::Ipc(mechanism) => mechanism.name(),
        }
    }
}

/// How much to send per measurement.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Bytes per throughput run (the message count is this over the size, clamped).
    pub bytes: usize,
    /// Bytes per latency run (the round-trip count is this over the size, clamped).
    pub ping_bytes: usize,
    /// Fewest messages or round trips per run.
    pub min: usize,
    /// Most messages per throughput run.
    pub max_messages: usize,
    /// Most round trips per latency run.
    pub max_round_trips: usize,
    /// Runs per measurement; the median is reported (the machine is shared and noisy).
    pub repeats: usize,
    /// memcpy repeats its copies until at least this long has passed (it is too fast to time
    /// with the other mechanisms' counts).
    pub memcpy_time: Duration,
}

impl Plan {
    /// The plan of the table in the docs: a few tenths of a second per cell.
    pub const FULL: Plan = Plan {
        bytes: 1 << 30,
        ping_bytes: 256 << 20,
        min: 100,
        max_messages: 300_000,
        max_round_trips: 20_000,
        repeats: 5,
        memcpy_time: Duration::from_millis(200),
    };

    /// A few messages per cell: checks that everything runs, measures nothing.
    pub const QUICK: Plan = Plan {
        bytes: 256 << 10,
        ping_bytes: 64 << 10,
        min: 2,
        max_messages: 50,
        max_round_trips: 20,
        repeats: 1,
        memcpy_time: Duration::ZERO,
    };

    fn messages(&self, size: usize) -> usize {
        (self.bytes / size).clamp(self.min, self.max_messages)
    }

    fn round_trips(&self, size: usize) -> usize {
        (self.ping_bytes / size).clamp(self.min, self.max_round_trips)
    }
}

/// One subject at one size.
#[derive(Debug, Clone)]
pub struct Cell {
    pub subject: Subject,
    pub size: usize,
    /// Bytes per second, one way; `None` if the mechanism cannot carry the size.
    pub bytes_per_sec: Option<f64>,
    /// Mean round trip; `None` if it cannot carry the size.
    pub round_trip: Option<Duration>,
    /// Why a size was not measured.
    pub note: Option<String>,
}

impl Cell {
    /// Messages per second, one way.
    pub fn messages_per_sec(&self) -> Option<f64> {
        self.bytes_per_sec.map(|b| b / self.size as f64)
    }
}

/// Measures `subject` at `size`: the median of `plan.repeats` runs.
pub fn measure(subject: Subject, size: usize, plan: Plan) -> io::Result<Cell> {
    let mut cell = Cell {
        subject,
        size,
        bytes_per_sec: None,
        round_trip: None,
        note: None,
    };
    if let Subject::Ipc(mechanism) = subject
        && let Some(why) = mechanism.cannot_carry(size)?
    {
        cell.note = Some(why);
        return Ok(cell);
    }
    let messages = plan.messages(size);
    let round_trips = plan.round_trips(size);
    let mut throughputs = Vec::new();
    let mut round_trip_times = Vec::new();
    for _ in 0..plan.repeats.max(1) {
        let (throughput, round_trip) = match subject {
            Subject::Memcpy => memcpy(size, messages, round_trips, plan.memcpy_time),
            Subject::Ipc(mechanism) => {
                let elapsed = between_processes(mechanism, size, messages, Mode::Throughput)?;
                let throughput = (messages * size) as f64 / elapsed.as_secs_f64();
                let elapsed = between_processes(mechanism, size, round_trips, Mode::PingPong)?;
                (throughput, elapsed / round_trips as u32)
            }
        };
        throughputs.push(throughput);
        round_trip_times.push(round_trip);
    }
    cell.bytes_per_sec = Some(Spread::of(&throughputs).median);
    cell.round_trip = Some(Spread::of_durations(&round_trip_times).median_duration());
    Ok(cell)
}

/// `memcpy` of `size` bytes, in batches of `messages` until `at_least` has passed (bytes/s),
/// and two copies per "round trip".
fn memcpy(size: usize, messages: usize, round_trips: usize, at_least: Duration) -> (f64, Duration) {
    let source = vec![0x5au8; size];
    let mut target = vec![0x00u8; size];
    let mut back = vec![0x00u8; size];
    target.copy_from_slice(&source); // touch every page before timing
    back.copy_from_slice(&source);
    let (mut copies, start) = (0, Instant::now());
    while copies == 0 || start.elapsed() < at_least {
        for _ in 0..messages {
            target.copy_from_slice(std::hint::black_box(&source));
            std::hint::black_box(&mut target);
        }
        copies += messages;
    }
    let throughput = (copies * size) as f64 / start.elapsed().as_secs_f64();
    let (mut trips, start) = (0, Instant::now());
    while trips == 0 || start.elapsed() < at_least {
        for _ in 0..round_trips {
            target.copy_from_slice(std::hint::black_box(&source));
            back.copy_from_slice(std::hint::black_box(&target));
            std::hint::black_box(&mut back);
        }
        trips += round_trips;
    }
    (throughput, start.elapsed() / trips as u32)
}

/// What the parent and child do.
#[derive(Debug, Clone, Copy)]
enum Mode {
    Throughput,
    PingPong,
}

/// Runs one measurement with a forked child; returns the parent's timed span.
///
/// Parent and child are pinned to CPUs 0 and 1 (when there are two): where the scheduler puts
/// them changes the numbers more than most mechanisms differ — on one CPU a writer runs until
/// the pipe is full, on two every message may cost a wake-up — so the table fixes the
/// placement every mechanism is measured with.
fn between_processes(
    mechanism: Mechanism,
    size: usize,
    count: usize,
    mode: Mode,
) -> io::Result<Duration> {
    let (mut parent, mut child_end) = mechanism.endpoints(size)?;
    // Decided here, before pinning: the child inherits the parent's one CPU.
    let two_cpus = benchkit::usable_cpus() >= 2;
    let pinned = if two_cpus {
        Some(benchkit::pin_to(0)?)
    } else {
        None
    };
    let parent_pid = getpid();
    let child = spawn::fork_run(move || {
        if ipc::die_with_parent(parent_pid).is_err() {
            return 1;
        }
        let _pinned = match two_cpus.then(|| benchkit::pin_to(1)).transpose() {
            Ok(pinned) => pinned,
            Err(_) => return 1,
        };
        match child_side(child_end.as_mut(), size, count, mode) {
            Ok(()) => 0,
            Err(_) => 1,
        }
    })?;
    let timed = parent_side(parent.as_mut(), size, count, mode);
    let outcome = spawn::wait_for(child)?;
    drop(pinned);
    if !outcome.success() {
        return Err(io::Error::other(format!(
            "{} at {size} B: the child {outcome}",
            mechanism.name()
        )));
    }
    timed
}

fn parent_side(
    end: &mut dyn Endpoint,
    size: usize,
    count: usize,
    mode: Mode,
) -> io::Result<Duration> {
    let mut one = [0u8; 1];
    end.recv(&mut one)?; // the child is running
    let mut message = vec![0x5au8; size];
    let start = Instant::now();
    match mode {
        Mode::Throughput => {
            for _ in 0..count {
                end.send(&message)?;
            }
            end.recv(&mut one)?;
        }
        Mode::PingPong => {
            for _ in 0..count {
                end.send(&message)?;
                end.recv(&mut message)?;
            }
        }
    }
    Ok(start.elapsed())
}

fn child_side(end: &mut dyn Endpoint, size: usize, count: usize, mode: Mode) -> io::Result<()> {
    end.send(b"r")?;
    let mut message = vec![0u8; size];
    for _ in 0..count {
        end.recv(&mut message)?;
        if let Mode::PingPong = mode {
            end.send(&message)?;
        }
    }
    if let Mode::Throughput = mode {
        end.send(b"d")?;
    }
    Ok(())
}
