//! The *parse* stage: strace output (bytes, streamed) → typed [`TraceEvent`]s with their source
//! locations, plus an exact account of every line that was not turned into an event.
//!
//! Reading is streamed (see [`lines`]): a line is framed ([`frame`]: pid, timestamp, name,
//! arguments, return value, duration), unrecognised call names are counted and skipped before
//! anything else is read, and recognised calls are converted by `typed` using the scanner in
//! [`value`]. `<unfinished ...>` halves wait per pid for their `<... resumed>` line. A `-ff`
//! set of per-pid files is merged into one stream by [`ffset`].
//!
//! Accepted forms: strace 4.x–6.x output with or without `-f`/`-ff`, pid columns `1234  ` and
//! `[pid 1234] `, `-t`/`-tt`/`-ttt`/`-r`, `-T`, `-i`, `-y`/`-yy`, `-x`/`-xx`, `-X verbose`, any `-s`.
//!
//! Choices worth knowing:
//! - A merged call carries the location and time of its `<unfinished ...>` line (where it was
//!   issued) and the duration printed on its `<... resumed>` line.
//! - Lines printed without a pid column while other lines have one (strace's own stream prints
//!   `[pid N]` only while several processes live) get the pid of the process that was alone:
//!   the first pid seen that is not one of its children, or the only one still alive.
//! - `-r` deltas are added up into seconds since the trace started; `-t` times of day continue
//!   past midnight.
//! - Every physical line lands in exactly one [`ParseStats`] counter:
//!   `lines == calls + merged_unfinished + process_events + Σ ignored + skipped + unparsed +
//!   unfinished_at_end` (a merged pair that fails to parse counts both lines as unparsed).
//! - Read through [`TraceReader::next_with`], a call on a descriptor the [`SocketOracle`] rules
//!   out as a socket is counted in `calls` and `calls_not_read` without its arguments being read
//!   (the fold stage drops such calls whatever they say).
//! - Payload escapes are decoded when the bytes are first asked for ([`Payload::shown`]); an
//!   escape strace never prints is kept as its literal text.

mod address;
pub mod error;
pub mod ffset;
mod file;
pub mod frame;
pub mod lines;
mod merge;
mod names;
pub mod outcome;
pub mod strings;
mod swar;
pub mod syscall;
mod typed;
pub mod value;

pub use error::{ParseError, Part};
pub use syscall::*;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::source::{Loc, TraceId};

/// How every physical line of a trace was accounted for.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ParseStats {
    pub bytes: u64,
    pub lines: u64,
    /// Recognised calls (a merged unfinished/resumed pair counts once): turned into events, or
    /// counted in `calls_not_read`.
    pub calls: u64,
    /// Calls on a descriptor the fold stage knew was not a socket when the call was read:
    /// counted, their arguments not read (most calls of a trace are on files).
    pub calls_not_read: u64,
    /// Calls assembled from an `<unfinished ...>` line and its `<... resumed>` line.
    pub merged_unfinished: u64,
    /// Exit, kill and signal lines turned into events.
    pub process_events: u64,
    /// Calls that are not network-relevant, by name.
    pub ignored: BTreeMap<String, u64>,
    /// Lines that carry nothing to parse (`Process N attached`, blank lines...).
    pub skipped: u64,
    /// Lines that could not be parsed.
    pub unparsed: u64,
    /// The first few unparsed lines, for the report.
    pub first_unparsed: Vec<Unparsed>,
    /// Calls still `<unfinished ...>` when the trace ended (or when the same pid started
    /// another call, so they never resumed).
    pub unfinished_at_end: u64,
    /// The files read, indexed by [`Loc::file`] (one for a plain trace, the per-pid files of a
    /// `-ff` set); reports use it to point evidence at the right file.
    #[serde(serialize_with = "lossy_paths")]
    pub files: Vec<PathBuf>,
    /// Children (processes or threads) created in a trace recorded without `-f`: none of their
    /// calls is in the trace.
    pub untraced_children: u64,
    /// The first of them: child pid and the spawning call's place.
    pub untraced_child_samples: Vec<(u32, Loc)>,
    /// An I/O error that ended the reading of a file early (`FILE: reason`): the trace was not
    /// read whole, so the run is an input error, not a diagnosis.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_error: Option<String>,
}

impl ParseStats {
    /// Total of the per-kind counters; equals `lines` once a trace is fully read.
    pub fn accounted_lines(&self) -> u64 {
        self.calls
            + self.merged_unfinished
            + self.process_events
            + self.ignored.values().sum::<u64>()
            + self.skipped
            + self.unparsed
            + self.unfinished_at_end
    }
}

