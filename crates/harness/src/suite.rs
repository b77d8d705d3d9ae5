//! What every conformance suite shares: named checks, each against a fresh server, and a report
//! that names every failed check.

use std::fmt;
use std::time::{Duration, Instant};

use crate::Result;
use crate::server::ServerUnderTest;

/// How one check went.
#[derive(Debug)]
pub struct CheckResult {
    /// The check's name (one of the suite's `CHECKS`).
    pub name: &'static str,
    /// `Ok` or the failure.
    pub outcome: Result<()>,
    /// How long the check took.
    pub elapsed: Duration,
}

/// How every check of a suite went.
#[derive(Debug)]
pub struct Report {
    /// The suite's name ("echo", "HTTP").
    pub suite: &'static str,
    /// One entry per check, in the suite's `CHECKS` order.
    pub results: Vec<CheckResult>,
}

impl Report {
    /// The names of the checks that failed.
    pub fn failed(&self) -> Vec<&'static str> {
        self.results
            .iter()
            .filter(|r| r.outcome.is_err())
            .map(|r| r.name)
            .collect()
    }

    /// True when every check passed.
    pub fn passed(&self) -> bool {
        self.failed().is_empty()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let passed = self.results.iter().filter(|r| r.outcome.is_ok()).count();
        writeln!(
            f,
            "{} conformance: {passed} of {} checks passed",
            self.suite,
            self.results.len()
        )?;
        for result in &self.results {
            match &result.outcome {
                Ok(()) => writeln!(f, "  ok    {} ({:.0?})", result.name, result.elapsed)?,
                Err(e) => writeln!(
                    f,
                    "  FAIL  {} ({:.0?})\n        {}",
                    result.name,
                    result.elapsed,
                    e.to_string().replace('\n', "\n        ")
                )?,
            }
        }
        Ok(())
    }
}

/// Runs each of `checks` through `call` against a fresh server from `start`, stopping the
/// server after each; a failure carries the server's diagnostics and any failure to stop.
pub(crate) fn run_checks<S: ServerUnderTest, C: Copy>(
    suite: &'static str,
    checks: &[(&'static str, C)],
    call: impl Fn(&S, C) -> Result<()>,
    start: impl Fn() -> Result<S>,
) -> Report {
    let results = checks
        .iter()
        .map(|&(name, check)| {
            let began = Instant::now();
            let outcome = start().and_then(|server| {
                let checked = call(&server, check).map_err(|e| {
                    let notes = server.diagnostics();
                    if notes.trim().is_empty() {
                        e
                    } else {
                        e.context(notes)
                    }
                });
                match (checked, server.shut_down()) {
                    (Ok(()), stopped) => stopped,
                    (Err(e), Ok(())) => Err(e),
                    (Err(e), Err(stop)) => Err(e.context(format!("and then: {stop}"))),
                }
            });
            CheckResult {
                name,
                outcome,
                elapsed: began.elapsed(),
            }
        })
        .collect();
    Report { suite, results }
}
