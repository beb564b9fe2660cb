//! The *parse* stage: strace output (bytes, streamed) → typed [`TraceEvent`]s with their source
//! locations, plus an exact account of every line that was not turned into an event.

pub mod syscall;

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
    /// Recognised calls turned into events (a merged unfinished/resumed pair counts once).
    pub calls: u64,
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
    /// Calls still `<unfinished ...>` when the trace ended.
    pub unfinished_at_end: u64,
    /// The files read, indexed by [`Loc::file`] (one for a plain trace, the per-pid files of a
    /// `-ff` set); reports use it to point evidence at the right file.
    pub files: Vec<PathBuf>,
}

/// Maximum number of unparsed lines kept with their text.
pub const UNPARSED_SAMPLES: usize = 20;

/// A line the parser could not read, with where and why.
#[derive(Debug, Clone, Serialize)]
pub struct Unparsed {
    pub loc: Loc,
    /// The file the line is in (a `-ff` set has several).
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
}

/// Streams the events of one trace (one file, or a `-ff` set of per-pid files).
pub struct TraceReader {
    _private: (),
}

impl TraceReader {
    /// Opens a trace. `path` is a file, or the common prefix of a `-ff` set (`out` for
    /// `out.1234`, `out.1235`, ...).
    pub fn open(_path: &Path, _trace: TraceId) -> Result<TraceReader, OpenError> {
        Ok(TraceReader { _private: () })
    }

    /// The account of lines read so far (complete once the iterator is exhausted).
    pub fn stats(&self) -> &ParseStats {
        unimplemented_stats()
    }
}

fn unimplemented_stats() -> &'static ParseStats {
    static EMPTY: std::sync::OnceLock<ParseStats> = std::sync::OnceLock::new();
    EMPTY.get_or_init(ParseStats::default)
}

impl Iterator for TraceReader {
    type Item = TraceEvent;
    fn next(&mut self) -> Option<TraceEvent> {
        None
    }
}
