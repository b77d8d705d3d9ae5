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
//!               │     ▲                               │                (flush, then close)
//!               └─────┘ taken, empty, too long:       └─(queue over MAX_QUEUED, or a
//!                       say why, ask again               socket error)──▶ Dropped (close now)
//! ```
//!
//! The course's chat room, done right. The protocol is UTF-8 text, one message per `\n`-ended
//! line (`\r\n` from telnet-style clients is accepted). Names are one word of at most
//! [`MAX_NAME`] bytes, unique regardless of case; `server` is reserved. Each line a member
//! types goes to the *others* as `[name] text`; `/who` lists the room, `/quit` leaves.
//!
//! The logic is a plain state machine, [`Room`], that takes bytes in and queues bytes out and
//! never touches a socket, so its unit tests need no network; [`run`] is the `select` loop
//! around it. Two pitfalls of the naive version (the seed's) are designed out:
//!
//! - **A slow reader must not block the room.** A blocking `send` to a client that stopped
//!   reading would stall everyone. Here every client has an output queue, written only when its
//!   socket is writable; a client with more than [`MAX_QUEUED`] bytes waiting is disconnected
//!   and the others are told. Memory stays bounded, and the room keeps talking.
//! - **A line must not grow forever.** A client that sends more than [`MAX_LINE`] bytes without
//!   a newline is told its line is too long; the rest of that line, up to the next newline, is
//!   discarded, and the client stays connected.
//!
//! The server's stdin is read only when `select` says it is readable, one `read` per turn, and
//! is never switched to non-blocking mode: a terminal's `O_NONBLOCK` flag is shared with the
//! shell that started us, and would still be set after we exit. At end of input the server
//! stops watching stdin and keeps serving (unless [`Console::exit_on_eof`] asks it to stop).

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, ErrorKind, Read, Write};
use std::mem;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use netkit::accept::Acceptor;
use nix::errno::Errno;
use nix::sys::select::{FdSet, select};
use nix::sys::time::{TimeVal, TimeValLike};

use crate::select::{fits_in_fd_set, refuse_unwatchable};

/// The longest name, in bytes of UTF-8.
pub const MAX_NAME: usize = 32;
/// The longest line, in bytes, not counting its `\r\n` or `\n`.
pub const MAX_LINE: usize = 4096;
/// How many bytes may wait for one client before it is disconnected as too slow.
pub const MAX_QUEUED: usize = 64 * 1024;
/// How long the server, closing, keeps trying to deliver the goodbye.
const GOODBYE_GRACE: Duration = Duration::from_secs(2);

const ASK_NAME: &str = "* what is your name? (one word, at most 32 bytes)";
const CLOSING: &str = "* the server is closing. goodbye!";

/// A client, known by the order it arrived in (not by its fd, which the kernel reuses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClientId(u64);

/// Where a client is in its conversation with the room.
#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// Connected and asked for a name; hears nothing from the room yet.
    AskingName,
    /// In the room as `name`.
    Chatting { name: String },
    /// Said `/quit` or hung up: gets what is queued, then is closed. Nothing more is read.
    Leaving,
    /// Too slow or broken: closed at once, queued output discarded.
    Dropped,
}

#[derive(Debug)]
struct Client {
    state: State,
    /// Bytes received and not yet a whole line.
    input: LineBuffer,
    /// Bytes queued for the client and not yet written to its socket (at most [`MAX_QUEUED`]).
    output: Vec<u8>,
}

/// Why a name was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameProblem {
    /// Nothing but spaces.
    Empty,
    /// Over [`MAX_NAME`] bytes.
    TooLong,
    /// A space or control character inside, or a leading `/` (that is a command).
    NotOneWord,
    /// `server` (any case): the server's own messages are `[server] …`.
    Reserved,
    /// Someone in the room has it (names are compared ignoring case).
    Taken,
}

