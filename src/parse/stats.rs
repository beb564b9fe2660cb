//! The account of a trace's lines: [`ParseStats`], with the lines that could not be parsed.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use crate::parse::{Outcome, SyscallName};
use crate::source::Loc;

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
    /// Calls on descriptors of any kind that are not network calls (read, write, close, fcntl,
    /// poll...; [`SyscallName::is_generic_descriptor_call`]), read or not. Every program makes
    /// some; a trace with calls and none of these was recorded with a filter.
    #[serde(skip)]
    pub generic_descriptor_calls: u64,
    /// `fcntl`, `fcntl64` and `ioctl` calls, read or not: the calls that set a descriptor's
    /// mode (O_NONBLOCK, FIONBIO).
    #[serde(skip)]
    pub mode_calls: u64,
    /// `getsockopt` and `setsockopt` calls: a trace with none, and no generic call either, was
    /// recorded with a filter that hides them (`-e trace=connect`).
    #[serde(skip)]
    pub option_calls: u64,
    /// Whether some call line (any call, modelled or not) returned success. Every program's
    /// first call (its `execve`) does, and the loader's `mmap`s; a trace whose calls all failed
    /// was recorded with `-Z` or `-e status=failed`, which print failed calls only.
    #[serde(skip)]
    pub successes: Successes,
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
    /// another call, so they never resumed), and calls left by exit before their arguments were
    /// all printed. A receive or readiness wait among them whose arguments can be read is still
    /// handed on as a call with the outcome `?` (it shows its program waiting for data); its
    /// line is counted here only.
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
    /// Calls whose result strace made up (`-e inject`, marked `(INJECTED)`): counted as calls,
    /// never handed on, since they did not run.
    pub injected: u64,
    /// The first of them.
    pub injected_samples: Vec<InjectedCall>,
    /// An I/O error that ended the reading of a file early (`FILE: reason`): the trace was not
    /// read whole, so the run is an input error, not a diagnosis.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_error: Option<String>,
}

/// What the call lines read so far returned, as far as success goes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Successes {
    /// No call line read yet (or counters made by hand).
    #[default]
    NoCallRead,
    /// Every call line read so far failed or never returned.
    NoneYet,
    /// Some call line returned success.
    Seen,
}

impl ParseStats {
    /// Notes a call line's return; only lines before the first success need to be looked at.
    pub fn note_return(&mut self, succeeded: bool) {
        self.successes = if succeeded {
            Successes::Seen
        } else {
            Successes::NoneYet
        };
    }

    /// Counts one recognised call of `name`.
    pub fn count_call(&mut self, name: SyscallName) {
        self.calls += 1;
        if name.is_generic_descriptor_call() {
            self.generic_descriptor_calls += 1;
        }
        if matches!(
            name,
            SyscallName::Fcntl | SyscallName::Fcntl64 | SyscallName::Ioctl
        ) {
            self.mode_calls += 1;
        }
        if matches!(name, SyscallName::Getsockopt | SyscallName::Setsockopt) {
            self.option_calls += 1;
        }
    }

    /// Counts a call whose result strace injected (see [`ParseStats::injected`]).
    pub fn note_injected(&mut self, injected: InjectedCall) {
        self.count_call(injected.call);
        self.injected += 1;
        if self.injected_samples.len() < INJECTED_SAMPLES {
            self.injected_samples.push(injected);
        }
    }

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

/// Maximum number of calls with injected results kept with their place.
pub const INJECTED_SAMPLES: usize = 20;

/// A call whose result strace injected (`connect(...) = -1 ECONNREFUSED (...) (INJECTED)`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InjectedCall {
    pub loc: Loc,
    pub call: SyscallName,
    /// The result the program was given.
    pub outcome: Outcome,
}

/// Maximum number of unparsed lines kept with their text.
pub const UNPARSED_SAMPLES: usize = 20;

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
