//! The chat room as a state machine: bytes in from clients, bytes queued out to them. No
//! sockets here — [`super::run`] moves the bytes — so every rule of the room is unit-tested.

use std::collections::BTreeMap;
use std::fmt;
use std::mem;
use std::time::{Duration, Instant};

use super::{ASK_NAME, CLOSING, Line, LineBuffer, MAX_NAME, MAX_QUEUED};

/// The answer to a line holding a control character.
const CONTROL_REFUSED: &str =
    "! a line is text without control characters (CR, ESC, ...): discarded";

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
    /// When it connected: a client still [`State::AskingName`] a name timeout later is closed.
    arrived: Instant,
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
            arrived: Instant::now(),
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

    /// When the earliest client still without a name will have waited `timeout`.
    pub fn next_name_deadline(&self, timeout: Duration) -> Option<Instant> {
        self.clients
            .values()
            .filter(|c| c.state == State::AskingName)
            .map(|c| c.arrived + timeout)
            .min()
    }

    /// Closes (after a goodbye) every client that connected `timeout` or more before `now` and
    /// still has no name. Without this, idle connections that never choose a name would hold
    /// their descriptors — and `select` has only `FD_SETSIZE` of them — for ever.
    pub fn close_unnamed(&mut self, now: Instant, timeout: Duration) {
        let late: Vec<ClientId> = self
            .clients
            .iter()
            .filter(|(_, c)| c.state == State::AskingName && now >= c.arrived + timeout)
            .map(|(id, _)| *id)
            .collect();
        for id in late {
            self.leave(id, Some(&format!("! no name within {timeout:?}: goodbye")));
            self.transcript.push(format!(
                "(a connection chose no name within {timeout:?}: closed)"
            ));
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
            // A CR, an ESC or any other control character would let a member forge a line
            // that looks like someone else's (`hi\r[server] …` overwrites "[alice] hi" on a
            // terminal) or recolour and move the others' cursors: refused, not relayed.
            Some(State::Chatting { .. }) if text.chars().any(char::is_control) => {
                self.send(id, CONTROL_REFUSED);
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::MAX_LINE;

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

    /// A room `names` joined the way clients do (each sends its name first), their welcome
    /// lines read.
    fn joined(names: &[&str]) -> (Room, Vec<ClientId>) {
        let mut room = Room::new();
        let ids: Vec<ClientId> = names.iter().map(|_| room.join()).collect();
        for (&id, name) in ids.iter().zip(names) {
            room.receive(id, format!("{name}\n").as_bytes());
        }
        for &id in &ids {
            received(&mut room, id);
        }
        (room, ids)
    }

    fn insert(room: &mut Room, state: State) -> ClientId {
        let id = ClientId(room.next_id);
        room.next_id += 1;
        let client = Client {
            state,
            input: LineBuffer::default(),
            output: Vec::new(),
            arrived: Instant::now(),
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
        let (mut room, ids) = joined(&["alice", "bob"]);
        let (alice, bob) = (ids[0], ids[1]);
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
        let (mut room, ids) = joined(&["alice", "bob"]);
        let (alice, bob) = (ids[0], ids[1]);
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
        let (mut room, ids) = joined(&["alice", "bob", "carol"]);
        let (alice, bob, carol) = (ids[0], ids[1], ids[2]);
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

    #[test]
    fn room_refuses_lines_with_control_characters_and_relays_nothing() {
        let (mut room, ids) = room_with(&["alice", "bob"]);
        for forged in [&b"hi\r[server] the room is closing\n"[..], b"\x1b[31mred\n"] {
            room.receive(ids[0], forged);
            assert_eq!(received(&mut room, ids[0]), [CONTROL_REFUSED]);
        }
        room.receive(ids[0], b"plain\r\n");
        assert_eq!(received(&mut room, ids[1]), ["[alice] plain"]);
    }

    #[test]
    fn room_closes_a_client_without_a_name_after_the_timeout_and_keeps_members() {
        let timeout = Duration::from_secs(30);
        let mut room = Room::new();
        let (alice, idle) = (room.join(), room.join());
        room.receive(alice, b"alice\n");
        received(&mut room, alice);
        received(&mut room, idle);
        let deadline = room.next_name_deadline(timeout).expect("idle has no name");
        room.close_unnamed(deadline - Duration::from_millis(1), timeout);
        assert!(room.wants_read(idle), "not yet");
        room.close_unnamed(deadline, timeout);
        assert_eq!(received(&mut room, idle), ["! no name within 30s: goodbye"]);
        assert_eq!(room.take_finished(), [idle]);
        assert!(room.wants_read(alice), "a member is never timed out");
        assert_eq!(room.next_name_deadline(timeout), None);
    }
}