impl fmt::Display for NameProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NameProblem::Empty => "a name cannot be empty",
            NameProblem::TooLong => "that name is too long (at most 32 bytes)",
            NameProblem::NotOneWord => {
                "a name is one word: no spaces, no control characters, no leading '/'"
            }
            NameProblem::Reserved => "that name is reserved for the server",
            NameProblem::Taken => "that name is taken",
        })
    }
}

/// The chat room as a state machine: bytes in from clients, bytes queued out to them.
#[derive(Debug, Default)]
pub struct Room {
    /// Every connected client, in arrival order.
    clients: BTreeMap<ClientId, Client>,
    next_id: u64,
    /// What happened, for the server's own terminal.
    transcript: Vec<String>,
}

impl Room {
    /// An empty room.
    pub fn new() -> Room {
        Room::default()
    }

    /// A new connection: welcome it and ask for a name.
    pub fn join(&mut self) -> ClientId {
        let id = ClientId(self.next_id);
        self.next_id += 1;
        let here = self.names().len();
        let client = Client {
            state: State::AskingName,
            input: LineBuffer::default(),
            output: Vec::new(),
        };
        self.clients.insert(id, client);
        let people = if here == 1 { "person" } else { "people" };
        self.send(
            id,
            &format!("* welcome to the select(2) chat room: {here} {people} here"),
        );
        self.send(id, ASK_NAME);
        id
    }

    /// Bytes read from client `id`: each complete line is handled in turn.
    pub fn receive(&mut self, id: ClientId, bytes: &[u8]) {
        let Some(client) = self.clients.get_mut(&id) else {
            return;
        };
        for line in client.input.push(bytes) {
            self.handle(id, line);
        }
    }

    /// Client `id` sent end-of-file (it half-closed: "nothing more to say"): an unfinished last
    /// line counts, then it leaves with a goodbye, which it can still read.
    pub fn hang_up(&mut self, id: ClientId) {
        if let Some(line) = self.clients.get_mut(&id).and_then(|c| c.input.finish()) {
            self.handle(id, line);
        }
        let goodbye = match self.clients.get(&id).map(|c| &c.state) {
            Some(State::Chatting { name }) => format!("* bye, {name}!"),
            _ => "* bye!".to_string(),
        };
        self.leave(id, Some(&goodbye));
    }

    /// Client `id`'s connection failed (reset, broken pipe): it is gone without a goodbye.
    pub fn connection_lost(&mut self, id: ClientId) {
        if let Some(name) = self.set_state(id, State::Dropped) {
            self.announce(None, format!("* {name} left (connection lost)"));
        }
    }

    /// A line typed on the server's own terminal.
    pub fn server_says(&mut self, text: &str) {
        self.announce(None, format!("[server] {text}"));
    }

    /// The server is shutting down: tell everyone, then let them go.
    pub fn close(&mut self) {
        for client in self.clients.values_mut() {
            if client.state != State::Dropped {
                client.state = State::Leaving;
                // Even past MAX_QUEUED: it is the last thing this client is sent.
                client.output.extend_from_slice(CLOSING.as_bytes());
                client.output.push(b'\n');
            }
        }
    }

    /// True while the server should read from client `id`.
    pub fn wants_read(&self, id: ClientId) -> bool {
        self.clients
            .get(&id)
            .is_some_and(|c| matches!(c.state, State::AskingName | State::Chatting { .. }))
    }

    /// The bytes waiting to be written to client `id`.
    pub fn output(&self, id: ClientId) -> &[u8] {
        self.clients.get(&id).map_or(&[], |c| &c.output)
    }

    /// `n` bytes of client `id`'s output were written to its socket.
    pub fn written(&mut self, id: ClientId, n: usize) {
        if let Some(client) = self.clients.get_mut(&id) {
            client.output.drain(..n);
        }
    }

    /// Removes and returns the clients to close now: dropped ones, and leaving ones whose
    /// output is all written.
    pub fn take_finished(&mut self) -> Vec<ClientId> {
        let done: Vec<ClientId> = self
            .clients
            .iter()
            .filter(|(_, c)| {
                c.state == State::Dropped || (c.state == State::Leaving && c.output.is_empty())
            })
            .map(|(id, _)| *id)
            .collect();
        for id in &done {
            self.clients.remove(id);
        }
        done
    }

