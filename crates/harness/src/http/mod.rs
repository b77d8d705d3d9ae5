//! The HTTP conformance suite: what "a static HTTP/1.1 file server works" means here.
//!
//! Every HTTP backend — a thread per connection, a pool, select, epoll, prefork, async — must
//! pass [`assert_conformance`]. The suite builds a served folder ([`Fixture`]) with a secret
//! file beside it, starts a fresh server on it for each check, and speaks raw bytes through a
//! socket, so nothing normalises a hostile path on the way. Each check catches specific bugs:
//!
//! | check | the bug it catches |
//! | --- | --- |
//! | a file is served exactly | wrong length or type, missing `ETag`/`Last-Modified`/`Date`, a body cut short |
//! | HEAD has GET's headers and no body | a body after HEAD (the next response is read from the wrong byte) |
//! | a missing file is 404 | an error page sent as 200, a connection dropped after an error |
//! | other methods get 405 with Allow | POST treated as GET, no `Allow` |
//! | keep-alive follows the version and Connection | closing after every response (the Python course's server), or never closing |
//! | pipelined requests are answered in order | "one `recv` is one request" |
//! | conditional requests get 304 in the RFC's order | `If-Modified-Since` winning over `If-None-Match`, no 304 at all |
//! | ranges get 206 or 416 | Range ignored, off-by-one ends, a stale `If-Range` honoured |
//! | directories redirect, index or list | no trailing-slash redirect, names pasted into HTML unescaped |
//! | malformed heads get their precise status | every error a 400, or the connection kept after garbage |
//! | smuggling is refused, a body is never a request | two Content-Lengths, CL with TE, a body parsed as the next request |
//! | hundreds of traversal paths never leave the root | `root + path` (the Python course's server), decoding twice, filtering strings |
//! | symlinks out of the root are 404 | following a link with `open`, checking only the string |
//!
//! The suite is shown to fail a deliberately broken server for each check (in the http-server
//! chapter's tests, which have an HTTP core to break).

mod checks;
pub mod client;
mod fixture;

use std::path::Path;
use std::time::Duration;

pub use client::Reply;
pub use fixture::{DATA_LEN, Fixture, HELLO, SECRET, SITE_INDEX, data_bin, traversal_payloads};

use crate::server::ServerUnderTest;
use crate::suite::{self, Report};
use crate::time::STEP;
use crate::{Error, Result};

/// Check name.
pub const GET_FILE: &str = "a file is served exactly, with its length, type and validators";
/// Check name.
pub const HEAD: &str = "HEAD answers GET's headers and no body";
/// Check name.
pub const NOT_FOUND: &str = "a missing file is 404 with an HTML page, and the connection goes on";
/// Check name.
pub const METHOD: &str = "other methods get 405 with Allow: GET, HEAD";
/// Check name.
pub const KEEP_ALIVE: &str = "keep-alive follows the version and the Connection field";
/// Check name.
pub const PIPELINE: &str = "pipelined requests in one write are answered in order";
/// Check name.
pub const CONDITIONAL: &str = "If-None-Match and If-Modified-Since give 304 in the RFC's order";
/// Check name.
pub const RANGE: &str = "single ranges give 206, past the end 416, a stale If-Range 200";
/// Check name.
pub const DIRECTORY: &str =
    "directories redirect to their slash, serve index.html or a safe listing";
/// Check name.
pub const MALFORMED: &str = "malformed heads get their precise status and the connection closes";
/// Check name.
pub const SMUGGLING: &str = "ambiguous framing is refused and a body is never read as a request";
/// Check name.
pub const TRAVERSAL: &str = "hundreds of traversal paths never leave the root";
/// Check name.
pub const SYMLINKS: &str = "a symlink inside the root is served, one leading out is 404";

/// The checks, in the order they run.
pub const CHECKS: [&str; 13] = [
    GET_FILE,
    HEAD,
    NOT_FOUND,
    METHOD,
    KEEP_ALIVE,
    PIPELINE,
    CONDITIONAL,
    RANGE,
    DIRECTORY,
    MALFORMED,
    SMUGGLING,
    TRAVERSAL,
    SYMLINKS,
];

/// One check: a running server, the fixture it serves and the step deadline.
type Check<S> = fn(&S, &Fixture, Duration) -> Result<()>;

/// Runs the suite against servers made by `start(root)` and panics with the report if any
/// check fails.
pub fn assert_conformance<S: ServerUnderTest>(start: impl Fn(&Path) -> Result<S>) {
    let report = run(STEP, start);
    assert!(report.passed(), "{report}");
}

/// Runs one check (one of [`CHECKS`]) and panics with the report if it fails: for a test per
/// check, so that each test depends only on what its check exercises.
pub fn assert_check<S: ServerUnderTest>(check: &str, start: impl Fn(&Path) -> Result<S>) {
    assert!(
        CHECKS.contains(&check),
        "{check:?} is not a check of the HTTP suite"
    );
    let report = run_only(STEP, &[check], start);
    assert!(report.passed(), "{report}");
}

/// Runs every check, each against a fresh server from `start(root)`, with `step` as the
/// deadline of each blocking step.
pub fn run<S: ServerUnderTest>(step: Duration, start: impl Fn(&Path) -> Result<S>) -> Report {
    run_only(step, &CHECKS, start)
}

/// Runs the checks named in `only`, as [`run`] does.
pub fn run_only<S: ServerUnderTest>(
    step: Duration,
    only: &[&str],
    start: impl Fn(&Path) -> Result<S>,
) -> Report {
    let all: [(&'static str, Check<S>); 13] = [
        (GET_FILE, checks::get_file),
        (HEAD, checks::head),
        (NOT_FOUND, checks::not_found),
        (METHOD, checks::method),
        (KEEP_ALIVE, checks::keep_alive),
        (PIPELINE, checks::pipeline),
        (CONDITIONAL, checks::conditional),
        (RANGE, checks::range),
        (DIRECTORY, checks::directory),
        (MALFORMED, checks::malformed),
        (SMUGGLING, checks::smuggling),
        (TRAVERSAL, checks::traversal),
        (SYMLINKS, checks::symlinks),
    ];
    let checks: Vec<(&'static str, Check<S>)> = all
        .into_iter()
        .filter(|(name, _)| only.contains(name))
        .collect();
    let fixture = match Fixture::create() {
        Ok(fixture) => fixture,
        Err(e) => {
            let start =
                |_: &Path| -> Result<S> { Err(Error::new("creating the served folder", &e)) };
            let root = Path::new("/nonexistent");
            return suite::run_checks("HTTP", &checks, |_, _| Ok(()), || start(root));
        }
    };
    let root = fixture.root();
    suite::run_checks(
        "HTTP",
        &checks,
        |server, check| check(server, &fixture, step),
        || start(&root),
    )
}
