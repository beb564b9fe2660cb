//! The parser's errors: which part of a line could not be read, and where; and why a trace
//! could not be opened at all.

use std::fmt;
use std::path::PathBuf;

/// The part of a line (or of a call's arguments) that failed to parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The physical line exceeded the length cap.
    LineTooLong,
    /// The line is not valid text where text is required (e.g. a call name).
    Pid,
    Timestamp,
    /// The call name before `(`.
    Name,
    /// The argument list between `(` and `)`.
    Arguments,
    /// The return value after `=`.
    ReturnValue,
    /// A `<... name resumed>` line: its name or text.
    Resumed,
    /// A `<... name resumed>` line with no `<unfinished ...>` call before it.
    ResumedWithoutStart,
    /// A required argument is missing.
    MissingArgument,
    Fd,
    Number,
    String,
    SocketAddress,
    Flags,
    Struct,
    Array,
    /// `+++ ... +++` / `--- ... ---` lines.
    ProcessEvent,
}

impl Part {
    fn describe(self) -> &'static str {
        match self {
            Part::LineTooLong => "line longer than the length limit",
            Part::Pid => "pid",
            Part::Timestamp => "timestamp",
            Part::Name => "call name",
            Part::Arguments => "argument list",
            Part::ReturnValue => "return value",
            Part::Resumed => "resumed call",
            Part::ResumedWithoutStart => "resumed call without its unfinished start",
            Part::MissingArgument => "missing argument",
            Part::Fd => "file descriptor",
            Part::Number => "number",
            Part::String => "string",
            Part::SocketAddress => "socket address",
            Part::Flags => "flags",
            Part::Struct => "structure",
            Part::Array => "array",
            Part::ProcessEvent => "process event",
        }
    }
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// A parse failure: the part that failed and the address of the bytes where it was noticed
/// (turned into a column by [`ParseError::column_in`] against the line those bytes belong to).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseError {
    pub part: Part,
    addr: usize,
}

impl ParseError {
    /// An error about `part`, noticed at the start of `at` (a sub-slice of the line).
    pub fn at(part: Part, at: &[u8]) -> Self {
        ParseError {
            part,
            addr: at.as_ptr() as usize,
        }
    }

    /// 1-based byte column within `line`; 1 when `at` was not inside `line`.
    pub fn column_in(&self, line: &[u8]) -> usize {
        let start = line.as_ptr() as usize;
        match self.addr.checked_sub(start) {
            Some(offset) if offset <= line.len() => offset + 1,
            _ => 1,
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot read the {}", self.part)
    }
}

pub type Result<T> = std::result::Result<T, ParseError>;

/// Errors that stop a trace from being read at all.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("{path}: cannot read trace: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: is a directory, not a trace file")]
    Directory { path: PathBuf },
    #[error(transparent)]
    Input(#[from] crate::input::InputError),
}