    /// What happened since the last call, one line per event, for the server's terminal.
    pub fn take_transcript(&mut self) -> Vec<String> {
        mem::take(&mut self.transcript)
    }

    /// The names of everyone in the room, in arrival order.
    pub fn names(&self) -> Vec<&str> {
        self.clients
            .values()
            .filter_map(|c| match &c.state {
                State::Chatting { name } => Some(name.as_str()),
                _ => None,
            })
            .collect()
    }

    fn handle(&mut self, id: ClientId, line: Line) {
        if !self.wants_read(id) {
            return; // leaving or dropped: the rest of its input is ignored
        }
        let text = match line {
            Line::Text(text) => text,
            Line::TooLong => return self.send(id, "! line too long (over 4096 bytes): discarded"),
            Line::NotUtf8 => return self.send(id, "! lines must be UTF-8 text: discarded"),
        };
        match self.clients.get(&id).map(|c| c.state.clone()) {
            Some(State::AskingName) => self.choose_name(id, text.trim()),
            Some(State::Chatting { name }) => self.chat(id, &name, &text),
            _ => {}
        }
    }

    fn choose_name(&mut self, id: ClientId, name: &str) {
        if name == "/quit" {
            return self.leave(id, None);
        }
        if let Err(problem) = self.check_name(name) {
            self.send(id, &format!("! {problem}: {name:?}"));
            return self.send(id, ASK_NAME);
        }
        self.set_state(
            id,
            State::Chatting {
                name: name.to_string(),
            },
        );
        self.send(
            id,
            &format!("* hello {name}! type a line to talk; /who lists who is here, /quit leaves"),
        );
        self.announce(Some(id), format!("* {name} joined"));
    }

    /// Whether `name` may be used: valid, not reserved, and not taken (ignoring case).
    fn check_name(&self, name: &str) -> Result<(), NameProblem> {
        // BEGIN SOLUTION: io-chat-register
        if name.is_empty() {
            return Err(NameProblem::Empty);
        }
        if name.len() > MAX_NAME {
            return Err(NameProblem::TooLong);
        }
        if name.starts_with('/') || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(NameProblem::NotOneWord);
        }
        let folded = name.to_lowercase();
        if folded == "server" {
            return Err(NameProblem::Reserved);
        }
        if self
            .names()
            .iter()
            .any(|taken| taken.to_lowercase() == folded)
        {
            return Err(NameProblem::Taken);
        }
        Ok(())
        // END SOLUTION
    }

    fn chat(&mut self, id: ClientId, name: &str, text: &str) {
        match text {
            "" => {}
            "/quit" => self.leave(id, Some(&format!("* bye, {name}!"))),
            "/who" => {
                let names = self.names();
                let reply = format!("* in the room ({}): {}", names.len(), names.join(", "));
                self.send(id, &reply);
            }
            command if command.starts_with('/') => {
                self.send(
                    id,
                    &format!("! unknown command {command:?}: try /who or /quit"),
                );
            }
            _ => self.announce(Some(id), format!("[{name}] {text}")),
        }
    }

    /// Client `id` leaves (after `goodbye`, if given); the room hears about it if it was in.
    fn leave(&mut self, id: ClientId, goodbye: Option<&str>) {
        if !self.wants_read(id) {
            return; // already leaving, or dropped
        }
        if let Some(goodbye) = goodbye {
            self.send(id, goodbye);
        }
        if let Some(name) = self.set_state(id, State::Leaving) {
            self.announce(None, format!("* {name} left"));
        }
    }

    /// Says `line` to the room (everyone but `from`) and shows it on the server's terminal.
    fn announce(&mut self, from: Option<ClientId>, line: String) {
        self.broadcast(from, &line);
        self.transcript.push(line);
    }

    /// Queues `line` for every member of the room except `from`; a member whose queue would
    /// go over [`MAX_QUEUED`] is dropped (and the others are told).
    fn broadcast(&mut self, from: Option<ClientId>, line: &str) {
        // BEGIN SOLUTION: io-chat-broadcast
        let recipients: Vec<ClientId> = self
            .clients
            .iter()
            .filter(|(id, c)| Some(**id) != from && matches!(c.state, State::Chatting { .. }))
            .map(|(id, _)| *id)
            .collect();
        let mut too_slow = Vec::new();
        for id in recipients {
            if self.queue(id, line).is_err() {
                too_slow.push(id);
            }
        }
        // Dropped after the loop, so everyone hears the line before hearing who was dropped.
        for id in too_slow {
            self.drop_slow(id);
        }
        // END SOLUTION
    }

    /// Queues a reply for client `id` alone, dropping it if its queue is full.
    fn send(&mut self, id: ClientId, line: &str) {
        if self.queue(id, line).is_err() {
            self.drop_slow(id);
        }
    }

    /// Appends `line` and a newline to client `id`'s output, unless that would exceed
    /// [`MAX_QUEUED`]. Nothing is queued for a client that is gone.
    fn queue(&mut self, id: ClientId, line: &str) -> Result<(), QueueFull> {
        let Some(client) = self.clients.get_mut(&id) else {
            return Ok(());
        };
        if client.state == State::Dropped {
            return Ok(());
        }
        if client.output.len() + line.len() + 1 > MAX_QUEUED {
            return Err(QueueFull);
        }
        client.output.extend_from_slice(line.as_bytes());
        client.output.push(b'\n');
        Ok(())
    }

    /// Drops a client that does not read what it is sent; the others are told.
    fn drop_slow(&mut self, id: ClientId) {
        if let Some(name) = self.set_state(id, State::Dropped) {
            let kib = MAX_QUEUED / 1024;
            self.announce(
                None,
                format!("* {name} was disconnected: not reading ({kib} KiB waiting)"),
            );
        }
    }

    /// Moves client `id` to `state`; returns the name it had if it was in the room.
    fn set_state(&mut self, id: ClientId, state: State) -> Option<String> {
        let client = self.clients.get_mut(&id)?;
        if state == State::Dropped {
            client.output.clear();
        }
        match mem::replace(&mut client.state, state) {
            State::Chatting { name } => Some(name),
            _ => None,
        }
    }
}

