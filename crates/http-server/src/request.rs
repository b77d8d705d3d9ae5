//! The request-head parser: bytes in, and out comes a request head, "need more", or an error
//! that names the status to answer with.
//!
//! **What.** [`HeadParser`] reads a request line and header fields (RFC 9112 §2–5) one byte at a
//! time and keeps its place between calls: feed it whatever `read` returned, however little, and
//! it either asks for more, hands back a [`RequestHead`] with the count of bytes it used (the rest
//! belong to a body or to the next pipelined request), or fails with a [`ParseError`].
//!
//! **Why by hand.** A head parser is where a server meets hostile input first, so every rule is
//! here to read: what a token may contain, where the limits are and which status each broken
//! rule earns — 400 for bad syntax, 414 for a target over [`MAX_TARGET`], 431 for a head over
//! [`MAX_HEAD`] or more than [`MAX_FIELDS`] fields, 505 for a version other than 1.x. What the
//! fields *mean* for framing (Host, Content-Length, Transfer-Encoding) is checked once the head
//! is complete, in [`crate::framing`].
//!
//! **The pitfall.** A parser that looks at "what arrived so far" as if it were the request —
//! the Python course's web server assumed one `recv` is one request. Here every decision depends only on the
//! bytes seen, in order, so the verdict is the same however the stream is split (a property test
//! feeds random splits and checks exactly that). A limit is checked as bytes arrive, not when the
//! line ends, so a client that never ends its line cannot grow our memory past the limit.

use crate::framing;
pub use crate::head::{Field, ParseError, RequestHead, Version, is_tchar, trim_whitespace};
use crate::status::Status;

/// The longest request target accepted (over it: 414).
pub const MAX_TARGET: usize = 8 * 1024;
/// The largest request head accepted, request line and fields together (over it: 431).
pub const MAX_HEAD: usize = 16 * 1024;
/// The most header fields accepted (over it: 431).
pub const MAX_FIELDS: usize = 100;
/// The longest method accepted (methods are short words; a long one is garbage).
pub const MAX_METHOD: usize = 32;
/// `HTTP/x.y` is eight bytes.
const VERSION_LEN: usize = 8;

fn fail<T>(status: Status, reason: &'static str) -> Result<T, ParseError> {
    Err(ParseError { status, reason })
}

/// What a call to [`HeadParser::feed`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// Every byte was used and the head is not complete yet.
    NeedMore,
    /// The head is complete; `used` bytes of this call's input belong to it.
    Complete {
        /// The head.
        head: RequestHead,
        /// How many bytes of the input given to this call were part of the head.
        used: usize,
    },
}

/// Where the parser is within the head. Each state names the part being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the method; empty lines are skipped here (RFC 9112 §2.2).
    Start,
    /// Saw CR before the method: only the LF of an empty line may follow (a bare CR is not
    /// an empty line).
    StartLineFeed,
    /// Reading the method, up to a space.
    Method,
    /// Reading the target, up to a space.
    Target,
    /// Reading `HTTP/x.y`, up to the end of the line.
    Version,
    /// Saw CR at the end of the request line or a field; the LF must follow.
    LineFeed,
    /// At the start of a line: a field name, or the empty line that ends the head.
    FieldStart,
    /// Reading a field name, up to `:`.
    Name,
    /// Reading a field value, up to the end of the line.
    Value,
    /// Saw CR on the empty line; the LF that ends the head must follow.
    FinalLineFeed,
}

/// An incremental request-head parser (see the module docs). One per request: after
/// `Complete` or an error, make a new one.
#[derive(Debug)]
pub struct HeadParser {
    state: State,
    /// Bytes of the head seen so far (leading empty lines included), for [`MAX_HEAD`].
    seen: usize,
    method: String,
    target: String,
    version: Vec<u8>,
    name: String,
    value: Vec<u8>,
    fields: Vec<Field>,
}

impl Default for HeadParser {
    fn default() -> Self {
        HeadParser::new()
    }
}

impl HeadParser {
    /// A parser at the start of a request.
    pub fn new() -> Self {
        HeadParser {
            state: State::Start,
            seen: 0,
            method: String::new(),
            target: String::new(),
            version: Vec::new(),
            name: String::new(),
            value: Vec::new(),
            fields: Vec::new(),
        }
    }

    /// True once any byte of a head has arrived (a request is under way, not an idle pause).
    pub fn started(&self) -> bool {
        self.seen > 0
    }

    /// Feeds the next bytes of the stream.
    pub fn feed(&mut self, input: &[u8]) -> Result<Progress, ParseError> {
        for (i, &byte) in input.iter().enumerate() {
            self.seen += 1;
            if self.seen > MAX_HEAD {
                return fail(
                    Status::HeaderFieldsTooLarge,
                    "the request head is over 16 KiB",
                );
            }
            if self.step(byte)? {
                let head = self.finish()?;
                return Ok(Progress::Complete { head, used: i + 1 });
            }
        }
        Ok(Progress::NeedMore)
    }

