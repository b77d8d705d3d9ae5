//! Cutting a byte stream into bounded lines: a client cannot make the server hold more than
//! [`MAX_LINE`] bytes of an unfinished line.

use std::mem;

use super::MAX_LINE;

/// One line cut from a byte stream by [`LineBuffer`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// A line, without its `\n` or `\r\n`.
    Text(String),
    /// A line over [`MAX_LINE`] bytes; it is discarded up to its newline.
    TooLong,
    /// A line that is not UTF-8.
    NotUtf8,
}

/// Cuts a byte stream into lines of at most [`MAX_LINE`] bytes, holding at most that much.
#[derive(Debug, Default)]
pub struct LineBuffer {
    /// The start of a line whose newline has not arrived yet.
    partial: Vec<u8>,
    /// The current line was reported too long: drop bytes up to the next newline.
    discarding: bool,
}

impl LineBuffer {
    /// Adds `bytes`; returns the lines they complete.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Line> {
        let mut lines = Vec::new();
        let mut rest = bytes;
        while let Some(newline) = rest.iter().position(|&b| b == b'\n') {
            if mem::take(&mut self.discarding) {
                self.partial.clear(); // the end of the over-long line: drop it
            } else {
                self.partial.extend_from_slice(&rest[..newline]);
                lines.push(self.take_line());
            }
            rest = &rest[newline + 1..];
        }
        if !self.discarding {
            self.partial.extend_from_slice(rest);
            // + 1: a line of exactly MAX_LINE bytes may still be waiting for the \n of its \r\n.
            if self.partial.len() > MAX_LINE + 1 {
                self.partial.clear();
                self.discarding = true;
                lines.push(Line::TooLong);
            }
        }
        lines
    }

    /// At end of stream: the unfinished last line, if there is one.
    pub fn finish(&mut self) -> Option<Line> {
        if self.discarding || self.partial.is_empty() {
            return None;
        }
        Some(self.take_line())
    }

    fn take_line(&mut self) -> Line {
        let mut bytes = mem::take(&mut self.partial);
        if bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
        if bytes.len() > MAX_LINE {
            return Line::TooLong;
        }
        String::from_utf8(bytes).map_or(Line::NotUtf8, Line::Text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(line: &str) -> Line {
        Line::Text(line.to_string())
    }

    #[test]
    fn line_buffer_splits_lines_and_strips_cr() {
        let mut buffer = LineBuffer::default();
        assert_eq!(buffer.push(b"one\ntwo\r\nthr"), [text("one"), text("two")]);
        assert_eq!(buffer.push(b"ee\n\n"), [text("three"), text("")]);
        assert_eq!(buffer.finish(), None);
    }

    #[test]
    fn line_buffer_accepts_a_line_of_exactly_max_line_bytes() {
        let line = "x".repeat(MAX_LINE);
        let mut buffer = LineBuffer::default();
        assert_eq!(buffer.push(line.as_bytes()), []);
        assert_eq!(buffer.push(b"\r"), []);
        assert_eq!(buffer.push(b"\n"), [text(&line)]);
    }

    #[test]
    fn line_buffer_refuses_an_over_long_line_once_and_discards_to_its_newline() {
        let mut buffer = LineBuffer::default();
        assert_eq!(buffer.push(&[b'x'; MAX_LINE + 1]), []);
        assert_eq!(buffer.push(b"xx"), [Line::TooLong]);
        assert_eq!(
            buffer.push(&[b'y'; 3 * MAX_LINE]),
            [],
            "still discarding, nothing kept"
        );
        assert!(buffer.partial.is_empty());
        assert_eq!(buffer.push(b"yy\nnext\n"), [text("next")]);
        // A too-long line that arrives whole, newline included, is refused too.
        let mut whole = vec![b'z'; MAX_LINE + 1];
        whole.push(b'\n');
        assert_eq!(LineBuffer::default().push(&whole), [Line::TooLong]);
    }

    #[test]
    fn line_buffer_reports_non_utf8_and_returns_an_unfinished_last_line() {
        let mut buffer = LineBuffer::default();
        assert_eq!(buffer.push(b"\xff\xfe\nbye"), [Line::NotUtf8]);
        assert_eq!(buffer.finish(), Some(text("bye")));
        assert_eq!(buffer.finish(), None);
    }
}
