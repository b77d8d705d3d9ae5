//! The chat room's state machine: members keyed by address, and the replies each datagram earns.
//!
//! [`Room::handle`] takes one datagram and returns the datagrams to send; no sockets, so every
//! rule is unit-tested. The server loop ([`super::server`]) only moves bytes.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::{MAX_DATAGRAM, MAX_NAME};

/// Datagrams to send: (to whom, what).
pub type Outgoing = Vec<(SocketAddr, String)>;

/// One member of the room.
#[derive(Debug, Clone)]
struct Member {
    name: String,
    /// When the last datagram from this member arrived; a member silent for longer than the
    /// room's timeout is dropped by [`Room::expire`].
    last_heard: Instant,
}

/// The room: who is in it, by address.
#[derive(Debug)]
pub struct Room {
    members: HashMap<SocketAddr, Member>,
    timeout: Duration,
}

impl Room {
    /// An empty room that drops members silent for `timeout`.
    pub fn new(timeout: Duration) -> Room {
        Room {
            members: HashMap::new(),
            timeout,
        }
    }

    /// The members' names, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.members.values().map(|m| m.name.clone()).collect();
        names.sort();
        names
    }

    /// What one datagram from `from` causes. `datagram` may be longer than [`MAX_DATAGRAM`]
    /// (the server reads one byte more to notice).
    pub fn handle(&mut self, from: SocketAddr, datagram: &[u8], now: Instant) -> Outgoing {
        if datagram.is_empty() {
            return Vec::new(); // a wake-up, not a message
        }
        if datagram.len() > MAX_DATAGRAM {
            return error(from, &format!("datagram over {MAX_DATAGRAM} bytes"));
        }
        let Ok(text) = std::str::from_utf8(datagram) else {
            return error(from, "not UTF-8 text");
        };
        let text = text.trim_end_matches(['\r', '\n']);
        let (command, rest) = text.split_once(' ').unwrap_or((text, ""));
        // BEGIN SOLUTION: mp-chat-dispatch
        if let Some(member) = self.members.get_mut(&from) {
            member.last_heard = now;
        }
        match command {
            "L" => self.join(from, rest.trim(), now),
            "C" => {
                let (name, message) = rest.split_once(' ').unwrap_or((rest, ""));
                match self.speaker(from, name) {
                    Err(refusal) => refusal,
                    Ok(_) if message.trim().is_empty() => error(from, "empty message"),
                    // A newline or an escape code would let a member forge lines that look
                    // like someone else's, or recolour other members' terminals.
                    Ok(_) if message.chars().any(char::is_control) => error(
                        from,
                        "a message is one line of text, without control characters",
                    ),
                    Ok(me) => self.to_others(from, &format!("{me}: {message}")),
                }
            }
            "Q" => match self.speaker(from, rest.trim()) {
                Err(refusal) => refusal,
                Ok(me) => {
                    self.members.remove(&from);
                    let mut out = vec![(from, "BYE left".to_string())];
                    out.extend(self.to_everyone(&format!("* {me} left the room")));
                    out
                }
            },
            "H" if self.members.contains_key(&from) => Vec::new(),
            "H" => error(from, "join first: L <name>"),
            _ => error(
                from,
                "unknown command: expected L name, C name text, Q name or H",
            ),
        }
        // END SOLUTION
    }

    /// An announcement from the server's operator, to everyone.
    pub fn announce(&self, text: &str) -> Outgoing {
        self.to_everyone(&format!("admin: {text}"))
    }

    /// Drops every member not heard from within the timeout; returns the notices.
    pub fn expire(&mut self, now: Instant) -> Outgoing {
        let silent: Vec<SocketAddr> = self
            .members
            .iter()
            .filter(|(_, m)| now.duration_since(m.last_heard) >= self.timeout)
            .map(|(addr, _)| *addr)
            .collect();
        let mut out = Vec::new();
        for addr in silent {
            let gone = self.members.remove(&addr).expect("listed above");
            out.push((addr, "BYE timed out".to_string()));
            out.extend(self.to_everyone(&format!("* {} left the room (timed out)", gone.name)));
        }
        out
    }

    /// When the next member would time out, if anyone is in the room.
    pub fn next_expiry(&self) -> Option<Instant> {
        self.members
            .values()
            .map(|m| m.last_heard + self.timeout)
            .min()
    }

    /// The server is stopping: `BYE` to everyone, and the room is empty.
    pub fn close(&mut self) -> Outgoing {
        let out = self
            .members
            .keys()
            .map(|&addr| (addr, "BYE server shutting down".to_string()))
            .collect();
        self.members.clear();
        out
    }

    fn join(&mut self, from: SocketAddr, name: &str, now: Instant) -> Outgoing {
        if let Some(me) = self.members.get(&from) {
            return error(from, &format!("already in the room as {}", me.name));
        }
        if let Err(problem) = check_name(name) {
            return error(from, problem);
        }
        if self
            .members
            .values()
            .any(|m| m.name.eq_ignore_ascii_case(name))
        {
            return error(from, &format!("the name {name} is taken"));
        }
        let mut out = self.to_everyone(&format!("* {name} joined the room"));
        self.members.insert(
            from,
            Member {
                name: name.to_string(),
                last_heard: now,
            },
        );
        out.push((from, format!("OK {name}")));
        out
    }

    /// The member at `from`, if `claimed` is their name; otherwise the refusal to send back.
    fn speaker(&self, from: SocketAddr, claimed: &str) -> Result<String, Outgoing> {
        match self.members.get(&from) {
            None => Err(error(from, "join first: L <name>")),
            Some(me) if me.name != claimed => {
                Err(error(from, &format!("you are {}, not {claimed}", me.name)))
            }
            Some(me) => Ok(me.name.clone()),
        }
    }

    fn to_others(&self, from: SocketAddr, text: &str) -> Outgoing {
        self.members
            .keys()
            .filter(|&&addr| addr != from)
            .map(|&addr| (addr, text.to_string()))
            .collect()
    }

    fn to_everyone(&self, text: &str) -> Outgoing {
        self.members
            .keys()
            .map(|&addr| (addr, text.to_string()))
            .collect()
    }
}

