//! The transfers that send: LIST/NLST and RETR (STOR, which receives, is in `write`), the data
//! connection sequence all transfers share, and the commands that set up the next data
//! connection (PASV/EPSV, PORT/EPRT; the rules they enforce are in `data`).
//!
//! Every transfer streams: `io::copy` moves the file through a small buffer (on Linux, through
//! `sendfile`/`splice` in the kernel), so a 10 GiB file costs the server no more memory than a
//! 10-byte one. Each follows one sequence — open the file (or `550`), reply `150`, open the
//! data connection (or `425`), move the bytes, close, reply `226` (or `426` if the peer went
//! away). The file is opened *before* the `150`: what the client is sent was looked up once,
//! beneath the root, and is a regular file (a FIFO's open would otherwise block the session).

use std::io::{self, Write};
use std::net::TcpStream;

use super::data::{self, DataPlan, parse_eprt, parse_port, pasv_reply};
use super::list;
use super::session::{Flow, Session};

impl Session<'_> {
    pub(super) fn list(&mut self, long: bool, arg: &str) -> io::Result<Flow> {
        // Clients send `ls` options (`LIST -la`); a path, if any, follows them.
        let path = arg
            .split_whitespace()
            .filter(|word| !word.starts_with('-'))
            .collect::<Vec<_>>()
            .join(" ");
        let listing = self
            .path(if path.is_empty() { "." } else { &path })
            .and_then(|target| list::listing(&self.config.root, &target, long));
        match listing {
            Ok(text) => self.send(|data| data.write_all(text.as_bytes())),
            Err(denied) => self.refuse(&path, denied).map(|()| Flow::Continue),
        }
    }

    pub(super) fn retr(&mut self, arg: &str) -> io::Result<Flow> {
        // BEGIN SOLUTION: mt-ftp-retr
        let opened = self
            .path(arg)
            .and_then(|path| self.config.root.open_file(&path));
        let mut source = match opened {
            Ok(source) => source,
            Err(denied) => return self.refuse(arg, denied).map(|()| Flow::Continue),
        };
        // Streams: never more than io::copy's buffer in memory, whatever the file's size.
        self.send(move |data| io::copy(&mut source, data).map(drop))
        // END SOLUTION
    }

    /// Replies 150, opens the data connection, runs `transfer` on it, closes it, replies 226
    /// or 426.
    fn send(
        &mut self,
        transfer: impl FnOnce(&mut TcpStream) -> io::Result<()>,
    ) -> io::Result<Flow> {
        let Some(mut data) = self.open_data()? else {
            return Ok(Flow::Continue);
        };
        let entry = self.connections.add(&data);
        let sent = transfer(&mut data).and_then(|()| data.flush());
        drop(entry);
        drop(data); // closing the data connection is the end of the file
        match sent {
            Ok(()) => self.reply(226, "Transfer complete")?,
            Err(e) => self.reply(426, &format!("Connection closed; transfer aborted: {e}"))?,
        }
        Ok(Flow::Continue)
    }

    /// Takes the data plan: 503 without one; otherwise 150 and the connection, or 425.
    pub(super) fn open_data(&mut self) -> io::Result<Option<TcpStream>> {
        let plan = std::mem::take(&mut self.data);
        if matches!(plan, DataPlan::None) {
            self.reply(503, "Use PASV, EPSV, PORT or EPRT first")?;
            return Ok(None);
        }
        self.reply(150, "Opening data connection")?;
        match data::open(plan, self.peer.ip(), self.stop) {
            Ok(stream) => Ok(Some(stream)),
            Err(e) => {
                self.reply(425, &format!("Cannot open data connection: {e}"))?;
                Ok(None)
            }
        }
    }

    /// Whether the control connection is still open (not at EOF, not reset).
    pub(super) fn client_still_there(&self) -> bool {
        if self.control.set_nonblocking(true).is_err() {
            return false;
        }
        let mut byte = [0u8; 1];
        let open = match self.control.peek(&mut byte) {
            Ok(0) => false,
            Ok(_) => true,
            Err(e) => e.kind() == io::ErrorKind::WouldBlock,
        };
        open && self.control.set_nonblocking(false).is_ok()
    }
}

impl Session<'_> {
    pub(super) fn passive(&mut self, command: &str, arg: &str) -> io::Result<()> {
        if command == "EPSV" && arg.eq_ignore_ascii_case("ALL") {
            return self.reply(200, "EPSV ALL ok");
        }
        let local = self.control.local_addr()?.ip();
        let listener = match data::passive(local) {
            Ok(listener) => listener,
            Err(e) => return self.reply(425, &format!("Cannot open a passive port: {e}")),
        };
        let addr = listener.local_addr()?;
        let text = if command == "PASV" {
            match pasv_reply(addr) {
                Some(text) => text,
                None => return self.reply(522, "PASV is IPv4 only; use EPSV"),
            }
        } else {
            format!("229 Entering Extended Passive Mode (|||{}|)", addr.port())
        };
        self.data = DataPlan::Passive(listener);
        self.control.write_all(format!("{text}\r\n").as_bytes())
    }

    pub(super) fn active(&mut self, command: &str, arg: &str) -> io::Result<()> {
        let addr = if command == "PORT" {
            parse_port(arg)
        } else {
            parse_eprt(arg)
        };
        // No bounce attacks (RFC 2577): the data connection goes only back to the client's own
        // address, and never to a privileged port (a service, not an FTP client).
        match addr {
            None => self.reply(501, &format!("{command} {arg}: malformed address")),
            Some(addr) if addr.ip().to_canonical() != self.peer.ip().to_canonical() => self.reply(
                504,
                &format!(
                    "{command}: only your own address ({}) is allowed",
                    self.peer.ip()
                ),
            ),
            Some(addr) if addr.port() < 1024 => self.reply(
                504,
                &format!(
                    "{command}: port {} is privileged; use 1024 or above",
                    addr.port()
                ),
            ),
            Some(addr) => {
                self.data = DataPlan::Active(addr);
                self.reply(200, &format!("{command} command successful"))
            }
        }
    }
}