    /// Takes one byte; true when it ended the head.
    fn step(&mut self, byte: u8) -> Result<bool, ParseError> {
        match self.state {
            State::Start => match byte {
                b'\r' => self.state = State::StartLineFeed,
                b'\n' => {}
                _ => {
                    self.state = State::Method;
                    return self.step(byte);
                }
            },
            State::StartLineFeed => {
                if byte != b'\n' {
                    return fail(Status::BadRequest, "a CR not followed by LF");
                }
                self.state = State::Start;
            }
            State::Method => self.method_byte(byte)?,
            State::Target => self.target_byte(byte)?,
            State::Version => self.version_byte(byte)?,
            State::LineFeed => {
                if byte != b'\n' {
                    return fail(Status::BadRequest, "a CR not followed by LF");
                }
                self.state = State::FieldStart;
            }
            State::FieldStart => match byte {
                b'\r' => self.state = State::FinalLineFeed,
                b'\n' => return Ok(true),
                b' ' | b'\t' => {
                    return fail(Status::BadRequest, "a folded header line (obs-fold)");
                }
                _ => {
                    if self.fields.len() == MAX_FIELDS {
                        return fail(Status::HeaderFieldsTooLarge, "more than 100 header fields");
                    }
                    self.state = State::Name;
                    return self.step(byte);
                }
            },
            State::Name => self.name_byte(byte)?,
            State::Value => self.value_byte(byte)?,
            State::FinalLineFeed => {
                if byte != b'\n' {
                    return fail(Status::BadRequest, "a CR not followed by LF");
                }
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn method_byte(&mut self, byte: u8) -> Result<(), ParseError> {
        if byte == b' ' {
            self.state = State::Target;
        } else if !is_tchar(byte) {
            return fail(Status::BadRequest, "the method is not a token");
        } else if self.method.len() == MAX_METHOD {
            return fail(Status::BadRequest, "the method is too long");
        } else {
            self.method.push(byte as char);
        }
        Ok(())
    }

    fn target_byte(&mut self, byte: u8) -> Result<(), ParseError> {
        if byte == b' ' {
            if self.target.is_empty() {
                return fail(Status::BadRequest, "the request target is empty");
            }
            self.state = State::Version;
        } else if !byte.is_ascii_graphic() {
            return fail(
                Status::BadRequest,
                "the request target holds a byte it may not",
            );
        } else if self.target.len() == MAX_TARGET {
            return fail(Status::UriTooLong, "the request target is over 8 KiB");
        } else {
            self.target.push(byte as char);
        }
        Ok(())
    }

    fn version_byte(&mut self, byte: u8) -> Result<(), ParseError> {
        match byte {
            b'\r' | b'\n' => {
                check_version(&self.version)?;
                self.state = if byte == b'\r' {
                    State::LineFeed
                } else {
                    State::FieldStart
                };
            }
            _ if self.version.len() == VERSION_LEN => {
                return fail(
                    Status::BadRequest,
                    "the request line does not end after the version",
                );
            }
            _ => self.version.push(byte),
        }
        Ok(())
    }

    fn name_byte(&mut self, byte: u8) -> Result<(), ParseError> {
        if byte == b':' {
            if self.name.is_empty() {
                return fail(Status::BadRequest, "a header field with no name");
            }
            self.state = State::Value;
        } else if is_tchar(byte) {
            self.name.push(byte as char);
        } else if byte == b' ' || byte == b'\t' {
            return fail(
                Status::BadRequest,
                "whitespace between a field name and its colon",
            );
        } else {
            return fail(Status::BadRequest, "a header field name is not a token");
        }
        Ok(())
    }

    fn value_byte(&mut self, byte: u8) -> Result<(), ParseError> {
        match byte {
            b'\r' | b'\n' => {
                let value = trim_whitespace(&self.value).to_vec();
                self.fields.push(Field {
                    name: std::mem::take(&mut self.name),
                    value,
                });
                self.value.clear();
                self.state = if byte == b'\r' {
                    State::LineFeed
                } else {
                    State::FieldStart
                };
            }
            b'\t' | b' '..=b'~' | 0x80..=0xff => self.value.push(byte),
            _ => {
                return fail(
                    Status::BadRequest,
                    "a header value holds a control character",
                );
            }
        }
        Ok(())
    }

    /// The head is complete: check what the fields mean for framing and build the head.
    fn finish(&mut self) -> Result<RequestHead, ParseError> {
        let version = check_version(&self.version)?;
        let fields = std::mem::take(&mut self.fields);
        let framing = framing::check(version, &fields)?;
        Ok(RequestHead {
            method: std::mem::take(&mut self.method),
            target: std::mem::take(&mut self.target),
            version,
            fields,
            body: framing.body,
            keep_alive: framing.keep_alive,
        })
    }
}

/// Parses a whole head at once: `Ok(None)` when `bytes` holds no complete head yet.
pub fn parse(bytes: &[u8]) -> Result<Option<(RequestHead, usize)>, ParseError> {
    match HeadParser::new().feed(bytes)? {
        Progress::NeedMore => Ok(None),
        Progress::Complete { head, used } => Ok(Some((head, used))),
    }
}

/// `HTTP/1.0` and `HTTP/1.1` (and later 1.x, read as 1.1); other majors are 505.
fn check_version(version: &[u8]) -> Result<Version, ParseError> {
    match version {
        [b'H', b'T', b'T', b'P', b'/', major, b'.', minor]
            if major.is_ascii_digit() && minor.is_ascii_digit() =>
        {
            match (major, minor) {
                (b'1', b'0') => Ok(Version::Http10),
                (b'1', _) => Ok(Version::Http11),
                _ => fail(Status::VersionNotSupported, "only HTTP/1.x is spoken here"),
            }
        }
        _ => fail(
            Status::BadRequest,
            "the request line does not end in HTTP/x.y",
        ),
    }
}
