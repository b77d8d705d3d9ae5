//! A test never runs a stale example: one whose binary is older than the sources is rebuilt
//! before it starts, whatever form of `cargo test` built (or did not build) it.
//!
//! Its own test binary, so its one test is the first in the process to ask for `harness_child`
//! (the freshness check runs once per example per test binary).

use std::fs::File;
use std::time::{Duration, SystemTime};

use harness::ExampleProcess;
use harness::build::BuildDir;

#[test]
fn an_example_older_than_the_sources_is_rebuilt_before_it_runs() {
    let exe = std::env::current_exe().unwrap();
    let build = BuildDir::of_test_binary(&exe).unwrap();
    let binary = build.profile_path().join("examples").join("harness_child");
    // What an earlier build would leave behind: a binary from before the last edit (here the
    // binary is made old instead of the sources new, so no file of the repository changes).
    let long_ago = SystemTime::UNIX_EPOCH + Duration::from_secs(86_400);
    if let Ok(file) = File::options().write(true).open(&binary) {
        file.set_modified(long_ago).unwrap();
    }

    let path = harness::example_path("harness_child").unwrap();

    assert_eq!(path, binary);
    let modified = path.metadata().unwrap().modified().unwrap();
    assert!(
        modified > long_ago,
        "{} was not rebuilt: it still has the time of the stale binary",
        path.display()
    );
    let mut child = ExampleProcess::spawn("harness_child", &["echo-stdin"]).unwrap();
    child.close_stdin();
    child.expect_success().unwrap();
}
