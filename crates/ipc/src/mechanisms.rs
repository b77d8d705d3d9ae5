//! Every mechanism of the chapter behind the same two calls: send one message, receive one
//! message of a known size — the shape a program sees once the setup is done.
//!
//! Each [`Mechanism`] makes an [`Endpoint`] pair before a `fork` ([`Mechanism::endpoints`]);
//! the child keeps one end, the parent the other. What differs is how a message crosses:
//!
//! - **Streams** (pipe, FIFO, Unix stream, socketpair, TCP, the shared-memory ring) carry
//!   bytes, not messages: a message is `write_all` on one side and `read_exact` of its size on
//!   the other, because one `read` may return part of it, or parts of two.
//! - **Message mechanisms** (POSIX queue, Unix datagram) keep boundaries — one `send` is one
//!   `recv` — and pay with a limit: a queue takes at most `msgsize_max` bytes a message, a
//!   datagram must fit the socket buffer. [`Mechanism::cannot_carry`] says when a size is over
//!   it; a truncated message is an error, never a short one passed on.
//!
//! The chapter's bench (`cargo bench -p ipc --bench ipc_bench`) times these endpoints between
//! a parent and a forked child; the tests move every size through every one of them.

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::{UnixDatagram, UnixListener, UnixStream};
use std::rc::Rc;
use std::time::Duration;

use crate::fifo::{Fifo, open_reader, open_writer};
use crate::mqueue::{Limits, MessageQueue};
use crate::pipe::{pipe, set_nonblocking};
use crate::ring::{Ring, WaitStrategy};
use crate::unix_socket::SocketPath;

/// A way to move messages between two processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mechanism {
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
    pub const ALL: [Mechanism; 9] = [
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

    /// Why this mechanism cannot move one message of `size` bytes, if it cannot.
    pub fn cannot_carry(self, size: usize) -> io::Result<Option<String>> {
        Ok(match self {
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

    /// The two ends, for messages of `size` bytes, made before the fork: the parent keeps one,
    /// the child the other.
    pub fn endpoints(self, size: usize) -> io::Result<Pair> {
        match self {
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
            Mechanism::Mqueue => queues(size),
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
            Mechanism::ShmRingSpin => rings(WaitStrategy::SpinYield),
            Mechanism::ShmRing => rings(WaitStrategy::Futex),
        }
    }
}

/// One side of a two-way channel: a message out, a message of a known size in.
pub trait Endpoint {
    /// Sends `message` whole.
    fn send(&mut self, message: &[u8]) -> io::Result<()>;
    /// Fills `buf` with exactly one message of `buf.len()` bytes.
    fn recv(&mut self, buf: &mut [u8]) -> io::Result<()>;
}

/// The parent's end and the child's end.
pub type Pair = (Box<dyn Endpoint>, Box<dyn Endpoint>);
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
    rings: Rc<(Ring, Ring)>,
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

/// Two queues, one each way. They live only as long as the two processes hold them: the
/// creator handles are dropped (and the names unlinked) when the endpoints are.
fn queues(size: usize) -> io::Result<Pair> {
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

/// Two rings of 1 MiB, one each way.
fn rings(strategy: WaitStrategy) -> io::Result<Pair> {
    let ring = || Ring::with_strategy(1 << 20, strategy);
    let rings = Rc::new((ring()?, ring()?));
    Ok((
        Box::new(Rings {
            rings: Rc::clone(&rings),
            first: true,
        }),
        Box::new(Rings {
            rings,
            first: false,
        }),
    ))
}

/// A FIFO opened at both ends, `(read, write)`; its path is gone when this returns.
fn fifo_pair() -> io::Result<(File, File)> {
    let fifo = Fifo::create()?;
    let read = open_reader(fifo.path())?; // non-blocking: succeeds with no writer
    let write = open_writer(fifo.path())?; // a reader exists, so no ENXIO
    set_nonblocking(&read, false)?;
    Ok((read, write))
}