/// A client's output queue is at [`MAX_QUEUED`].
#[derive(Debug)]
struct QueueFull;

/// One line cut from a byte stream by [`LineBuffer`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// A line, without its `\n` or `\r\n`.
    Text(String),
    /// A line over [`MAX_LINE`] bytes; it is discarded up to its newline.
    TooLong,
    /// A line that is not UTF-8.
    NotUtf8,
}

/// Cuts a byte stream into lines of at most [`MAX_LINE`] bytes, holding at most that much.
#[derive(Debug, Default)]
pub struct LineBuffer {
    /// The start of a line whose newline has not arrived yet.
    partial: Vec<u8>,
    /// The current line was reported too long: drop bytes up to the next newline.
    discarding: bool,
}

impl LineBuffer {
    /// Adds `bytes`; returns the lines they complete.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Line> {
        let mut lines = Vec::new();
        let mut rest = bytes;
        while let Some(newline) = rest.iter().position(|&b| b == b'\n') {
            if mem::take(&mut self.discarding) {
                self.partial.clear(); // the end of the over-long line: drop it
            } else {
                self.partial.extend_from_slice(&rest[..newline]);
                lines.push(self.take_line());
            }
            rest = &rest[newline + 1..];
        }
        if !self.discarding {
            self.partial.extend_from_slice(rest);
            // + 1: a line of exactly MAX_LINE bytes may still be waiting for the \n of its \r\n.
            if self.partial.len() > MAX_LINE + 1 {
                self.partial.clear();
                self.discarding = true;
                lines.push(Line::TooLong);
            }
        }
        lines
    }

    /// At end of stream: the unfinished last line, if there is one.
    pub fn finish(&mut self) -> Option<Line> {
        if self.discarding || self.partial.is_empty() {
            return None;
        }
        Some(self.take_line())
    }

    fn take_line(&mut self) -> Line {
        let mut bytes = mem::take(&mut self.partial);
        if bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
        if bytes.len() > MAX_LINE {
            return Line::TooLong;
        }
        String::from_utf8(bytes).map_or(Line::NotUtf8, Line::Text)
    }
}

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

