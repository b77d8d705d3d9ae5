//! One control connection: login, then commands, one reply each, until QUIT or the end.
//!
//! The session is a small state machine — who is logged in, the current virtual directory,
//! the transfer type, and how the next data connection will be made — driven by one command
//! line at a time. Every command gets exactly one reply (a transfer two: `150` before, `226`
//! or an error after), and nothing a client sends ends the server: a bad line is answered and
//! the next one read.
//!
//! | reply | when |
//! | --- | --- |
//! | `502` | a command this server does not implement |
//! | `501` | a missing or malformed argument |
//! | `503` | the wrong sequence (PASS before USER, a transfer before PASV/EPSV/PORT/EPRT, RNTO without RNFR) |
//! | `530` | anything but USER/PASS/QUIT/NOOP/SYST/FEAT before logging in |
//! | `550` | a path that does not exist or is outside the root; a change in a read-only session |
//! | `553` | a new name that is not allowed (STOR, RNTO: over `NAME_MAX`, or the root) |
//! | `504` | a parameter refused: PORT/EPRT to another address or a privileged port |
//! | `500` | a line over the length limit |

use std::io::{self, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;

use netkit::Stop;
use nix::fcntl::OFlag;
use nix::sys::stat::{SFlag, fstat};

use super::Config;
use super::data::{DataPlan, IDLE_TIMEOUT};
use super::line::{Line, LineReader};
use super::path::{Denied, kind, normalize};
use crate::per_thread_server::Connections;

/// Login progress.
#[derive(Debug)]
enum Login {
    Start,
    /// USER was given; PASS must follow.
    Named(String),
    LoggedIn,
}

/// Whether to keep reading commands.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Flow {
    Continue,
    Quit,
}

/// The state of one client's session.
#[derive(Debug)]
pub struct Session<'a> {
    pub(super) config: &'a Config,
    pub(super) connections: &'a Arc<Connections>,
    /// The server's stop: data connection waits watch it (reads end by shutdown instead).
    pub(super) stop: &'a Stop,
    pub(super) control: TcpStream,
    pub(super) peer: SocketAddr,
    /// The current directory, as the client sees it (`/` is the root).
    pub(super) cwd: String,
    login: Login,
    /// How the next transfer's data connection will be made; taken by each transfer.
    pub(super) data: DataPlan,
    /// TYPE I (true) or TYPE A. Bytes are sent unchanged in both, as most servers do.
    binary: bool,
    /// Whether this session may change files (STOR, DELE, MKD, RMD, RNFR/RNTO); set at login.
    pub(super) writable: bool,
    /// The path an RNFR named, waiting for the RNTO that must come next.
    pub(super) rename_from: Option<String>,
}

/// Serves one control connection to its end.
pub fn serve(control: TcpStream, config: &Config, connections: &Arc<Connections>, stop: &Stop) {
    // A client that hangs up without QUIT is the client's business: not logged.
    crate::per_thread_server::report(
        "ftp: session ended",
        run(control, config, connections, stop),
    );
}

