//! A tiny in-process server for the tests: a thread per connection, each running `handle`.

use std::io;
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;
use std::thread;

use harness::InProcessServer;
use http_server::{Limits, Root, serve_connection};

/// The root at `path`, opened for serving (a harness error if it cannot be).
pub fn open_root(path: &Path) -> harness::Result<Arc<Root>> {
    Root::open(path)
        .map(Arc::new)
        .map_err(|e| harness::Error::new(format!("opening {}", path.display()), e))
}

/// Serves each connection with `handle(stream, root)` on its own thread, until stopped.
pub fn serve_with(
    root: Arc<Root>,
    handle: impl Fn(TcpStream, &Arc<Root>) -> io::Result<()> + Send + Sync + 'static,
) -> InProcessServer {
    let handle = Arc::new(handle);
    harness::serve(move |listener, stop| {
        let mut acceptor = netkit::accept::Acceptor::new(listener)?;
        while let Some((stream, _)) = acceptor.next_blocking(&stop)? {
            let (root, handle) = (Arc::clone(&root), Arc::clone(&handle));
            thread::spawn(move || handle(stream, &root));
        }
        Ok(())
    })
}

/// The blocking handler of the chapter, with `limits`, serving `path`.
#[allow(dead_code)] // not every test binary uses every helper
pub fn serve_root(path: &Path, limits: Limits) -> harness::Result<InProcessServer> {
    let root = open_root(path)?;
    Ok(serve_with(root, move |stream, root| {
        serve_connection(stream, root, &limits)
    }))
}

/// The chapter's non-blocking connection (`HttpConn`) driven by a minimal `poll(2)` loop on one
/// thread, serving `path`: the shape every event-loop backend has.
#[allow(dead_code)] // not every test binary uses every helper
pub fn serve_poll(path: &Path, limits: Limits) -> harness::Result<InProcessServer> {
    let root = open_root(path)?;
    Ok(harness::serve(move |listener, stop| {
        poll_loop(listener, &stop, &root, limits)
    }))
}

fn poll_loop(
    listener: std::net::TcpListener,
    stop: &netkit::Stop,
    root: &Arc<Root>,
    limits: Limits,
) -> io::Result<()> {
    use http_server::nonblocking::HttpConn;
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    use std::os::fd::AsFd;
    use std::time::{Duration, Instant};

    listener.set_nonblocking(true)?;
    let mut conns: Vec<HttpConn> = Vec::new();
    while !stop.is_stopped() {
        let mut fds = vec![
            PollFd::new(listener.as_fd(), PollFlags::POLLIN),
            PollFd::new(stop.fd(), PollFlags::POLLIN),
        ];
        for conn in &conns {
            let mut interest = PollFlags::empty();
            interest.set(PollFlags::POLLIN, conn.wants_read());
            interest.set(PollFlags::POLLOUT, conn.wants_write());
            fds.push(PollFd::new(conn.stream().as_fd(), interest));
        }
        let now = Instant::now();
        let next = conns.iter().map(HttpConn::deadline).min();
        let wait = next.map_or(Duration::from_secs(1), |d| d.saturating_duration_since(now));
        let millis = u16::try_from(wait.as_millis() + 1).unwrap_or(u16::MAX);
        match poll(&mut fds, PollTimeout::from(millis)) {
            Err(nix::errno::Errno::EINTR) => continue,
            other => other?,
        };
        let ready: Vec<PollFlags> = fds
            .iter()
            .map(|f| f.revents().unwrap_or(PollFlags::empty()))
            .collect();
        drop(fds);
        if ready[0].contains(PollFlags::POLLIN) {
            loop {
                match listener.accept() {
                    Ok((stream, _)) => conns.push(HttpConn::new(stream, Arc::clone(root), limits)?),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::ConnectionAborted => {}
                    Err(e) => return Err(e),
                }
            }
        }
        let trouble = PollFlags::POLLHUP | PollFlags::POLLERR;
        for (conn, flags) in conns.iter_mut().zip(&ready[2..]) {
            if conn.wants_read() && flags.intersects(PollFlags::POLLIN | trouble) {
                conn.on_readable()?;
            }
            if conn.wants_write() && flags.intersects(PollFlags::POLLOUT | trouble) {
                conn.on_writable()?;
            }
            if !conn.is_finished() && Instant::now() >= conn.deadline() {
                conn.on_timeout()?;
            }
        }
        conns.retain(|conn| !conn.is_finished());
    }
    Ok(())
}
