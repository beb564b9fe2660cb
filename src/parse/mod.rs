//! The *parse* stage: strace output (bytes, streamed) → typed [`TraceEvent`]s with their source
//! locations, plus an exact account of every line that was not turned into an event.
//!
//! Reading is streamed (see [`lines`]): a line is framed ([`frame`]: pid, timestamp, name,
//! arguments, return value, duration), unrecognised call names are counted and skipped before
//! anything else is read, and recognised calls are converted by `typed` from the token tree of
//! their arguments ([`tokens`]: read once, fields handed out without scanning again), or with
//! the scanner in [`value`] for text whose brackets do not match. `<unfinished ...>` halves wait
//! per pid for their `<... resumed>` line. A `-ff` set of per-pid files is merged into one stream
//! by [`ffset`].
//!
//! Accepted forms: strace 4.x–6.x output with or without `-f`/`-ff`, pid columns `1234  ` and
//! `[pid 1234] ` (with `-Y` command names: `1234<curl> `), `-t`/`-tt`/`-ttt`/`-r`, `-T`, `-i`,
//! `-n` (call numbers), `-y`/`-yy`, `-x`/`-xx`, `-X raw`/`-X verbose` (numbers for constants,
//! addresses as bytes), any `-s`, and `-p` attachments (a call in progress when strace detached
//! ends with `<detached ...>` and is read as one still unfinished at the end). What strace adds
//! between calls is skipped and counted: `-k` stacks, `-e read=`/`-e write=` dumps, and the call
//! count table `-c`/`-C` print at the end.
//!
//! Choices worth knowing:
//! - A merged call carries the location and time of its `<unfinished ...>` line (where it was
//!   issued) and the duration printed on its `<... resumed>` line; without `-T`, the time from
//!   its first line's stamp to its resumed line's (strace stamps each when it prints it: at the
//!   call's entry, at its return).
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
mod exit_order;
pub mod ffset;
mod file;
pub mod frame;
pub mod lines;
mod merge;
mod names;
mod oracle;
pub mod outcome;
mod progress;
mod stats;
pub mod strings;
mod swar;
pub mod syscall;
pub mod tokens;
mod typed;
pub mod value;

pub use error::{OpenError, ParseError, Part};
pub use oracle::SocketOracle;
pub use stats::{
    excerpt, InjectedCall, ParseStats, Successes, Unparsed, EXCERPT_CHARS, INJECTED_SAMPLES,
    UNPARSED_SAMPLES, UNTRACED_CHILD_SAMPLES,
};
pub use syscall::*;

use std::path::Path;

use crate::source::{Loc, TraceClock, TraceId};

/// The clock a trace's timestamps read, from the first stamped line of its head (of its first
/// file, for a `-ff` set): strace stamps every line of a run the same way. `Untimed` when the
/// head has no stamp or the trace cannot be opened (reading it will say why).
pub fn clock_of(path: &Path) -> TraceClock {
    let first = match ffset::layout(path) {
        Ok(ffset::Layout::Single(path)) => path,
        Ok(ffset::Layout::PerPid(members)) => match members.into_iter().next() {
            Some(member) => member.path,
            None => return TraceClock::Untimed,
        },
        Err(_) => return TraceClock::Untimed,
    };
    let Ok(head) = crate::input::sniff(&first) else {
        return TraceClock::Untimed;
    };
    head.bytes
        .split(|&b| b == b'\n')
        .filter_map(|line| frame::frame(line).ok()?.stamp)
        .find_map(|text| frame::stamp(text).ok())
        .map_or(TraceClock::Untimed, frame::Stamp::clock)
}

/// Streams the events of one trace (one file, or a `-ff` set of per-pid files).
pub struct TraceReader {
    merger: ffset::Merger,
    stats: ParseStats,
    progress: Option<progress::Reporter>,
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
            progress: None,
        })
    }

    /// The account of lines read so far. Complete once the iterator is exhausted; before that,
    /// `ignored` is updated in batches and pending unfinished calls are not yet counted.
    pub fn stats(&self) -> &ParseStats {
        &self.stats
    }

    /// Adds the bytes read to `counter` as reading goes on (for a progress display).
    pub fn report_progress(&mut self, counter: std::sync::Arc<std::sync::atomic::AtomicU64>) {
        self.progress = Some(progress::Reporter::new(counter));
    }
}

impl TraceReader {
    /// The next event, counting calls on descriptors `oracle` rules out as sockets without
    /// reading them. Only a single trace file is read this way: the files of a `-ff` set are
    /// merged, and an event waiting in another file could still create the descriptor.
    pub fn next_with(&mut self, oracle: &dyn SocketOracle) -> Option<TraceEvent> {
        let event = self.merger.next_event(&mut self.stats, Some(oracle));
        self.note_progress();
        event
    }

    fn note_progress(&mut self) {
        if let Some(progress) = &mut self.progress {
            progress.note(self.stats.bytes);
        }
    }

    /// The last call counted without being read (where, by whom, when), if any.
    pub fn last_unread(&self) -> Option<(Loc, u32, Option<f64>)> {
        self.merger.last_unread()
    }

    /// Whether a call counted without being read was outside strace's `%network` class.
    pub fn generic_unread(&self) -> bool {
        self.merger.generic_unread()
    }
}

impl Iterator for TraceReader {
    type Item = TraceEvent;
    fn next(&mut self) -> Option<TraceEvent> {
        let event = self.merger.next_event(&mut self.stats, None);
        self.note_progress();
        event
    }
}