/// Paths are shown as text even when they are not UTF-8 (JSON has no other way to hold them).
fn lossy_path<S: serde::Serializer>(path: &std::path::Path, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&path.to_string_lossy())
}

fn lossy_paths<S: serde::Serializer>(paths: &[PathBuf], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(paths.iter().map(|p| p.to_string_lossy()))
}

/// Longest trace-line text kept for a report (evidence, unparsed samples), in characters.
pub const EXCERPT_CHARS: usize = 200;

/// `text` cut to [`EXCERPT_CHARS`] characters, the last of them `…` when it was cut.
pub fn excerpt(text: &str) -> String {
    if text.chars().count() <= EXCERPT_CHARS {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(EXCERPT_CHARS - 1).collect();
    cut.push('…');
    cut
}

/// Maximum number of untraced children kept with their place.
pub const UNTRACED_CHILD_SAMPLES: usize = 20;

/// Maximum number of unparsed lines kept with their text.
pub const UNPARSED_SAMPLES: usize = 20;

/// What the consumer of the events knows of descriptors at the point the parser has reached.
/// A call on a descriptor that cannot be a socket is dropped by the fold stage whatever its
/// arguments say, so the parser counts it without reading them.
pub trait SocketOracle {
    /// Can `fd` of process `pid` be a socket now? `decoration` is the text `-y` printed after
    /// the number (inside `<...>`), when it did.
    fn may_be_socket(&self, pid: u32, fd: Fd, decoration: Option<&[u8]>) -> bool;
}

/// A line the parser could not read, with where and why.
#[derive(Debug, Clone, Serialize)]
pub struct Unparsed {
    pub loc: Loc,
    /// The file the line is in (a `-ff` set has several).
    #[serde(serialize_with = "lossy_path")]
    pub path: PathBuf,
    /// 1-based byte column where parsing failed.
    pub column: usize,
    pub reason: String,
    /// The line, cut to a readable length.
    pub text: String,
}

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

/// Streams the events of one trace (one file, or a `-ff` set of per-pid files).
pub struct TraceReader {
    merger: ffset::Merger,
    stats: ParseStats,
}

impl TraceReader {
    /// Opens a trace. `path` is a file, or the common prefix of a `-ff` set (`out` for
    /// `out.1234`, `out.1235`, ...), or one member of such a set.
    pub fn open(path: &Path, trace: TraceId) -> Result<TraceReader, OpenError> {
        let open = |path: &Path| crate::input::open(path).map_err(OpenError::from);
        let (files, pids) = match ffset::layout(path)? {
            ffset::Layout::Single(path) => {
                let file = open(&path)?;
                (
                    vec![file::FileParser::new(file, path, trace, 0, None)],
                    vec![0],
                )
            }
            ffset::Layout::PerPid(members) => {
                let mut files = Vec::with_capacity(members.len());
                let mut pids = Vec::with_capacity(members.len());
                for (index, member) in members.into_iter().enumerate() {
                    let file = open(&member.path)?;
                    let index = u32::try_from(index).unwrap_or(u32::MAX);
                    files.push(file::FileParser::new(
                        file,
                        member.path,
                        trace,
                        index,
                        Some(member.pid),
                    ));
                    pids.push(member.pid);
                }
                (files, pids)
            }
        };
        Ok(TraceReader {
            merger: ffset::Merger::new(files, pids),
            stats: ParseStats::default(),
        })
    }

    /// The account of lines read so far. Complete once the iterator is exhausted; before that,
    /// `ignored` is updated in batches and pending unfinished calls are not yet counted.
    pub fn stats(&self) -> &ParseStats {
        &self.stats
    }
}

impl TraceReader {
    /// The next event, counting calls on descriptors `oracle` rules out as sockets without
    /// reading them. Only a single trace file is read this way: the files of a `-ff` set are
    /// merged, and an event waiting in another file could still create the descriptor.
    pub fn next_with(&mut self, oracle: &dyn SocketOracle) -> Option<TraceEvent> {
        self.merger.next_event(&mut self.stats, Some(oracle))
    }

    /// The last call counted without being read (where, by whom, when), if any.
    pub fn last_unread(&self) -> Option<(Loc, u32, Option<f64>)> {
        self.merger.last_unread()
    }
}

impl Iterator for TraceReader {
    type Item = TraceEvent;
    fn next(&mut self) -> Option<TraceEvent> {
        self.merger.next_event(&mut self.stats, None)
    }
}
