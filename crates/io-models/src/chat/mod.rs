//! The chat room behind `select_chat`: one thread, one `select(2)`, every client and the
//! server's own keyboard.
//!
//! ```text
//!   select(read = {listener, stdin, alice, bob, …}, write = {whoever has output waiting})
//!     listener readable → accept; the newcomer is asked for a name
//!     stdin readable    → "[server] text" to everyone in the room
//!     client readable   → read; cut into lines; each line moves that client's state machine
//!   then write what is queued to each client, close the ones that are done, and loop
//!
//!   connect ─▶ AskingName ──(free, valid name)──▶ Chatting{name} ──(/quit, EOF)──▶ Leaving
//!               │     ▲  │                            │                (flush, then close)
//!               └─────┘  └─(no name within the        └─(queue over MAX_QUEUED, or a
//!     taken, empty, too long: name timeout)──▶ Leaving   socket error)──▶ Dropped (close now)
//!     say why, ask again
//! ```
//!
//! The course's chat room, done right. The protocol is UTF-8 text, one message per `\n`-ended
//! line (`\r\n` from telnet-style clients is accepted). Names are one word of at most
//! [`MAX_NAME`] bytes, unique regardless of case; `server` is reserved. Each line a member
//! types goes to the *others* as `[name] text`; `/who` lists the room, `/quit` leaves.
//!
//! The logic is a plain state machine, [`Room`] (in `room.rs`), that takes bytes in and queues
//! bytes out and never touches a socket, so its unit tests need no network; [`LineBuffer`]
//! (`line.rs`) cuts bytes into bounded lines; [`run`] (this file) is the `select` loop around
//! them. Two pitfalls of the naive version (the Python course's) are designed out:
//!
//! - **A slow reader must not block the room.** A blocking `send` to a client that stopped
//!   reading would stall everyone. Here every client has an output queue, written only when its
//!   socket is writable; a client with more than [`MAX_QUEUED`] bytes waiting is disconnected
//!   and the others are told. Memory stays bounded, and the room keeps talking.
//! - **A connection must not hold a slot for ever.** `select` watches descriptors below
//!   `FD_SETSIZE` (1024) only, so about a thousand idle connections would lock everyone else
//!   out. A connection that has not chosen a name [`Limits::name_timeout`] after it arrived is
//!   told so and closed; `select`'s timeout is the earliest such deadline.
//! - **A line must not forge another.** A line holding a control character (a CR that moves the
//!   cursor back, an ESC that starts a terminal sequence) is refused, not relayed: otherwise
//!   `hi\r[server] the room is closing` shows on the others' terminals as the server speaking.
//! - **A line must not grow forever.** A client that sends more than [`MAX_LINE`] bytes without
//!   a newline is told its line is too long; the rest of that line, up to the next newline, is
//!   discarded, and the client stays connected.
//!
//! The server's stdin is read only when `select` says it is readable, one `read` per turn, and
//! is never switched to non-blocking mode: a terminal's `O_NONBLOCK` flag is shared with the
//! shell that started us, and would still be set after we exit. At end of input the server
//! stops watching stdin and keeps serving (unless [`Console::exit_on_eof`] asks it to stop).

mod line;
mod room;

use std::collections::BTreeMap;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::time::{Duration, Instant};

use netkit::Stop;
use netkit::accept::Acceptor;
use nix::errno::Errno;
use nix::sys::select::{FdSet, select};
use nix::sys::time::{TimeVal, TimeValLike};

pub use line::{Line, LineBuffer};
pub use room::{ClientId, NameProblem, Room};

use crate::select::{fits_in_fd_set, refuse_unwatchable, wait_ready};

/// The longest name, in bytes of UTF-8.
pub const MAX_NAME: usize = 32;
/// The longest line, in bytes, not counting its `\r\n` or `\n`.
pub const MAX_LINE: usize = 4096;
/// How many bytes may wait for one client before it is disconnected as too slow.
pub const MAX_QUEUED: usize = 64 * 1024;
/// How long a connection may take to choose a name before it is closed (`--name-timeout`).
pub const NAME_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the server, closing, keeps trying to deliver the goodbye.
const GOODBYE_GRACE: Duration = Duration::from_secs(2);

const ASK_NAME: &str = "* what is your name? (one word, at most 32 bytes)";
const CLOSING: &str = "* the server is closing. goodbye!";

