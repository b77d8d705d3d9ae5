//! An FTP server (an RFC 959 subset, plus RFC 2428's EPSV/EPRT) with a thread per control
//! connection, confined to one directory, that real clients — `curl`, `lftp`, Python's
//! `ftplib`, a browser of old — can use.
//!
//! FTP uses two connections: a long-lived **control** connection carrying one command line and
//! one numbered reply at a time, and a fresh **data** connection per transfer (a listing, a
//! download, an upload). The control connection is a conversation with state — who is logged
//! in, the current directory, how the next data connection will be made — which makes a thread
//! per client the natural shape: each session is plain blocking code, top to bottom, and the
//! threads share nothing but the read-only [`Config`].
//!
//! Read in this order:
//!
//! | module | what it does | the pitfall |
//! | --- | --- | --- |
//! | [`line`] | reads command lines as bytes, skipping Telnet IAC sequences | a line that never ends; `0xFF` bytes before `ABOR` |
//! | [`path`] | opens every client path beneath the root with `openat2`, or refuses it (550) | `..`, symlinks out of the root, a symlink swapped in between a check and an open |
//! | [`session`] | the per-client state machine: login, directories, one reply per command | a bad command must be answered, never end the server |
//! | [`data`] | PASV/EPSV/PORT/EPRT and opening the data connection | a stranger connecting to the passive port; PORT bounce attacks |
//! | [`transfer`] | LIST/NLST and RETR, streaming | a FIFO that blocks the open |
//! | [`write`] | STOR, DELE, MKD, RMD: read-only unless allowed, `O_TMPFILE` uploads | replacing a read-only file; widening a private one; an upload cut short |
//! | [`list`] | the `ls -l` lines clients parse, with the real file types | following a link to list it |
//! | [`client`] | a small interactive client (list / get / put / quit) on the same protocol | multi-line replies |
//!
//! Commands: USER, PASS, SYST, FEAT, PWD, CWD, CDUP, TYPE (A, I), MODE S, STRU F, PASV, EPSV,
//! PORT and EPRT (back to the client only), LIST, NLST, RETR, STOR, DELE, MKD, RMD, RNFR, RNTO,
//! SIZE, NOOP, ABOR, QUIT.

pub mod client;
pub mod data;
pub mod line;
pub mod list;
pub mod path;
pub mod session;
pub mod transfer;
pub mod write;

use std::collections::HashMap;
use std::io;
use std::net::TcpListener;
use std::path::Path;

use crate::per_thread_server::{Limits, spawn_per_connection_limited};
use path::Root;

/// What every session reads: the root, who may log in, and who may change files.
#[derive(Debug, Clone)]
pub struct Config {
    pub root: Root,
    /// `None`: anonymous only (`anonymous` or `ftp`, any password). `Some`: these users and
    /// passwords only.
    pub users: Option<HashMap<String, String>>,
    /// Whether anonymous sessions may upload, delete and make or remove directories (off by
    /// default: anonymous sessions are read-only). Users from a users file always may.
    pub anonymous_uploads: bool,
}

impl Config {
    /// Serves `root` anonymously, read-only.
    pub fn anonymous(root: &Path) -> io::Result<Config> {
        Ok(Config {
            root: Root::new(root)?,
            users: None,
            anonymous_uploads: false,
        })
    }

    /// The same, with anonymous uploads (STOR, DELE, MKD, RMD) allowed.
    pub fn with_anonymous_uploads(self) -> Config {
        Config {
            anonymous_uploads: true,
            ..self
        }
    }

    /// Serves `root` to the users in `users_file` (`name:password` lines; `#` comments).
    pub fn with_users(root: &Path, users_file: &Path) -> io::Result<Config> {
        let text = std::fs::read_to_string(users_file).map_err(|e| {
            io::Error::new(e.kind(), format!("reading {}: {e}", users_file.display()))
        })?;
        Ok(Config {
            root: Root::new(root)?,
            users: Some(parse_users(&text).map_err(io::Error::other)?),
            anonymous_uploads: false,
        })
    }

    /// Whether a logged-in session may change files.
    pub fn may_write(&self) -> bool {
        self.users.is_some() || self.anonymous_uploads
    }

    /// One line saying what is served, to whom, and whether it can be changed.
    pub fn describe(&self) -> String {
        let who = match &self.users {
            None => "anonymous logins".to_string(),
            Some(users) => format!("{} users from the users file", users.len()),
        };
        let access = if self.users.is_some() {
            "uploads allowed"
        } else if self.anonymous_uploads {
            "anonymous uploads allowed"
        } else {
            "read-only"
        };
        format!("serving {} to {who}, {access}", self.root.dir().display())
    }

    /// Whether `name` may log in with `password`.
    pub fn accepts(&self, name: &str, password: &str) -> bool {
        match &self.users {
            None => name.eq_ignore_ascii_case("anonymous") || name.eq_ignore_ascii_case("ftp"),
            Some(users) => users.get(name).is_some_and(|p| p == password),
        }
    }
}

/// Parses `name:password` lines; blank lines and `#` comments are skipped.
pub fn parse_users(text: &str) -> Result<HashMap<String, String>, String> {
    let mut users = HashMap::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match line.split_once(':') {
            Some((name, password)) if !name.is_empty() && !name.contains(' ') => {
                users.insert(name.to_string(), password.to_string());
            }
            _ => {
                return Err(format!(
                    "users file line {}: expected name:password",
                    number + 1
                ));
            }
        }
    }
    Ok(users)
}

/// The reply to a client over the server's bound of sessions (RFC 959: 421, closing).
pub const TOO_MANY_SESSIONS: &[u8] = b"421 Too many sessions; try again later.\r\n";

/// Serves FTP on `listener` with a thread per control connection until `stop` is set.
pub fn run(listener: TcpListener, stop: &netkit::Stop, config: &Config) -> io::Result<()> {
    let limits = Limits {
        busy: TOO_MANY_SESSIONS,
        ..Limits::default()
    };
    spawn_per_connection_limited(listener, stop, "ftp", &limits, |stream, connections| {
        session::serve(stream, config, connections, stop)
    })
}
