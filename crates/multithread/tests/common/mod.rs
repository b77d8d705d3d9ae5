//! What the FTP tests share: a served tree with a secret beside it, a raw protocol client over
//! `harness::Conn`, and real client programs run under a deadline.

#![allow(dead_code)]

use std::fs::{self, File};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use harness::{Conn, InProcessServer, serve};
use multithread::ftp::{self, Config};
use rand::{Rng, SeedableRng};

/// `tmp/root` (served: `a.txt` = "hello\n", `sub/inner.txt`, symlinks `escape` and
/// `escape_dir` leading out) and `tmp/outside/secret.txt`.
pub struct Tree {
    pub dir: tempfile::TempDir,
}

impl Tree {
    pub fn new() -> Tree {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        fs::create_dir_all(root.join("sub")).unwrap();
        fs::create_dir_all(dir.path().join("outside")).unwrap();
        fs::write(root.join("a.txt"), "hello\n").unwrap();
        fs::write(root.join("sub/inner.txt"), "inner\n").unwrap();
        fs::write(dir.path().join("outside/secret.txt"), "secret\n").unwrap();
        std::os::unix::fs::symlink(dir.path().join("outside/secret.txt"), root.join("escape"))
            .unwrap();
        std::os::unix::fs::symlink(dir.path().join("outside"), root.join("escape_dir")).unwrap();
        std::os::unix::fs::symlink("sub/inner.txt", root.join("inside_link")).unwrap();
        Tree { dir }
    }

    pub fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    pub fn outside(&self) -> PathBuf {
        self.dir.path().join("outside")
    }

    /// Serves the root in-process, anonymously, read-only (the default).
    pub fn serve(&self) -> InProcessServer {
        serve_config(Config::anonymous(&self.root()).unwrap())
    }

    /// Serves the root in-process, anonymously, uploads allowed.
    pub fn serve_with_uploads(&self) -> InProcessServer {
        serve_config(
            Config::anonymous(&self.root())
                .unwrap()
                .with_anonymous_uploads(),
        )
    }

    /// The names in `dir` other than upload temp files, sorted.
    pub fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

/// Serves `config` in-process.
pub fn serve_config(config: Config) -> InProcessServer {
    serve(move |listener, stop| ftp::run(listener, &stop, &config))
}

/// A raw FTP control connection.
pub struct Ftp {
    pub conn: Conn,
}

impl Ftp {
    /// Connects and reads the 220 greeting.
    pub fn connect(addr: SocketAddr) -> Ftp {
        let mut ftp = Ftp {
            conn: Conn::connect(addr).unwrap(),
        };
        let greeting = ftp.reply();
        assert!(greeting.starts_with("220 "), "{greeting}");
        ftp
    }

    /// Connects and logs in anonymously.
    pub fn login(addr: SocketAddr) -> Ftp {
        let mut ftp = Ftp::connect(addr);
        assert_eq!(ftp.code("USER anonymous"), 331);
        assert_eq!(ftp.code("PASS test@"), 230);
        ftp
    }

    /// One reply; a multi-line reply is returned whole, lines joined with `\n`.
    pub fn reply(&mut self) -> String {
        let first = self.conn.read_line().unwrap();
        let first = first.trim_end_matches('\r').to_string();
        if first.as_bytes().get(3) != Some(&b'-') {
            return first;
        }
        let end = format!("{} ", &first[..3]);
        let mut all = first;
        loop {
            let line = self.conn.read_line().unwrap();
            let line = line.trim_end_matches('\r');
            all.push('\n');
            all.push_str(line);
            if line.starts_with(&end) {
                return all;
            }
        }
    }

    /// Sends `line` and returns the reply.
    pub fn cmd(&mut self, line: &str) -> String {
        self.conn
            .write_all(format!("{line}\r\n").as_bytes())
            .unwrap();
        self.reply()
    }

    /// Sends `line`; the reply's code.
    pub fn code(&mut self, line: &str) -> u16 {
        let reply = self.cmd(line);
        reply[..3].parse().unwrap_or_else(|_| panic!("{reply}"))
    }

    /// EPSV and a connection to the port it names.
    pub fn epsv(&mut self) -> Conn {
        let reply = self.cmd("EPSV");
        assert!(reply.starts_with("229 "), "{reply}");
        let port: u16 = reply.split('|').nth(3).unwrap().parse().unwrap();
        Conn::connect(SocketAddr::new(self.conn.peer().ip(), port)).unwrap()
    }

    /// PASV and a connection to the address it names.
    pub fn pasv(&mut self) -> Conn {
        let reply = self.cmd("PASV");
        assert!(reply.starts_with("227 "), "{reply}");
        let inside = &reply[reply.find('(').unwrap() + 1..reply.find(')').unwrap()];
        let n: Vec<u16> = inside.split(',').map(|x| x.parse().unwrap()).collect();
        let addr = SocketAddr::from((
            [n[0] as u8, n[1] as u8, n[2] as u8, n[3] as u8],
            n[4] << 8 | n[5],
        ));
        Conn::connect(addr).unwrap()
    }

    /// A listing over EPSV: `LIST arg` (or NLST), its lines and the final reply.
    pub fn listing(&mut self, command: &str) -> (Vec<String>, String) {
        let mut data = self.epsv();
        let started = self.cmd(command);
        if !started.starts_with("150 ") {
            return (Vec::new(), started);
        }
        let text = String::from_utf8(data.read_to_eof().unwrap()).unwrap();
        let done = self.reply();
        (text.lines().map(str::to_string).collect(), done)
    }
}

/// A listener for PORT/EPRT on loopback.
pub fn active_listener() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").unwrap()
}

/// Writes `len` seeded random bytes to `path`, 1 MiB at a time.
pub fn random_file(path: &Path, len: usize, seed: u64) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut file = File::create(path).unwrap();
    let mut chunk = vec![0u8; 1 << 20];
    let mut left = len;
    while left > 0 {
        let n = left.min(chunk.len());
        rng.fill(&mut chunk[..n]);
        file.write_all(&chunk[..n]).unwrap();
        left -= n;
    }
}

/// Whether two files have the same bytes, compared 1 MiB at a time.
pub fn same_file(a: &Path, b: &Path) -> bool {
    let (mut a, mut b) = (File::open(a).unwrap(), File::open(b).unwrap());
    if a.metadata().unwrap().len() != b.metadata().unwrap().len() {
        return false;
    }
    let (mut x, mut y) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
    loop {
        let n = a.read(&mut x).unwrap();
        if n == 0 {
            return true;
        }
        b.read_exact(&mut y[..n]).unwrap();
        if x[..n] != y[..n] {
            return false;
        }
    }
}

/// Runs a client program to completion under a deadline (scaled); on timeout it is killed and
/// the test fails naming the command.
pub fn run_client(program: &str, args: &[&str], stdin: &str, limit: Duration) -> Output {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("{program} could not be started ({e}); install it: see .ci/run")
        });
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(harness::time::scaled(limit)) {
        Ok(output) => output.unwrap(),
        Err(_) => {
            // SAFETY: kill(2) on the pid of our own child, which has not been reaped (the
            // waiting thread is still blocked in wait).
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            panic!("{program} {args:?} did not finish within {limit:?}");
        }
    }
}