/// The server's operator: where the lines they type come from, and where the room is shown.
#[derive(Debug, Clone, Copy)]
pub struct Console<'fd> {
    /// Usually stdin; a pipe in tests. Read once per turn when `select` says it is readable.
    pub input: BorrowedFd<'fd>,
    /// Shows what happens in the room (joins, lines, leaves): [`print_line`] in `select_chat`.
    pub show: fn(&str),
    /// At end of input, close the room and return (for scripts and tests) instead of just no
    /// longer watching the input.
    pub exit_on_eof: bool,
}

/// The room's bounds beyond the constants.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// A connection that has not chosen a name this long after it arrived is closed.
    pub name_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            name_timeout: NAME_TIMEOUT,
        }
    }
}

/// Prints a line on stdout; a closed stdout is not a reason to stop the room.
pub fn print_line(line: &str) {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "{line}").and_then(|()| out.flush());
}

/// Runs the chat room on `listener` until `stop` is requested (or the console's input ends, if it
/// says so); then tells every client the server is closing.
pub fn run(
    listener: TcpListener,
    console: Console<'_>,
    limits: Limits,
    stop: &Stop,
) -> io::Result<()> {
    check_watchable(&[
        listener.as_raw_fd(),
        console.input.as_raw_fd(),
        stop.fd().as_raw_fd(),
    ])?;
    let mut acceptor = Acceptor::new(listener)?;
    let mut room = Room::new();
    let mut sockets: BTreeMap<ClientId, TcpStream> = BTreeMap::new();
    let mut input = Some(console.input); // None once it has ended
    let mut typed = LineBuffer::default();
    while !stop.is_stopped() {
        let Some(want_read) = wait(&acceptor, stop, input, &sockets, &room, limits)? else {
            continue; // EINTR
        };
        if stop.is_stopped() {
            break;
        }
        room.close_unnamed(Instant::now(), limits.name_timeout);
        let readable: Vec<ClientId> = sockets
            .iter()
            .filter(|(_, socket)| want_read.contains(socket.as_fd()))
            .map(|(id, _)| *id)
            .collect();
        let typing = input.filter(|fd| want_read.contains(*fd));
        let arriving = want_read.contains(acceptor.listener().as_fd());

        if let Some(fd) = typing
            && read_console(fd, &mut typed, &mut room) == Input::Ended
        {
            if console.exit_on_eof {
                break;
            }
            (console.show)("(stdin closed: the room goes on; Ctrl-C closes it)");
            input = None;
        }
        for id in readable {
            read_client(&sockets[&id], id, &mut room);
        }
        if arriving {
            admit(&mut acceptor, &mut sockets, &mut room, &console)?;
        }
        for (id, socket) in &sockets {
            write_client(socket, *id, &mut room);
        }
        close_finished(&mut sockets, &mut room);
        room.take_transcript()
            .iter()
            .for_each(|line| (console.show)(line));
    }
    say_goodbye(sockets, room);
    Ok(())
}

/// One `select` over the listener, the stop, the console, every client that wants reading and every
/// client with output waiting, with the earliest name deadline as its timeout. Returns the
/// readable set (every client with output is written to anyway), or `None` if a signal
/// interrupted it.
/// Refuses to start with a descriptor `select` cannot watch.
fn check_watchable(fds: &[RawFd]) -> io::Result<()> {
    match fds.iter().find(|&&fd| !fits_in_fd_set(fd)) {
        Some(fd) => {
            let message = format!("select_chat: fd {fd} is not below FD_SETSIZE");
            Err(io::Error::new(ErrorKind::InvalidInput, message))
        }
        None => Ok(()),
    }
}

/// Accepts everyone waiting: a newcomer joins the room, or — over `select`'s ceiling — is told
/// so and turned away.
fn admit(
    acceptor: &mut Acceptor,
    sockets: &mut BTreeMap<ClientId, TcpStream>,
    room: &mut Room,
    console: &Console<'_>,
) -> io::Result<()> {
    acceptor.accept_all(|stream, peer| {
        if fits_in_fd_set(stream.as_raw_fd()) {
            (console.show)(&format!("(connection from {peer})"));
            sockets.insert(room.join(), stream);
        } else {
            eprintln!("select_chat: refused {peer}: no descriptor below 1024 left");
            refuse_unwatchable(stream);
        }
        Ok(())
    })?;
    Ok(())
}

