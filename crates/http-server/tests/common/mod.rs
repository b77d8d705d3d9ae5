//! A tiny in-process server for the tests: a thread per connection, each running `handle`.

use std::io;
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
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
        for stream in listener.incoming() {
            if stop.load(Ordering::SeqCst) {
                break;
            }
            let Ok(stream) = stream else { continue };
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
