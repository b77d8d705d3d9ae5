//! A tiny in-process server for the tests: a thread per connection, each running `handle`.

#[allow(dead_code)] // not every test binary uses every helper
pub mod site;

use std::io;
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;
use std::thread;

use harness::{ExampleProcess, InProcessServer};
use http_server::backends::Serving;
use http_server::{Limits, Model, Root, Site, serve_connection};

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

/// The chapter's non-blocking connection (`HttpConn`) driven by io-models' level-triggered
/// epoll loop, serving `path`: the shape of every event-loop backend, through the one loop
/// that holds no exercise of its own chapter (so a handout's unsolved io-models exercises do
/// not fail these tests).
#[allow(dead_code)] // not every test binary uses every helper
pub fn serve_event_loop(path: &Path, limits: Limits) -> harness::Result<InProcessServer> {
    let site = Site {
        limits,
        ..Site::new(open_root(path)?)
    };
    Ok(serve_site_on_event_loop(site))
}

/// `site`, served by io-models' level-triggered epoll loop (see [`serve_event_loop`]).
#[allow(dead_code)] // not every test binary uses every helper
pub fn serve_site_on_event_loop(site: Site) -> InProcessServer {
    let serving = Serving::new(site);
    harness::serve(move |listener, stop| {
        io_models::epoll_level::run_with(listener, &stop, |s| serving.connection(s))
    })
}

/// The server with `model`, in this process, serving `path` (two workers where it has them).
#[allow(dead_code)] // not every test binary uses every helper
pub fn serve_model(model: Model, path: &Path, limits: Limits) -> harness::Result<InProcessServer> {
    let site = Site {
        limits,
        workers: 2,
        ..Site::new(open_root(path)?)
    };
    Ok(serve_site(model, site))
}

/// The server with `model`, in this process, serving `site`.
#[allow(dead_code)] // not every test binary uses every helper
pub fn serve_site(model: Model, site: Site) -> InProcessServer {
    harness::serve(move |listener, stop| http_server::serve(model, listener, &stop, &site))
}

/// The `http_server` example with `model`, serving `root` on a free port, plus `extra`
/// arguments; the harness waits for its `listening on` line.
#[allow(dead_code)] // not every test binary uses every helper
pub fn start_example(model: Model, root: &Path, extra: &[&str]) -> harness::Result<ExampleProcess> {
    let root = root.to_str().expect("a test's root path is UTF-8");
    let mut args = vec![
        "--model",
        model.name(),
        "--root",
        root,
        "--addr",
        "127.0.0.1:0",
    ];
    args.extend_from_slice(extra);
    ExampleProcess::start("http_server", &args)
}

/// True when `model` can run here: every model, and `uring` where the kernel allows io_uring.
/// Where it does not, the test fails with the sentence that says why — or, with
/// `LABS_SKIP_URING=1`, says it skips and returns false.
#[allow(dead_code)] // not every test binary uses every helper
pub fn runs_here(model: Model) -> bool {
    model != Model::Uring || io_models::uring::works_or_skip()
}