fn wait<'fd>(
    acceptor: &'fd Acceptor,
    stop: &'fd Stop,
    input: Option<BorrowedFd<'fd>>,
    sockets: &'fd BTreeMap<ClientId, TcpStream>,
    room: &Room,
    limits: Limits,
) -> io::Result<Option<FdSet<'fd>>> {
    // Rebuilt every turn from the clients' states: select overwrote last turn's sets.
    let mut want_read = FdSet::new();
    let mut want_write = FdSet::new();
    want_read.insert(acceptor.listener().as_fd());
    want_read.insert(stop.fd()); // readable once a stop is requested
    if let Some(input) = input {
        want_read.insert(input);
    }
    for (id, socket) in sockets {
        if room.wants_read(*id) {
            want_read.insert(socket.as_fd());
        }
        if !room.output(*id).is_empty() {
            want_write.insert(socket.as_fd()); // wake us when a full socket has room again
        }
    }
    // Wake for the first name deadline too, not only for I/O: an idle newcomer sends nothing.
    let deadline = room.next_name_deadline(limits.name_timeout);
    let left = deadline.map(|at| at.saturating_duration_since(Instant::now()));
    let ready = wait_ready(&mut want_read, &mut want_write, left)?;
    Ok(ready.then_some(want_read))
}

/// Whether the operator's input is still open.
#[derive(Debug, PartialEq, Eq)]
enum Input {
    Open,
    Ended,
}

/// Reads what the operator typed; each line goes to the room as `[server] …`.
fn read_console(input: BorrowedFd<'_>, typed: &mut LineBuffer, room: &mut Room) -> Input {
    let mut buf = [0u8; 4096];
    let lines = match nix::unistd::read(input, &mut buf) {
        Ok(0) => return Input::Ended,
        Ok(n) => typed.push(&buf[..n]),
        Err(Errno::EINTR | Errno::EAGAIN) => return Input::Open,
        Err(e) => {
            eprintln!("select_chat: reading stdin: {e}");
            return Input::Ended;
        }
    };
    for line in lines {
        match line {
            Line::Text(text) if text.trim().is_empty() => {}
            Line::Text(text) => room.server_says(&text),
            other => eprintln!("select_chat: stdin line not sent: {other:?}"),
        }
    }
    Input::Open
}

/// One `read` from a readable client (level-triggered: anything left is reported next turn).
fn read_client(mut socket: &TcpStream, id: ClientId, room: &mut Room) {
    let mut buf = [0u8; 16 * 1024];
    match socket.read(&mut buf) {
        Ok(0) => room.hang_up(id),
        Ok(n) => room.receive(id, &buf[..n]),
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => {}
        Err(_) => room.connection_lost(id),
    }
}

/// Writes as much of the client's queued output as its socket takes now.
fn write_client(mut socket: &TcpStream, id: ClientId, room: &mut Room) {
    while !room.output(id).is_empty() {
        match socket.write(room.output(id)) {
            Ok(0) => return room.connection_lost(id),
            Ok(n) => room.written(id, n),
            Err(e) if e.kind() == ErrorKind::WouldBlock => return,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return room.connection_lost(id),
        }
    }
}

/// Closes the clients the room is done with (a FIN after what was written).
fn close_finished(sockets: &mut BTreeMap<ClientId, TcpStream>, room: &mut Room) {
    for id in room.take_finished() {
        if let Some(socket) = sockets.remove(&id) {
            let _ = socket.shutdown(Shutdown::Write);
        }
    }
}

/// Tells every client the server is closing and gives them [`GOODBYE_GRACE`] to receive it.
fn say_goodbye(mut sockets: BTreeMap<ClientId, TcpStream>, mut room: Room) {
    room.close();
    let deadline = Instant::now() + GOODBYE_GRACE;
    loop {
        for (id, socket) in &sockets {
            write_client(socket, *id, &mut room);
        }
        close_finished(&mut sockets, &mut room);
        let left = deadline.saturating_duration_since(Instant::now());
        if sockets.is_empty() || left.is_zero() {
            return;
        }
        let mut want_write = FdSet::new();
        for socket in sockets.values() {
            want_write.insert(socket.as_fd());
        }
        let mut timeout = TimeVal::milliseconds(left.as_millis() as i64 + 1);
        let _ = select(None, None, &mut want_write, None, &mut timeout);
    }
}
