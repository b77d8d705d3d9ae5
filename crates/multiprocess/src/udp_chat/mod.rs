//! A UDP chat room: the course's 群聊聊天室, with the holes in its protocol closed.
//!
//! Every client sends datagrams to one server socket; the server relays them. The commands are
//! the course's, one per datagram:
//!
//! | client sends | meaning | server answers |
//! | --- | --- | --- |
//! | `L name` | join | `OK name` to the sender, `* name joined the room` to the others; or `ERR …` |
//! | `C name text` | say something | `name: text` to the others; or `ERR …` |
//! | `Q name` | leave | `BYE left` to the sender, `* name left the room` to the others |
//! | `H` | heartbeat: still here | nothing |
//!
//! and the server's operator can type an announcement, sent to all as `admin: text`.
//!
//! The course's server trusted the name inside each datagram, so anyone could speak or quit as
//! anyone else. Here the server keys members by **address** ([`room::Room`]): `C bob hi` from
//! alice's address is refused (`ERR you are alice, not bob`) and nothing is relayed. Because
//! UDP has no connection, a client that vanishes without `Q` would stay a member forever; so
//! clients send `H` every few seconds and the server drops a member not heard from within its
//! timeout (`* bob left the room (timed out)`). A datagram over [`MAX_DATAGRAM`] bytes, not
//! UTF-8, or not a command gets an `ERR` reply, never a crash.
//!
//! The client ([`client`]) is the course's two-process design: after joining it forks; the
//! child prints what arrives, the parent reads the keyboard and sends. They share the socket
//! (fork copies the descriptor). When the server says `BYE`, the child exits and the parent,
//! told by SIGCHLD, follows; when the user quits, the parent sends `Q` and reaps the child.

pub mod client;
pub mod room;
pub mod server;

/// The largest datagram the server accepts, in bytes.
pub const MAX_DATAGRAM: usize = 1024;

/// The longest name, in bytes.
pub const MAX_NAME: usize = 32;
