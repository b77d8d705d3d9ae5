//! The chat client: join, then fork — the child prints, the parent types.
//!
//! [`join`] sends `L name` and waits for `OK`/`ERR`, resending a few times because a UDP
//! datagram may be lost. Then [`chat`] forks. The child prints every datagram that arrives until
//! one says `BYE`. The parent waits in `poll(2)` on stdin, on a [`Reaper`] (SIGCHLD: the child
//! has ended) and on a Ctrl-C pipe, with a timeout that sends the heartbeat `H`. A line is sent
//! as `C name line`; `quit`, EOF or Ctrl-C send `Q name`, and the parent waits for the child to
//! receive its `BYE` and exit. Either way both processes end together, and the child has
//! `PR_SET_PDEATHSIG` in case the parent is killed.

use std::fs::File;
use std::io::{self, BufRead, BufReader, ErrorKind};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::time::Duration;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{SigHandler, Signal, kill, signal};
use nix::unistd::Pid;
use signal_hook::consts::{SIGINT, SIGTERM};

use crate::reaping::Reaper;
use crate::spawn::{self, Outcome};

/// Times `L` is sent before giving up.
const JOIN_TRIES: u32 = 3;

/// The address a client binds to reach `server`: loopback for a server on this machine,
/// otherwise any local address of the same family (the kernel picks the route).
pub fn local_address_for(server: SocketAddr) -> SocketAddr {
    let ip: IpAddr = match (server.ip().is_loopback(), server) {
        (true, SocketAddr::V4(_)) => Ipv4Addr::LOCALHOST.into(),
        (true, SocketAddr::V6(_)) => Ipv6Addr::LOCALHOST.into(),
        (false, SocketAddr::V4(_)) => Ipv4Addr::UNSPECIFIED.into(),
        (false, SocketAddr::V6(_)) => Ipv6Addr::UNSPECIFIED.into(),
    };
    SocketAddr::new(ip, 0)
}

