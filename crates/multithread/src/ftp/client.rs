//! The other half: a small FTP client, and the course's interactive prompt on top of it.
//!
//! Enough FTP to list, download and upload with passive data connections (EPSV): log in, send
//! a command, read its reply — which may span lines (`211-Features:` … `211 End`, RFC 959
//! §4.2: the last line repeats the code followed by a space). Transfers stream to and from
//! files, like the server's.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;

/// A reply: its code and its text (the lines joined with `\n`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub text: String,
}

/// A logged-in FTP client.
#[derive(Debug)]
pub struct Client {
    control: BufReader<TcpStream>,
    server: SocketAddr,
}

fn unexpected(reply: &Reply) -> io::Error {
    io::Error::other(format!("server said: {} {}", reply.code, reply.text))
}

impl Client {
    /// Connects to `server`, reads the greeting and logs in.
    pub fn connect(server: SocketAddr, user: &str, password: &str) -> io::Result<Client> {
        let stream = TcpStream::connect(server)?;
        let mut client = Client {
            control: BufReader::new(stream),
            server,
        };
        client.expect(220)?;
        let reply = client.command(&format!("USER {user}"))?;
        if reply.code == 331 {
            client.command(&format!("PASS {password}"))?;
        }
        client.command("TYPE I")?;
        Ok(client)
    }

    /// Reads one (possibly multi-line) reply.
    pub fn read_reply(&mut self) -> io::Result<Reply> {
        let mut first = String::new();
        if self.control.read_line(&mut first)? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "server closed",
            ));
        }
        let first = first.trim_end().to_string();
        let code: u16 = first
            .get(..3)
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| io::Error::other(format!("not an FTP reply: {first:?}")))?;
        let mut text = first.get(4..).unwrap_or("").to_string();
        if first.as_bytes().get(3) == Some(&b'-') {
            let end = format!("{code} ");
            loop {
                let mut line = String::new();
                if self.control.read_line(&mut line)? == 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "reply cut short",
                    ));
                }
                let line = line.trim_end();
                text.push('\n');
                text.push_str(line);
                if line.starts_with(&end) {
                    break;
                }
            }
        }
        Ok(Reply { code, text })
    }

    /// Sends a command line and reads its reply; a 4xx/5xx reply is an error.
    pub fn command(&mut self, line: &str) -> io::Result<Reply> {
        self.control
            .get_mut()
            .write_all(format!("{line}\r\n").as_bytes())?;
        let reply = self.read_reply()?;
        if reply.code >= 400 {
            return Err(unexpected(&reply));
        }
        Ok(reply)
    }

    fn expect(&mut self, code: u16) -> io::Result<Reply> {
        let reply = self.read_reply()?;
        if reply.code != code {
            return Err(unexpected(&reply));
        }
        Ok(reply)
    }

    /// EPSV, then `command`; the data connection, after the server's 150.
    fn data(&mut self, command: &str) -> io::Result<TcpStream> {
        let reply = self.command("EPSV")?;
        let port: u16 = reply
            .text
            .split('|')
            .nth(3)
            .and_then(|p| p.parse().ok())
            .ok_or_else(|| unexpected(&reply))?;
        let data = TcpStream::connect(SocketAddr::new(self.server.ip(), port))?;
        self.command(command)?;
        Ok(data)
    }

    /// The names in the current directory (NLST).
    pub fn list(&mut self) -> io::Result<Vec<String>> {
        let mut data = self.data("NLST")?;
        let mut text = String::new();
        data.read_to_string(&mut text)?;
        self.expect(226)?;
        Ok(text.lines().map(str::to_string).collect())
    }

    /// Downloads `name` to `dest`; the bytes received.
    pub fn get(&mut self, name: &str, dest: &Path) -> io::Result<u64> {
        let mut data = self.data(&format!("RETR {name}"))?;
        let mut file = File::create(dest).map_err(|e| naming(dest, "cannot write", e))?;
        let n = io::copy(&mut data, &mut file)?;
        self.expect(226)?;
        Ok(n)
    }

    /// Uploads the file at `source` as `name`; the bytes sent.
    pub fn put(&mut self, source: &Path, name: &str) -> io::Result<u64> {
        let mut file = File::open(source).map_err(|e| naming(source, "cannot read", e))?;
        let mut data = self.data(&format!("STOR {name}"))?;
        let n = io::copy(&mut file, &mut data)?;
        drop(data); // the end of the upload
        self.expect(226)?;
        Ok(n)
    }

    /// Changes the server's current directory (CWD).
    pub fn cd(&mut self, dir: &str) -> io::Result<()> {
        self.command(&format!("CWD {dir}")).map(drop)
    }

    /// Says QUIT.
    pub fn quit(mut self) -> io::Result<()> {
        self.command("QUIT").map(drop)
    }
}

/// What the interactive client understands.
const COMMANDS: &str = "commands: list | cd DIR | get NAME | put PATH | quit";

/// `error` about a local `path`, saying which path and what was being done.
fn naming(path: &Path, doing: &str, error: io::Error) -> io::Error {
    io::Error::new(error.kind(), format!("{doing} {}: {error}", path.display()))
}

/// The course's client: prompts `ftp> `, reads `list`, `cd DIR`, `get NAME`, `put PATH`, `quit`
/// from `input`, downloads into `dir`, and reports each result to `out`. Ends at `quit` or EOF.
pub fn interactive(
    client: &mut Client,
    dir: &Path,
    input: impl BufRead,
    out: &mut impl Write,
) -> io::Result<()> {
    writeln!(out, "{COMMANDS}")?;
    let mut lines = input.lines();
    loop {
        write!(out, "ftp> ")?;
        out.flush()?;
        let Some(line) = lines.next().transpose()? else {
            return Ok(());
        };
        let (word, arg) = line.trim().split_once(' ').unwrap_or((line.trim(), ""));
        let arg = arg.trim();
        let result = match word {
            "list" => client.list().map(|names| names.join("\n")),
            "get" if !arg.is_empty() => {
                let name = Path::new(arg).file_name().unwrap_or_default();
                client
                    .get(arg, &dir.join(name))
                    .map(|n| format!("got {arg} ({n} bytes)"))
            }
            "put" if !arg.is_empty() => {
                let name = Path::new(arg).file_name().unwrap_or_default();
                client
                    .put(Path::new(arg), &name.to_string_lossy())
                    .map(|n| format!("put {arg} ({n} bytes)"))
            }
            "cd" if !arg.is_empty() => client.cd(arg).map(|()| format!("now in {arg}")),
            "quit" => return Ok(()),
            "" => continue,
            "cd" | "get" | "put" => Ok(format!("{word} needs an argument; {COMMANDS}")),
            _ => Ok(format!("unknown command {word:?}; {COMMANDS}")),
        };
        match result {
            Ok(text) => writeln!(out, "{text}")?,
            // The session goes on: a missing file is the user's mistake, not the end.
            Err(e) => writeln!(out, "error: {e}")?,
        }
    }
}