/// A name is one word of printable characters, at most [`MAX_NAME`] bytes, and not "admin".
pub fn check_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        Err("a name is needed: L <name>")
    } else if name.len() > MAX_NAME {
        Err("the name is over 32 bytes")
    } else if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Err("a name is one word, without spaces or control characters")
    } else if name.eq_ignore_ascii_case("admin") {
        Err("the name admin is reserved")
    } else {
        Ok(())
    }
}

fn error(to: SocketAddr, reason: &str) -> Outgoing {
    vec![(to, format!("ERR {reason}"))]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    fn sorted(mut out: Outgoing) -> Outgoing {
        out.sort();
        out
    }

    fn room_of_two(now: Instant) -> Room {
        let mut room = Room::new(Duration::from_secs(10));
        room.handle(addr(1), b"L alice", now);
        room.handle(addr(2), b"L bob", now);
        room
    }

    #[test]
    fn joining_is_announced_to_the_others_and_acknowledged() {
        let now = Instant::now();
        let mut room = Room::new(Duration::from_secs(10));
        assert_eq!(
            room.handle(addr(1), b"L alice", now),
            [(addr(1), "OK alice".into())]
        );
        assert_eq!(
            sorted(room.handle(addr(2), b"L bob\n", now)),
            [
                (addr(1), "* bob joined the room".into()),
                (addr(2), "OK bob".into())
            ]
        );
        assert_eq!(room.names(), ["alice", "bob"]);
    }

    #[test]
    fn names_are_unique_ignoring_case_and_checked() {
        let now = Instant::now();
        let mut room = room_of_two(now);
        assert_eq!(
            room.handle(addr(3), b"L ALICE", now),
            [(addr(3), "ERR the name ALICE is taken".into())]
        );
        assert_eq!(
            room.handle(addr(1), b"L carol", now),
            [(addr(1), "ERR already in the room as alice".into())]
        );
        for bad in [
            &b"L"[..],
            b"L admin",
            b"L a\x07b",
            b"L 0123456789012345678901234567890123",
        ] {
            let out = room.handle(addr(3), bad, now);
            assert!(out[0].1.starts_with("ERR "), "{bad:?} gave {out:?}");
        }
        assert_eq!(room.names(), ["alice", "bob"]);
    }

    #[test]
    fn messages_go_to_everyone_else() {
        let now = Instant::now();
        let mut room = room_of_two(now);
        room.handle(addr(3), b"L carol", now);
        assert_eq!(
            sorted(room.handle(addr(1), b"C alice hello there", now)),
            [
                (addr(2), "alice: hello there".into()),
                (addr(3), "alice: hello there".into())
            ]
        );
        assert_eq!(
            room.handle(addr(1), b"C alice   ", now),
            [(addr(1), "ERR empty message".into())]
        );
        let forged = room.handle(addr(1), b"C alice hi\nbob: send me your password", now);
        assert_eq!(
            forged,
            [(
                addr(1),
                "ERR a message is one line of text, without control characters".into()
            )]
        );
        assert!(
            room.handle(addr(1), b"C alice \x1b[31mred", now)[0]
                .1
                .starts_with("ERR ")
        );
    }

    #[test]
    fn nobody_speaks_or_quits_as_someone_else() {
        let now = Instant::now();
        let mut room = room_of_two(now);
        assert_eq!(
            room.handle(addr(2), b"C alice I am alice", now),
            [(addr(2), "ERR you are bob, not alice".into())]
        );
        assert_eq!(
            room.handle(addr(2), b"Q alice", now),
            [(addr(2), "ERR you are bob, not alice".into())]
        );
        assert_eq!(
            room.handle(addr(9), b"C alice hi", now),
            [(addr(9), "ERR join first: L <name>".into())]
        );
        assert_eq!(room.names(), ["alice", "bob"]);
    }

    #[test]
    fn quitting_says_bye_and_tells_the_others() {
        let now = Instant::now();
        let mut room = room_of_two(now);
        assert_eq!(
            sorted(room.handle(addr(2), b"Q bob", now)),
            [
                (addr(1), "* bob left the room".into()),
                (addr(2), "BYE left".into())
            ]
        );
        assert_eq!(room.names(), ["alice"]);
    }

    #[test]
    fn bad_datagrams_get_an_error_reply() {
        let now = Instant::now();
        let mut room = room_of_two(now);
        let big = vec![b'C'; MAX_DATAGRAM + 1];
        assert_eq!(
            room.handle(addr(1), &big, now),
            [(addr(1), "ERR datagram over 1024 bytes".into())]
        );
        assert_eq!(
            room.handle(addr(1), b"\xff\xfe", now),
            [(addr(1), "ERR not UTF-8 text".into())]
        );
        assert!(
            room.handle(addr(1), b"X what", now)[0]
                .1
                .starts_with("ERR unknown command")
        );
        assert!(room.handle(addr(1), b"", now).is_empty());
    }

    #[test]
    fn silent_members_time_out_and_heartbeats_keep_them() {
        let start = Instant::now();
        let mut room = room_of_two(start);
        let later = start + Duration::from_secs(6);
        assert!(room.handle(addr(1), b"H", later).is_empty());
        assert_eq!(room.next_expiry(), Some(start + Duration::from_secs(10)));
        let out = sorted(room.expire(start + Duration::from_secs(11)));
        assert_eq!(
            out,
            [
                (addr(1), "* bob left the room (timed out)".into()),
                (addr(2), "BYE timed out".into())
            ]
        );
        assert_eq!(room.names(), ["alice"]);
        assert_eq!(
            room.handle(addr(2), b"H", later),
            [(addr(2), "ERR join first: L <name>".into())]
        );
    }
}