/// Sends `L name` until the server answers; `Ok(Err(reason))` when it refuses the name.
pub fn join(socket: &UdpSocket, server: SocketAddr, name: &str) -> io::Result<Result<(), String>> {
    socket.set_read_timeout(Some(Duration::from_secs(1)))?;
    let mut buf = [0u8; 2048];
    for _ in 0..JOIN_TRIES {
        socket.send_to(format!("L {name}").as_bytes(), server)?;
        loop {
            match socket.recv_from(&mut buf) {
                Ok((n, from)) if from == server => {
                    let reply = String::from_utf8_lossy(&buf[..n]).trim_end().to_string();
                    if reply.starts_with("OK ") {
                        socket.set_read_timeout(None)?;
                        return Ok(Ok(()));
                    }
                    if let Some(reason) = reply.strip_prefix("ERR ") {
                        return Ok(Err(reason.to_string()));
                    }
                    // A chat line that raced our join: not the answer, keep waiting.
                }
                Ok(_) => {} // not from the server
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
    Err(io::Error::new(
        ErrorKind::TimedOut,
        format!(
            "no answer from {server} after {JOIN_TRIES} tries: is udp_chat_server running there?"
        ),
    ))
}

/// Chats as `name` (already joined) until the user quits or the server says `BYE`.
pub fn chat(
    socket: UdpSocket,
    server: SocketAddr,
    name: &str,
    heartbeat: Duration,
) -> io::Result<()> {
    // SIGCHLD and Ctrl-C handlers go in before the fork, so no event is missed; the child
    // gets default dispositions back (see `spawn::fork_run`).
    let reaper = Reaper::install()?;
    let (ctrl_c, handler_end) = UnixStream::pair()?;
    for signal in [SIGINT, SIGTERM] {
        signal_hook::low_level::pipe::register(signal, handler_end.try_clone()?)?;
    }
    let child = spawn::fork_run(|| print_incoming(&socket, server))?;
    let parent = Parent {
        socket: &socket,
        server,
        name,
        reaper: &reaper,
        child,
    };
    match parent.type_and_send(heartbeat, &ctrl_c) {
        Ok(ChildEnded::Reaped(outcome)) if outcome.success() => Ok(()),
        Ok(ChildEnded::Reaped(outcome)) => Err(io::Error::other(format!(
            "the receiving process {outcome}; leaving"
        ))),
        // Whatever happened, the child does not outlive us.
        other => {
            let _ = kill(child, Signal::SIGTERM);
            let _ = spawn::wait_for(child);
            other.map(|_| ())
        }
    }
}

/// Whether the parent has reaped the child when it stops typing.
enum ChildEnded {
    Reaped(Outcome),
    StillRunning,
}

/// The parent's half: stdin → server, heartbeats, and noticing the child's end.
struct Parent<'a> {
    socket: &'a UdpSocket,
    server: SocketAddr,
    name: &'a str,
    reaper: &'a Reaper,
    child: Pid,
}

impl Parent<'_> {
    fn type_and_send(&self, heartbeat: Duration, ctrl_c: &UnixStream) -> io::Result<ChildEnded> {
        // Our own buffered reader over descriptor 0 (std's stdin has a hidden buffer of its
        // own), so we can see whether lines are waiting in it.
        let stdin = io::stdin().as_fd().try_clone_to_owned()?;
        let mut lines = BufReader::new(File::from(stdin));
        let timeout = PollTimeout::try_from(heartbeat).unwrap_or(PollTimeout::MAX);
        loop {
            // Lines already in the reader's buffer do not make stdin readable again: take
            // them first, and poll only when the buffer is empty.
            let typed = if lines.buffer().is_empty() {
                let mut fds = [
                    PollFd::new(lines.get_ref().as_fd(), PollFlags::POLLIN),
                    PollFd::new(self.reaper.fd(), PollFlags::POLLIN),
                    PollFd::new(ctrl_c.as_fd(), PollFlags::POLLIN),
                ];
                match poll(&mut fds, timeout) {
                    Ok(0) => {
                        self.socket.send_to(b"H", self.server)?;
                        continue;
                    }
                    Ok(_) => {}
                    Err(nix::errno::Errno::EINTR) => continue,
                    Err(e) => return Err(e.into()),
                }
                let ready = |i: usize| fds[i].revents().is_some_and(|r| !r.is_empty());
                // The child ended: the server said BYE (or forgot us), so we are done too.
                if ready(1)
                    && let Some(outcome) = self.child_reaped()?
                {
                    return Ok(ChildEnded::Reaped(outcome));
                }
                if ready(2) {
                    return self.quit();
                }
                ready(0)
            } else {
                true
            };
            if typed {
                let mut line = String::new();
                if lines.read_line(&mut line)? == 0 || line.trim() == "quit" {
                    return self.quit();
                }
                let text = line.trim_end_matches(['\r', '\n']);
                if !text.trim().is_empty() {
                    self.socket
                        .send_to(format!("C {} {text}", self.name).as_bytes(), self.server)?;
                }
            }
        }
    }

    /// Sends `Q name` and waits (briefly) for the child to receive its `BYE` and exit.
    fn quit(&self) -> io::Result<ChildEnded> {
        self.socket
            .send_to(format!("Q {}", self.name).as_bytes(), self.server)?;
        // The BYE may be lost (UDP): after 2 s the caller stops the child instead.
        let deadline = std::time::Instant::now() + Duration::from_secs(2);
        while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
            let mut fds = [PollFd::new(self.reaper.fd(), PollFlags::POLLIN)];
            let wait = PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX);
            match poll(&mut fds, wait) {
                Ok(0) => break,
                Ok(_) => {
                    if let Some(outcome) = self.child_reaped()? {
                        return Ok(ChildEnded::Reaped(outcome));
                    }
                }
                Err(nix::errno::Errno::EINTR) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(ChildEnded::StillRunning)
    }

    /// How the child ended, if it has (reaping it).
    fn child_reaped(&self) -> io::Result<Option<Outcome>> {
        self.reaper.reap_child(self.child)
    }
}

/// The child's half: print each datagram from the server until `BYE`. Returns the exit status.
/// The client was single-threaded when it forked, so printing is safe here.
fn print_incoming(socket: &UdpSocket, server: SocketAddr) -> i32 {
    let _ = nix::sys::prctl::set_pdeathsig(Signal::SIGTERM);
    // Ctrl-C in a terminal reaches both processes. The parent handles it (it sends `Q` and this
    // process ends at the `BYE`); a child dead of SIGINT would look like a failure to it.
    // SAFETY: SIG_IGN is not a handler function, so no handler safety rules apply.
    let _ = unsafe { signal(Signal::SIGINT, SigHandler::SigIgn) };
    let mut buf = [0u8; 2048];
    loop {
        match socket.recv_from(&mut buf) {
            Ok((n, from)) if from == server => {
                let text = String::from_utf8_lossy(&buf[..n]);
                let text = text.trim_end();
                println!("{text}");
                if text.starts_with("BYE") {
                    return 0;
                }
                // The server has forgotten us (it restarted, or timed us out while we were
                // stopped): nothing we send will be relayed, so leave rather than talk to no one.
                if text.starts_with("ERR join first") {
                    println!("(the server no longer knows this client; leaving: join again)");
                    return 0;
                }
            }
            Ok(_) => {} // datagrams from anyone but the server are ignored
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return 1,
        }
    }
}

/// Reads a name from stdin (prompting on stdout) until the server accepts one.
pub fn ask_name_and_join(socket: &UdpSocket, server: SocketAddr) -> io::Result<String> {
    let stdin = io::stdin();
    loop {
        println!("name:");
        let mut name = String::new();
        if stdin.lock().read_line(&mut name)? == 0 {
            return Err(io::Error::new(ErrorKind::UnexpectedEof, "no name given"));
        }
        let name = name.trim().to_string();
        match join(socket, server, &name)? {
            Ok(()) => return Ok(name),
            Err(reason) => println!("refused: {reason}"),
        }
    }
}