/// Prints a line on stdout; a closed stdout is not a reason to stop the room.
pub fn print_line(line: &str) {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "{line}").and_then(|()| out.flush());
}

/// Runs the chat room on `listener` until `stop` is set (or the console's input ends, if it
/// says so); then tells every client the server is closing.
pub fn run(listener: TcpListener, console: Console<'_>, stop: &AtomicBool) -> io::Result<()> {
    for fd in [listener.as_raw_fd(), console.input.as_raw_fd()] {
        if !fits_in_fd_set(fd) {
            let message = format!("select_chat: fd {fd} is not below FD_SETSIZE");
            return Err(io::Error::new(ErrorKind::InvalidInput, message));
        }
    }
    let mut acceptor = Acceptor::new(listener)?;
    let mut room = Room::new();
    let mut sockets: BTreeMap<ClientId, TcpStream> = BTreeMap::new();
    let mut input = Some(console.input); // None once it has ended
    let mut typed = LineBuffer::default();
    while !stop.load(Ordering::SeqCst) {
        // Rebuilt every turn from the clients' states: select overwrote last turn's sets.
        let mut want_read = FdSet::new();
        let mut want_write = FdSet::new();
        want_read.insert(acceptor.listener().as_fd());
        if let Some(input) = input {
            want_read.insert(input);
        }
        for (id, socket) in &sockets {
            if room.wants_read(*id) {
                want_read.insert(socket.as_fd());
            }
            if !room.output(*id).is_empty() {
                want_write.insert(socket.as_fd()); // wake us when a full socket has room again
            }
        }
        match select(None, &mut want_read, &mut want_write, None, None) {
            Ok(_) => {}
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        }
        if stop.load(Ordering::SeqCst) {
            break; // woken by Ctrl-C's connection: do not welcome it
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A room where `names` are already chatting, put there directly (not through
    /// registration, so these tests do not depend on it).
    fn room_with(names: &[&str]) -> (Room, Vec<ClientId>) {
        let mut room = Room::new();
        let ids = names
            .iter()
            .map(|name| {
                insert(
                    &mut room,
                    State::Chatting {
                        name: name.to_string(),
                    },
                )
            })
            .collect();
        (room, ids)
    }

    fn insert(room: &mut Room, state: State) -> ClientId {
        let id = ClientId(room.next_id);
        room.next_id += 1;
        let client = Client {
            state,
            input: LineBuffer::default(),
            output: Vec::new(),
        };
        room.clients.insert(id, client);
        id
    }

    /// The lines queued for `id` since the last call (they count as written).
    fn received(room: &mut Room, id: ClientId) -> Vec<String> {
        let text = String::from_utf8(room.output(id).to_vec()).unwrap();
        room.written(id, text.len());
        text.lines().map(String::from).collect()
    }

    fn text(line: &str) -> Line {
        Line::Text(line.to_string())
    }

    #[test]
    fn line_buffer_splits_lines_and_strips_cr() {
        let mut buffer = LineBuffer::default();
        assert_eq!(buffer.push(b"one\ntwo\r\nthr"), [text("one"), text("two")]);
        assert_eq!(buffer.push(b"ee\n\n"), [text("three"), text("")]);
        assert_eq!(buffer.finish(), None);
    }

    #[test]
    fn line_buffer_accepts_a_line_of_exactly_max_line_bytes() {
        let line = "x".repeat(MAX_LINE);
        let mut buffer = LineBuffer::default();
        assert_eq!(buffer.push(line.as_bytes()), []);
        assert_eq!(buffer.push(b"\r"), []);
        assert_eq!(buffer.push(b"\n"), [text(&line)]);
    }

    #[test]
    fn line_buffer_refuses_an_over_long_line_once_and_discards_to_its_newline() {
        let mut buffer = LineBuffer::default();
        assert_eq!(buffer.push(&[b'x'; MAX_LINE + 1]), []);
        assert_eq!(buffer.push(b"xx"), [Line::TooLong]);
        assert_eq!(
            buffer.push(&[b'y'; 3 * MAX_LINE]),
            [],
            "still discarding, nothing kept"
        );
        assert!(buffer.partial.is_empty());
        assert_eq!(buffer.push(b"yy\nnext\n"), [text("next")]);
        // A too-long line that arrives whole, newline included, is refused too.
        let mut whole = vec![b'z'; MAX_LINE + 1];
        whole.push(b'\n');
        assert_eq!(LineBuffer::default().push(&whole), [Line::TooLong]);
    }

    #[test]
    fn line_buffer_reports_non_utf8_and_returns_an_unfinished_last_line() {
        let mut buffer = LineBuffer::default();
        assert_eq!(buffer.push(b"\xff\xfe\nbye"), [Line::NotUtf8]);
        assert_eq!(buffer.finish(), Some(text("bye")));
        assert_eq!(buffer.finish(), None);
    }

    #[test]
    fn check_name_accepts_a_free_valid_name() {
        let (room, _) = room_with(&["alice"]);
        assert_eq!(room.check_name("bob"), Ok(()));
        assert_eq!(room.check_name("小明"), Ok(()));
        assert_eq!(room.check_name(&"n".repeat(MAX_NAME)), Ok(()));
    }

    #[test]
    fn check_name_rejects_empty_long_not_one_word_and_reserved_names() {
        let (room, _) = room_with(&[]);
        assert_eq!(room.check_name(""), Err(NameProblem::Empty));
        assert_eq!(
            room.check_name(&"n".repeat(MAX_NAME + 1)),
            Err(NameProblem::TooLong)
        );
        assert_eq!(room.check_name("two words"), Err(NameProblem::NotOneWord));
        assert_eq!(room.check_name("tab\there"), Err(NameProblem::NotOneWord));
        assert_eq!(room.check_name("bell\x07"), Err(NameProblem::NotOneWord));
        assert_eq!(room.check_name("/who"), Err(NameProblem::NotOneWord));
        assert_eq!(room.check_name("Server"), Err(NameProblem::Reserved));
    }

    #[test]
    fn check_name_rejects_a_taken_name_ignoring_case() {
        let (mut room, _) = room_with(&["alice"]);
        insert(&mut room, State::AskingName);
        assert_eq!(room.check_name("alice"), Err(NameProblem::Taken));
        assert_eq!(room.check_name("ALICE"), Err(NameProblem::Taken));
    }

    #[test]
    fn broadcast_reaches_everyone_in_the_room_but_the_sender() {
        let (mut room, ids) = room_with(&["alice", "bob", "carol"]);
        let newcomer = insert(&mut room, State::AskingName);
        room.broadcast(Some(ids[0]), "[alice] hi");
        assert_eq!(received(&mut room, ids[0]), [""; 0]);
        assert_eq!(received(&mut room, ids[1]), ["[alice] hi"]);
        assert_eq!(received(&mut room, ids[2]), ["[alice] hi"]);
        assert_eq!(
            received(&mut room, newcomer),
            [""; 0],
            "not in the room yet"
        );
        room.broadcast(None, "[server] to all");
        assert_eq!(received(&mut room, ids[0]), ["[server] to all"]);
    }

    #[test]
    fn broadcast_drops_a_member_whose_queue_is_full_and_tells_the_others() {
        let (mut room, ids) = room_with(&["alice", "bob", "carol"]);
        room.clients.get_mut(&ids[1]).unwrap().output = vec![b'.'; MAX_QUEUED - 5];
        room.broadcast(Some(ids[0]), "[alice] too much for bob");
        assert_eq!(
            room.output(ids[1]),
            b"",
            "a dropped client's queue is discarded"
        );
        assert_eq!(
            received(&mut room, ids[2]),
            [
                "[alice] too much for bob",
                "* bob was disconnected: not reading (64 KiB waiting)"
            ]
        );
        assert_eq!(
            received(&mut room, ids[0]),
            ["* bob was disconnected: not reading (64 KiB waiting)"]
        );
        assert_eq!(room.take_finished(), [ids[1]]);
        assert_eq!(room.names(), ["alice", "carol"]);
    }

    #[test]
    fn room_registers_a_name_after_refusing_bad_ones() {
        let mut room = Room::new();
        let alice = room.join();
        assert_eq!(
            received(&mut room, alice),
            [
                "* welcome to the select(2) chat room: 0 people here",
                ASK_NAME
            ]
        );
        room.receive(alice, b"alice\r\n");
        assert_eq!(
            received(&mut room, alice),
            ["* hello alice! type a line to talk; /who lists who is here, /quit leaves"]
        );
        let bob = room.join();
        received(&mut room, bob);
        room.receive(bob, b"Alice\n\nbo");
        assert_eq!(
            received(&mut room, bob),
            [
                "! that name is taken: \"Alice\"",
                ASK_NAME,
                "! a name cannot be empty: \"\"",
                ASK_NAME
            ]
        );
        room.receive(bob, b"b\n");
        assert_eq!(received(&mut room, alice), ["* bob joined"]);
        assert_eq!(room.names(), ["alice", "bob"]);
        assert_eq!(room.take_transcript(), ["* alice joined", "* bob joined"]);
    }

    #[test]
    fn room_who_quit_and_unknown_commands() {
        let mut room = Room::new();
        let (alice, bob) = (room.join(), room.join());
        room.receive(alice, b"alice\n");
        room.receive(bob, b"bob\n");
        received(&mut room, alice);
        received(&mut room, bob);
        room.receive(bob, b"/who\n/shout\nhello\n/quit\nnot sent\n");
        assert_eq!(
            received(&mut room, bob),
            [
                "* in the room (2): alice, bob",
                "! unknown command \"/shout\": try /who or /quit",
                "* bye, bob!"
            ]
        );
        assert_eq!(received(&mut room, alice), ["[bob] hello", "* bob left"]);
        assert_eq!(
            room.take_finished(),
            [bob],
            "leaving, with nothing left to write"
        );
        assert_eq!(room.names(), ["alice"]);
    }

    #[test]
    fn room_refuses_an_over_long_line_and_keeps_the_client() {
        let mut room = Room::new();
        let (alice, bob) = (room.join(), room.join());
        room.receive(alice, b"alice\n");
        room.receive(bob, b"bob\n");
        received(&mut room, alice);
        received(&mut room, bob);
        room.receive(alice, &[b'x'; 3 * MAX_LINE]);
        room.receive(alice, b"xxx\nstill here\n");
        assert_eq!(
            received(&mut room, alice),
            ["! line too long (over 4096 bytes): discarded"]
        );
        assert_eq!(received(&mut room, bob), ["[alice] still here"]);
    }

    #[test]
    fn room_hang_up_and_lost_connection_are_announced_and_close_tells_everyone() {
        let mut room = Room::new();
        let (alice, bob, carol) = (room.join(), room.join(), room.join());
        for (id, name) in [(alice, "alice\n"), (bob, "bob\n"), (carol, "carol\n")] {
            room.receive(id, name.as_bytes());
        }
        for id in [alice, bob, carol] {
            received(&mut room, id);
        }
        room.receive(bob, b"last words");
        room.hang_up(bob);
        assert_eq!(
            received(&mut room, bob),
            ["* bye, bob!"],
            "a half-closed client can still read"
        );
        room.connection_lost(carol);
        assert_eq!(
            received(&mut room, alice),
            [
                "[bob] last words",
                "* bob left",
                "* carol left (connection lost)"
            ]
        );
        assert_eq!(room.take_finished(), [bob, carol]);
        room.server_says("closing soon");
        room.close();
        assert_eq!(
            received(&mut room, alice),
            ["[server] closing soon", CLOSING]
        );
        assert_eq!(room.take_finished(), [alice]);
    }
}
