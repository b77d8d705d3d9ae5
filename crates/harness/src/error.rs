//! The one error type of the harness.
//!
//! Every failure says *what was awaited*, *how long was waited* and whatever context helps a
//! reader fix it (the child's stderr, bytes received so far). `Debug` prints the same text as
//! `Display`, so a test that returns `harness::Result<()>` or calls `.unwrap()` shows a readable
//! message instead of a struct dump.

use std::fmt;
use std::time::Duration;

/// A harness failure: what was awaited, how long, why it failed, and extra context.
#[derive(Clone)]
pub struct Error {
    what: String,
    waited: Option<Duration>,
    cause: String,
    context: Vec<String>,
}

/// Result alias used throughout the harness.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// A failure while doing `what`, for the given `cause`.
    pub fn new(what: impl Into<String>, cause: impl fmt::Display) -> Self {
        Error {
            what: what.into(),
            waited: None,
            cause: cause.to_string(),
            context: Vec::new(),
        }
    }

    /// A deadline that passed while awaiting `what`.
    pub fn timeout(what: impl Into<String>, waited: Duration) -> Self {
        Error {
            what: what.into(),
            waited: Some(waited),
            cause: "deadline passed".into(),
            context: Vec::new(),
        }
    }

    /// Records how long was waited before the failure.
    pub fn waited(mut self, waited: Duration) -> Self {
        self.waited = Some(waited);
        self
    }

    /// Adds a line of context (for example the child's stderr).
    pub fn context(mut self, line: impl Into<String>) -> Self {
        self.context.push(line.into());
        self
    }

    /// True when the failure was a deadline passing.
    pub fn is_timeout(&self) -> bool {
        self.cause == "deadline passed"
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.what, self.cause)?;
        if let Some(waited) = self.waited {
            write!(f, " (waited {:.2?})", waited)?;
        }
        for line in &self.context {
            write!(f, "\n  {}", line.replace('\n', "\n  "))?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for Error {}
