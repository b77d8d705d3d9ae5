//! Every mechanism of the chapter measured the same way: throughput and ping-pong latency
//! between a parent and a forked child, at 64 B, 4 KiB, 64 KiB and 1 MiB, with `memcpy` in one
//! process as the ceiling.
//!
//! - **Throughput**: the parent sends `n` messages of the size; the child receives them all and
//!   answers with one byte. Time from the first send to that byte (after a start handshake, so
//!   the fork is not timed).
//! - **Latency**: the parent sends a message, the child sends it back; the mean round trip over
//!   many.
//!
//! Each is run [`Plan::repeats`] times (a fresh child each time) and the median reported.
//!
//! Each mechanism is an [`Endpoint`] pair made before the fork: the child takes one end. Stream
//! mechanisms (pipe, FIFO, Unix stream, socketpair, TCP, the shm ring) move a message with
//! `write_all`/`read_exact`; message mechanisms (POSIX queue, Unix datagram) send it as one
//! message, and a size they cannot carry is reported as such, not measured.
//!
//! The ring is measured with both ways of waiting ([`WaitStrategy`]), and
//! [`idle_consumer_cpu`] shows what each costs while there is nothing to read.
//!
//! The numbers depend on the machine and its load: compare rows within one run. [`report`]
//! turns a run into the docs' tables and plot.

pub mod report;

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::{UnixDatagram, UnixListener, UnixStream};
use std::time::{Duration, Instant};

use multiprocess::spawn;
use nix::time::ClockId;
use nix::unistd::getpid;

use crate::fifo::{Fifo, open_reader, open_writer};
use crate::mqueue::{Limits, MessageQueue};
use crate::pipe::{pipe, set_nonblocking};
use crate::ring::{Ring, WaitStrategy};
use crate::unix_socket::SocketPath;

/// The message sizes measured.
pub const SIZES: [usize; 4] = [64, 4 << 10, 64 << 10, 1 << 20];

/// A way to move bytes between two processes (or, for `Memcpy`, within one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mechanism {
    /// `memcpy` in one process: the ceiling.
    Memcpy,
    /// The lock-free ring in shared memory ([`crate::ring`]), waiting by spinning and yielding.
    ShmRingSpin,
    /// The same ring, waiting on a process-shared futex.
    ShmRing,
    /// Two anonymous pipes.
    Pipe,
    /// Two FIFOs.
    Fifo,
    /// Two POSIX message queues.
    Mqueue,
    /// A Unix stream socket through `bind`/`connect`/`accept` on a path.
    UdsStream,
    /// A pair of Unix datagram sockets.
    UdsDatagram,
    /// `socketpair(AF_UNIX, SOCK_STREAM)`.
    Socketpair,
    /// TCP over loopback, `TCP_NODELAY`.
    Tcp,
}

impl Mechanism {
    /// All of them, in table order.
    pub const ALL: [Mechanism; 10] = [
        Mechanism::Memcpy,
        Mechanism::ShmRingSpin,
        Mechanism::ShmRing,
        Mechanism::Pipe,
        Mechanism::Fifo,
        Mechanism::Mqueue,
        Mechanism::UdsStream,
        Mechanism::UdsDatagram,
        Mechanism::Socketpair,
        Mechanism::Tcp,
    ];