fn run(
    control: TcpStream,
    config: &Config,
    connections: &Arc<Connections>,
    stop: &Stop,
) -> io::Result<()> {
    // Replies are small and often come two at a time (150, then 226 once the data connection
    // is done): with Nagle's algorithm the second waits for the client's ACK of the first,
    // which the client delays by up to 40 ms — on every transfer.
    control.set_nodelay(true)?;
    control.set_read_timeout(Some(IDLE_TIMEOUT))?;
    control.set_write_timeout(Some(IDLE_TIMEOUT))?;
    let mut lines = LineReader::new(BufReader::new(control.try_clone()?));
    let mut session = Session {
        config,
        connections,
        stop,
        peer: control.peer_addr()?,
        control,
        cwd: "/".to_string(),
        login: Login::Start,
        data: DataPlan::None,
        binary: false,
        writable: false,
        rename_from: None,
    };
    session.reply(220, "multithread FTP server ready")?;
    loop {
        let line = match lines.next_line() {
            Ok(Line::Eof) => return Ok(()),
            Ok(Line::TooLong) => {
                session.reply(500, "Line too long")?;
                continue;
            }
            Ok(Line::Text(bytes)) => bytes,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                let _ = session.reply(421, "Idle too long; closing the connection");
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        let Ok(text) = String::from_utf8(line) else {
            session.reply(501, "Commands must be UTF-8")?;
            continue;
        };
        let (command, arg) = match text.split_once(' ') {
            Some((command, arg)) => (command.to_ascii_uppercase(), arg.trim()),
            None => (text.trim().to_ascii_uppercase(), ""),
        };
        if session.dispatch(&command, arg)? == Flow::Quit {
            return Ok(());
        }
    }
}

/// Commands that need a login first.
const AFTER_LOGIN: &[&str] = &[
    "PWD", "XPWD", "CWD", "XCWD", "CDUP", "XCUP", "TYPE", "MODE", "STRU", "PASV", "EPSV", "PORT",
    "EPRT", "LIST", "NLST", "RETR", "STOR", "DELE", "MKD", "XMKD", "RMD", "XRMD", "SIZE", "ABOR",
    "RNFR", "RNTO",
];

impl Session<'_> {
    /// Writes one reply line: `code text\r\n`.
    pub(super) fn reply(&mut self, code: u16, text: &str) -> io::Result<()> {
        self.control
            .write_all(format!("{code} {text}\r\n").as_bytes())
    }

    fn dispatch(&mut self, command: &str, arg: &str) -> io::Result<Flow> {
        if command != "RNTO" {
            self.rename_from = None; // RNTO must come right after its RNFR
        }
        match command {
            "USER" => self.user(arg)?,
            "PASS" => self.pass(arg)?,
            "QUIT" => {
                self.reply(221, "Goodbye")?;
                return Ok(Flow::Quit);
            }
            "NOOP" => self.reply(200, "NOOP ok")?,
            "SYST" => self.reply(215, "UNIX Type: L8")?,
            "FEAT" => self
                .control
                .write_all(b"211-Features:\r\n EPSV\r\n EPRT\r\n PASV\r\n SIZE\r\n211 End\r\n")?,
            _ if AFTER_LOGIN.contains(&command) && !matches!(self.login, Login::LoggedIn) => {
                self.reply(530, "Please log in with USER and PASS")?
            }
            _ if AFTER_LOGIN.contains(&command) => return self.logged_in(command, arg),
            _ => self.reply(502, &format!("{command} not implemented"))?,
        }
        Ok(Flow::Continue)
    }

    fn logged_in(&mut self, command: &str, arg: &str) -> io::Result<Flow> {
        let needs_arg = !matches!(
            command,
            "PWD" | "XPWD" | "CDUP" | "XCUP" | "PASV" | "EPSV" | "LIST" | "NLST" | "ABOR"
        );
        if needs_arg && arg.is_empty() {
            self.reply(501, &format!("{command} needs an argument"))?;
            return Ok(Flow::Continue);
        }
        match command {
            "PWD" | "XPWD" => {
                let quoted = self.cwd.replace('"', "\"\"");
                self.reply(257, &format!("\"{quoted}\" is the current directory"))?
            }
            "CWD" | "XCWD" => self.cwd(arg)?,
            "CDUP" | "XCUP" => self.cwd("..")?,
            "TYPE" => self.type_(arg)?,
            "MODE" => self.only(arg, "S", &["B", "C"], "Mode")?,
            "STRU" => self.only(arg, "F", &["R", "P"], "Structure")?,
            "PASV" | "EPSV" => self.passive(command, arg)?,
            "PORT" | "EPRT" => self.active(command, arg)?,
            "LIST" | "NLST" => return self.list(command == "LIST", arg),
            "RETR" => return self.retr(arg),
            "STOR" => return self.stor(arg),
            "DELE" => self.dele(arg)?,
            "MKD" | "XMKD" => self.mkd(arg)?,
            "RMD" | "XRMD" => self.rmd(arg)?,
            "SIZE" => self.size(arg)?,
            "RNFR" => self.rnfr(arg)?,
            "RNTO" => self.rnto(arg)?,
            // Transfers run to completion before the next command is read, so by the time an
            // ABOR (often after IAC IP IAC DM) is read, there is nothing left to abort.
            _ => self.reply(226, "No transfer to abort")?,
        }
        Ok(Flow::Continue)
    }

    fn user(&mut self, name: &str) -> io::Result<()> {
        if name.is_empty() {
            return self.reply(501, "USER needs a name");
        }
        self.login = Login::Named(name.to_string());
        // The same answer for every name: whether a user exists is not told before PASS.
        self.reply(331, &format!("Password required for {name}"))
    }

    fn pass(&mut self, password: &str) -> io::Result<()> {
        let name = match &self.login {
            Login::Named(name) => name.clone(),
            Login::LoggedIn => return self.reply(503, "Already logged in"),
            Login::Start => return self.reply(503, "Login with USER first"),
        };
        self.login = Login::Start;
        if self.config.accepts(&name, password) {
            self.login = Login::LoggedIn;
            self.writable = self.config.may_write();
            self.reply(230, &format!("User {name} logged in"))
        } else {
            self.reply(530, "Login incorrect")
        }
    }

    /// Answers 550 for a refused path, naming why.
    pub(super) fn refuse(&mut self, arg: &str, denied: Denied) -> io::Result<()> {
        let why = match denied {
            Denied::Outside => "is outside the served root",
            Denied::Missing => "does not exist",
            Denied::Invalid => "is not a usable name",
            Denied::NotAFile => "not a plain file",
            Denied::NotADirectory => "not a directory",
            Denied::Failed(errno) => errno.desc(),
        };
        self.reply(550, &format!("{arg}: {why}"))
    }

    /// `arg` as a path in the virtual tree, from the current directory.
    pub(super) fn path(&self, arg: &str) -> Result<String, Denied> {
        normalize(&self.cwd, arg)
    }

    fn cwd(&mut self, arg: &str) -> io::Result<()> {
        let opened = self
            .path(arg)
            .and_then(|path| self.config.root.open_dir(&path).map(|_| path));
        match opened {
            Ok(path) => {
                self.cwd = path;
                let text = format!("Directory changed to {}", self.cwd);
                self.reply(250, &text)
            }
            Err(denied) => self.refuse(arg, denied),
        }
    }

    fn type_(&mut self, arg: &str) -> io::Result<()> {
        let mut words = arg.split_whitespace();
        match (
            words.next().map(|w| w.to_ascii_uppercase()).as_deref(),
            words.next(),
        ) {
            (Some("I"), None) | (Some("L"), Some("8")) => {
                self.binary = true;
                self.reply(200, "Type set to I")
            }
            (Some("A"), None | Some("N" | "n")) => {
                self.binary = false;
                self.reply(200, "Type set to A")
            }
            (Some("E" | "L"), _) => self.reply(504, &format!("TYPE {arg} not supported")),
            _ => self.reply(501, &format!("TYPE {arg}: unknown type")),
        }
    }

    /// MODE and STRU: `supported` is accepted, the `known` others get 504, the rest 501.
    fn only(&mut self, arg: &str, supported: &str, known: &[&str], what: &str) -> io::Result<()> {
        let arg = arg.to_ascii_uppercase();
        if arg == supported {
            self.reply(200, &format!("{what} set to {supported}"))
        } else if known.contains(&arg.as_str()) {
            self.reply(504, &format!("{what} {arg} not supported"))
        } else {
            self.reply(501, &format!("{what} {arg}: unknown"))
        }
    }

    fn size(&mut self, arg: &str) -> io::Result<()> {
        let stat = self.path(arg).and_then(|path| {
            let fd = self.config.root.open(&path, OFlag::O_PATH)?;
            Ok(fstat(&fd)?)
        });
        match stat {
            Ok(stat) if kind(&stat) == SFlag::S_IFREG => self.reply(213, &stat.st_size.to_string()),
            Ok(_) => self.refuse(arg, Denied::NotAFile),
            Err(denied) => self.refuse(arg, denied),
        }
    }
}
