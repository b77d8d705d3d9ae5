//! The three transfers: LIST/NLST and RETR send over the data connection, STOR receives.
//!
//! Every transfer streams: `io::copy` moves the file through a small buffer (on Linux, through
//! `sendfile`/`splice` in the kernel), so a 10 GiB file costs the server no more memory than a
//! 10-byte one. Each follows one sequence — check the path, reply `150`, open the data
//! connection (or `425`), move the bytes, close, reply `226` (or `426` if the peer went away).
//!
//! An upload is written to a hidden temp name next to its target and renamed over it only
//! after the data connection ended cleanly *and* the client is still there to be told; an
//! upload cut short (a reset, a timeout, a client that vanished) removes the temp file. So a
//! half-written file is never seen under the real name, and a concurrent download of the old
//! file reads the old file to its end (rename replaces the name, not the open file).

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::data::{self, DataPlan};
use super::list;
use super::session::{Flow, Session};

/// The prefix of upload temp files; listings leave them out.
const TEMP_PREFIX: &str = ".ftp-upload-";

/// True for a name [`Session::stor`] uses while an upload is in progress.
pub fn is_upload_temp(name: &str) -> bool {
    name.starts_with(TEMP_PREFIX)
}

impl Session<'_> {
    pub(super) fn list(&mut self, long: bool, arg: &str) -> io::Result<Flow> {
        // Clients send `ls` options (`LIST -la`); a path, if any, follows them.
        let path = arg
            .split_whitespace()
            .filter(|word| !word.starts_with('-'))
            .collect::<Vec<_>>()
            .join(" ");
        let target = match self.existing(if path.is_empty() { "." } else { &path }) {
            Ok(target) => target,
            Err(denied) => return self.refuse(&path, denied).map(|()| Flow::Continue),
        };
        let root = self.config.root.dir();
        self.send(|data| {
            let mut out = BufWriter::new(data);
            list::write_listing(root, &target.real, long, &mut out)?;
            out.flush()
        })
    }

    pub(super) fn retr(&mut self, arg: &str) -> io::Result<Flow> {
        let file = match self.existing(arg) {
            Ok(file) => file,
            Err(denied) => return self.refuse(arg, denied).map(|()| Flow::Continue),
        };
        // BEGIN SOLUTION: mt-ftp-retr
        let mut source = match File::open(&file.real) {
            Ok(source) if source.metadata()?.is_file() => source,
            Ok(_) => {
                self.reply(550, &format!("{arg}: not a plain file"))?;
                return Ok(Flow::Continue);
            }
            Err(e) => {
                self.reply(550, &format!("{arg}: {e}"))?;
                return Ok(Flow::Continue);
            }
        };
        // Streams: never more than io::copy's buffer in memory, whatever the file's size.
        self.send(move |data| io::copy(&mut source, data).map(drop))
        // END SOLUTION
    }

    pub(super) fn stor(&mut self, arg: &str) -> io::Result<Flow> {
        let target = match self.config.root.new_name(&self.cwd, arg) {
            Ok(target) if target.real.is_dir() => {
                self.reply(550, &format!("{arg}: is a directory"))?;
                return Ok(Flow::Continue);
            }
            Ok(target) => target,
            Err(denied) => return self.refuse(arg, denied).map(|()| Flow::Continue),
        };
        let (temp_path, mut temp) = match create_temp(&target.real) {
            Ok(temp) => temp,
            Err(e) => {
                self.reply(550, &format!("{arg}: {e}"))?;
                return Ok(Flow::Continue);
            }
        };
        let Some(mut data) = self.open_data()? else {
            let _ = fs::remove_file(&temp_path);
            return Ok(Flow::Continue);
        };
        let entry = self.connections.add(&data);
        let received = io::copy(&mut data, &mut temp).and_then(|n| temp.flush().map(|()| n));
        drop(entry);
        drop(data);
        drop(temp);
        let outcome = match received {
            Ok(_) if !self.client_still_there() => {
                // Data ended, but the client has gone: nobody can be told it worked, and a
                // killed client's data connection ends just like a finished one. Keep nothing.
                let _ = fs::remove_file(&temp_path);
                return Ok(Flow::Quit);
            }
            Ok(n) => fs::rename(&temp_path, &target.real).map(|()| n),
            Err(e) => Err(e),
        };
        match outcome {
            Ok(n) => self.reply(226, &format!("Transfer complete ({n} bytes received)"))?,
            Err(e) => {
                let _ = fs::remove_file(&temp_path);
                self.reply(426, &format!("Connection closed; transfer aborted: {e}"))?
            }
        }
        Ok(Flow::Continue)
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
    fn open_data(&mut self) -> io::Result<Option<TcpStream>> {
        let plan = std::mem::take(&mut self.data);
        if matches!(plan, DataPlan::None) {
            self.reply(503, "Use PASV, EPSV, PORT or EPRT first")?;
            return Ok(None);
        }
        self.reply(150, "Opening data connection")?;
        match data::open(plan, self.peer.ip()) {
            Ok(stream) => Ok(Some(stream)),
            Err(e) => {
                self.reply(425, &format!("Cannot open data connection: {e}"))?;
                Ok(None)
            }
        }
    }

    /// Whether the control connection is still open (not at EOF, not reset).
    fn client_still_there(&self) -> bool {
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

/// Creates a new, empty temp file beside `target`: `.ftp-upload-<n>-<name>`.
fn create_temp(target: &Path) -> io::Result<(PathBuf, File)> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let dir = target
        .parent()
        .ok_or_else(|| io::Error::other("no parent"))?;
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(format!("{TEMP_PREFIX}{}-{n}-{name}", std::process::id()));
        match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(file) => return Ok((path, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}