    /// Its name in tables.
    pub fn name(self) -> &'static str {
        match self {
            Mechanism::Memcpy => "memcpy (1 process)",
            Mechanism::ShmRingSpin => "shm ring, spin+yield",
            Mechanism::ShmRing => "shm ring, futex",
            Mechanism::Pipe => "pipe",
            Mechanism::Fifo => "FIFO",
            Mechanism::Mqueue => "POSIX mq",
            Mechanism::UdsStream => "UDS stream",
            Mechanism::UdsDatagram => "UDS datagram",
            Mechanism::Socketpair => "socketpair",
            Mechanism::Tcp => "TCP loopback",
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

/// One mechanism at one size.
#[derive(Debug, Clone)]
pub struct Cell {
    /// What was measured.
    pub mechanism: Mechanism,
    /// The message size.
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

/// Measures `mechanism` at `size`.
pub fn measure(mechanism: Mechanism, size: usize, plan: Plan) -> io::Result<Cell> {
    let mut cell = Cell {
        mechanism,
        size,
        bytes_per_sec: None,
        round_trip: None,
        note: None,
    };
    if let Some(why) = cannot_carry(mechanism, size)? {
        cell.note = Some(why);
        return Ok(cell);
    }
    let messages = plan.messages(size);
    let round_trips = plan.round_trips(size);
    let mut throughputs = Vec::new();
    let mut round_trip_times = Vec::new();
    for _ in 0..plan.repeats.max(1) {
        if mechanism == Mechanism::Memcpy {
            let (throughput, round_trip) = memcpy(size, messages, round_trips, plan.memcpy_time);
            throughputs.push(throughput);
            round_trip_times.push(round_trip);
            continue;
        }
        let elapsed = between_processes(mechanism, size, messages, Mode::Throughput)?;
        throughputs.push((messages * size) as f64 / elapsed.as_secs_f64());
        let elapsed = between_processes(mechanism, size, round_trips, Mode::PingPong)?;
        round_trip_times.push(elapsed / round_trips as u32);
    }
    throughputs.sort_by(f64::total_cmp);
    round_trip_times.sort();
    cell.bytes_per_sec = Some(throughputs[throughputs.len() / 2]);
    cell.round_trip = Some(round_trip_times[round_trip_times.len() / 2]);
    Ok(cell)
}

/// Why `mechanism` cannot move one message of `size` bytes, if it cannot.
fn cannot_carry(mechanism: Mechanism, size: usize) -> io::Result<Option<String>> {
    Ok(match mechanism {
        Mechanism::Mqueue => {
            let limit = Limits::of_system()?.msgsize_max;
            (size > limit).then(|| format!("over msgsize_max ({limit} B)"))
        }
        Mechanism::UdsDatagram => {
            let (a, b) = UnixDatagram::pair()?;
            match a.send(&vec![0u8; size]) {
                Ok(_) => {
                    b.recv(&mut vec![0u8; size])?;
                    None
                }
                Err(e) if e.raw_os_error() == Some(libc::EMSGSIZE) => {
                    Some("over the socket buffer (EMSGSIZE)".to_string())
                }
                Err(e) => return Err(e),
            }
        }
        _ => None,
    })
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
    let (mut parent, mut child_end) = endpoints(mechanism, size)?;
    // Decided here, before pinning: the child inherits the parent's one CPU.
    let two_cpus = benchkit::usable_cpus() >= 2;
    let pinned = if two_cpus {
        Some(benchkit::pin_to(0)?)
    } else {
        None
    };
    let parent_pid = getpid();
    let child = spawn::fork_run(move || {
        if crate::die_with_parent(parent_pid).is_err() {
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

/// One side of a two-way channel: a message out, a message of a known size in.
trait Endpoint {
    fn send(&mut self, message: &[u8]) -> io::Result<()>;
    /// Fills `buf` with exactly one message of `buf.len()` bytes.
    fn recv(&mut self, buf: &mut [u8]) -> io::Result<()>;
}

/// A byte stream in each direction.
struct Stream<R, W> {
    input: R,
    output: W,
}

impl<R: Read, W: Write> Endpoint for Stream<R, W> {
    fn send(&mut self, message: &[u8]) -> io::Result<()> {
        self.output.write_all(message)
    }
    fn recv(&mut self, buf: &mut [u8]) -> io::Result<()> {
        self.input.read_exact(buf)
    }
}

struct Datagrams(UnixDatagram);

impl Endpoint for Datagrams {
    fn send(&mut self, message: &[u8]) -> io::Result<()> {
        let n = self.0.send(message)?;
        check_whole(n, message.len())
    }
    fn recv(&mut self, buf: &mut [u8]) -> io::Result<()> {
        let n = self.0.recv(buf)?;
        check_whole(n, buf.len())
    }
}

struct Queues {
    output: MessageQueue,
    input: MessageQueue,
    scratch: Vec<u8>,
}

impl Endpoint for Queues {
    fn send(&mut self, message: &[u8]) -> io::Result<()> {
        self.output.send(message, 0)
    }
    fn recv(&mut self, buf: &mut [u8]) -> io::Result<()> {
        // mq_receive wants a buffer of the queue's msgsize, even for a short message.
        let (n, _) = if buf.len() == self.scratch.len() {
            self.input.receive_into(buf)?
        } else {
            let got = self.input.receive_into(&mut self.scratch)?;
            buf.copy_from_slice(self.scratch.get(..buf.len()).unwrap_or(&[]));
            got
        };
        check_whole(n, buf.len())
    }
}

struct Rings {
    rings: std::rc::Rc<(Ring, Ring)>,
    /// Whether this side sends on the first ring.
    first: bool,
}

impl Endpoint for Rings {
    fn send(&mut self, message: &[u8]) -> io::Result<()> {
        let ring = if self.first {
            &self.rings.0
        } else {
            &self.rings.1
        };
        ring.write_all(message, PATIENCE)
    }
    fn recv(&mut self, buf: &mut [u8]) -> io::Result<()> {
        let ring = if self.first {
            &self.rings.1
        } else {
            &self.rings.0
        };
        ring.read_exact(buf, PATIENCE)
    }
}

/// How long a ring end waits for the other side before giving up.
const PATIENCE: Duration = Duration::from_secs(10);

fn check_whole(got: usize, wanted: usize) -> io::Result<()> {
    if got == wanted {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "a {got}-byte message, expected {wanted}"
        )))
    }
}

type Pair = (Box<dyn Endpoint>, Box<dyn Endpoint>);

fn streams<R1, W1, R2, W2>(a: (R1, W1), b: (R2, W2)) -> Pair
where
    R1: Read + 'static,
    W1: Write + 'static,
    R2: Read + 'static,
    W2: Write + 'static,
{
    (
        Box::new(Stream {
            input: a.0,
            output: a.1,
        }),
        Box::new(Stream {
            input: b.0,
            output: b.1,
        }),
    )
}

fn socket_streams<S: Read + Write + 'static>(
    a: S,
    b: S,
    clone: impl Fn(&S) -> io::Result<S>,
) -> io::Result<Pair> {
    let (a2, b2) = (clone(&a)?, clone(&b)?);
    Ok(streams((a, a2), (b, b2)))
}

/// The two ends of `mechanism`, made in the parent before the fork.
fn endpoints(mechanism: Mechanism, size: usize) -> io::Result<Pair> {
    match mechanism {
        Mechanism::Pipe => {
            let (down_read, down_write) = pipe()?;
            let (up_read, up_write) = pipe()?;
            Ok(streams((up_read, down_write), (down_read, up_write)))
        }
        Mechanism::Fifo => {
            let (down_read, down_write) = fifo_pair()?;
            let (up_read, up_write) = fifo_pair()?;
            Ok(streams((up_read, down_write), (down_read, up_write)))
        }
        Mechanism::Mqueue => {
            // The queues live only as long as the two processes hold them: the creator
            // handles are dropped (and the names unlinked) when the endpoints are.
            let down = MessageQueue::create(10, size)?;
            let up = MessageQueue::create(10, size)?;
            let down_peer = MessageQueue::open(down.name())?;
            let up_peer = MessageQueue::open(up.name())?;
            Ok((
                Box::new(Queues {
                    output: down,
                    input: up,
                    scratch: vec![0; size],
                }),
                Box::new(Queues {
                    output: up_peer,
                    input: down_peer,
                    scratch: vec![0; size],
                }),
            ))
        }
        Mechanism::UdsStream => {
            let path = SocketPath::new();
            let listener = UnixListener::bind(path.path())?;
            let client = UnixStream::connect(path.path())?;
            let (server, _) = listener.accept()?;
            socket_streams(client, server, UnixStream::try_clone)
        }
        Mechanism::Socketpair => {
            let (a, b) = UnixStream::pair()?;
            socket_streams(a, b, UnixStream::try_clone)
        }
        Mechanism::UdsDatagram => {
            let (a, b) = UnixDatagram::pair()?;
            Ok((Box::new(Datagrams(a)), Box::new(Datagrams(b))))
        }
        Mechanism::Tcp => {
            let listener = TcpListener::bind("127.0.0.1:0")?;
            let client = TcpStream::connect(listener.local_addr()?)?;
            let (server, _) = listener.accept()?;
            client.set_nodelay(true)?;
            server.set_nodelay(true)?;
            socket_streams(client, server, TcpStream::try_clone)
        }
        Mechanism::ShmRing | Mechanism::ShmRingSpin => {
            let strategy = if mechanism == Mechanism::ShmRing {
                WaitStrategy::Futex
            } else {
                WaitStrategy::SpinYield
            };
            let ring = || Ring::with_strategy(1 << 20, strategy);
            let rings = std::rc::Rc::new((ring()?, ring()?));
            Ok((
                Box::new(Rings {
                    rings: rings.clone(),
                    first: true,
                }),
                Box::new(Rings {
                    rings,
                    first: false,
                }),
            ))
        }
        Mechanism::Memcpy => Err(io::Error::other("memcpy runs in one process")),
    }
}

/// A FIFO opened at both ends, `(read, write)`; its path is gone when this returns.
fn fifo_pair() -> io::Result<(File, File)> {
    let fifo = Fifo::create()?;
    let read = open_reader(fifo.path())?; // non-blocking: succeeds with no writer
    let write = open_writer(fifo.path())?; // a reader exists, so no ENXIO
    set_nonblocking(&read, false)?;
    Ok((read, write))
}

/// The share of a CPU that a ring's consumer uses while its producer is silent for `window`:
/// it waits in `read_exact` with `window` of patience (and times out), and this thread's CPU
/// time is read around the wait.
pub fn idle_consumer_cpu(strategy: WaitStrategy, window: Duration) -> io::Result<f64> {
    let ring = Ring::with_strategy(64, strategy)?;
    let cpu_time = || ClockId::CLOCK_THREAD_CPUTIME_ID.now().map(Duration::from);
    let (cpu_before, start) = (cpu_time()?, Instant::now());
    let waited = ring.read_exact(&mut [0u8; 1], window);
    let (cpu, wall) = (cpu_time()? - cpu_before, start.elapsed());
    match waited {
        Err(e) if e.kind() == io::ErrorKind::TimedOut => {}
        Err(e) => return Err(e),
        Ok(()) => return Err(io::Error::other("a byte arrived that nobody sent")),
    }
    Ok(cpu.as_secs_f64() / wall.as_secs_f64())
}
