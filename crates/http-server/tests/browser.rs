//! A real browser as a client: headless Chromium loads a page from the `http_server` example,
//! and the example's access log shows it fetched the page, its style sheet and its image —
//! proof that the browser loaded the subresources through this server. Needs `chromium`
//! (`apt-get install chromium`; `.ci/run` installs it).

mod common;

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use harness::Deadline;
use harness::time::{STEP, scaled};
use http_server::Model;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

/// The page and what it loads, as the access log names them.
const LOADED: [&str; 3] = ["GET / ", "GET /style.css ", "GET /logo.png "];

#[test]
fn browser_chromium_loads_the_page_its_css_and_its_image() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/browser");
    // The thread-per-connection model: no other chapter's exercise on the path.
    let mut server = common::start_example(Model::Threads, &fixture, &[]).unwrap();
    let profile = tempfile::tempdir().unwrap();
    let shot = profile.path().join("shot.png");
    let mut chromium = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--window-size=480,240",
            &format!(
                "--user-data-dir={}",
                profile.path().join("profile").display()
            ),
            &format!("--screenshot={}", shot.display()),
            &format!("http://{}/", server.addr()),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0) // its helpers too are ended if it overstays
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run chromium (apt-get install chromium): {e}"));
    let deadline = Deadline::after(STEP * 3, "headless chromium taking its screenshot");
    let exited = deadline.poll(|| chromium.try_wait().unwrap());
    if exited.is_err() {
        let _ = killpg(Pid::from_raw(chromium.id() as i32), Signal::SIGKILL);
        let _ = chromium.wait();
    }
    let status = exited.unwrap();
    assert!(status.success(), "chromium: {status}");
    // The screenshot is the docs' picture, not the proof: on a loaded machine headless Chromium
    // has exited 0 without writing it. The proof is the access log below.
    if let Ok(png) = std::fs::read(&shot) {
        assert!(
            png.starts_with(b"\x89PNG\r\n\x1a\n"),
            "the screenshot is a PNG"
        );
    }

    // The browser has exited: every request it made is answered, and logged.
    let mut missing: Vec<&str> = LOADED.to_vec();
    while !missing.is_empty() {
        let line = server
            .read_line_within(scaled(Duration::from_secs(5)))
            .unwrap_or_else(|e| panic!("waiting for the access log of {missing:?}: {e}"));
        missing.retain(|request| !(line.contains(request) && line.contains("HTTP/1.1\" 200 ")));
    }
    server.interrupt_and_expect_clean_exit().unwrap();
}
