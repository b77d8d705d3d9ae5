//! What an example's `main` returns, so a failure reads as a sentence, not a struct dump.
//!
//! `fn main() -> io::Result<()>` prints an error with `{:?}`:
//! `Error: Os { code: 98, kind: AddrInUse, message: "Address already in use" }` — which address?
//! what now? Every example in the workspace has the same `main` instead:
//!
//! ```no_run
//! use labkit::{Context, Failure};
//!
//! fn main() -> Result<(), Failure> {
//!     let text = std::fs::read_to_string("notes.txt").context("reading notes.txt")?;
//!     println!("{} lines", text.lines().count());
//!     Ok(())
//! }
//! ```
//!
//! which prints `Error: reading notes.txt: No such file or directory (os error 2)` and exits
//! with status 1. Any error converts with `?`; [`Context::context`] says what was being done;
//! [`Failure::new`] is a sentence of the program's own.

use std::fmt;

/// An error that `main` prints as its message (`Debug` shows the same text as `Display`).
pub struct Failure(String);

impl Failure {
    /// A failure that says `message`.
    pub fn new(message: impl Into<String>) -> Failure {
        Failure(message.into())
    }
}

impl<E: std::error::Error> From<E> for Failure {
    /// The error's message, followed by its sources' (`outer: inner: innermost`).
    fn from(error: E) -> Failure {
        let mut message = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            let text = cause.to_string();
            if !message.contains(&text) {
                message = format!("{message}: {text}");
            }
            source = cause.source();
        }
        Failure(message)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Says what was being done when an error happened: `reading notes.txt: No such file…`.
pub trait Context<T> {
    /// The error, prefixed with `what` and a colon.
    fn context(self, what: impl fmt::Display) -> Result<T, Failure>;
}

impl<T, E: Into<Failure>> Context<T> for Result<T, E> {
    fn context(self, what: impl fmt::Display) -> Result<T, Failure> {
        self.map_err(|e| Failure(format!("{what}: {}", e.into())))
    }
}

#[cfg(test)]
mod tests {
    use super::{Context, Failure};
    use std::io;

    #[test]
    fn an_io_error_prints_as_its_message_with_what_was_being_done() {
        let result: Result<(), io::Error> = Err(io::Error::from_raw_os_error(2));
        let failure = result.context("reading notes.txt").unwrap_err();
        assert_eq!(
            format!("{failure:?}"),
            "reading notes.txt: No such file or directory (os error 2)"
        );
        assert_eq!(failure.to_string(), format!("{failure:?}"));
    }

    #[test]
    fn a_failure_of_our_own_is_its_sentence() {
        let failure = Failure::new("the server refused: room full");
        assert_eq!(format!("{failure:?}"), "the server refused: room full");
        let wrapped: Result<(), Failure> = Err(failure);
        assert_eq!(
            format!("{:?}", wrapped.context("joining").unwrap_err()),
            "joining: the server refused: room full"
        );
    }
}
