//! Traces that print each call when it returns.
//!
//! With a status filter (`-z`, `-e status=successful`, ...) strace can only decide whether to
//! print a call once it has returned, so it prints the whole line then, stamped with the time
//! the call *started*. Lines of different processes then follow the order their calls ended in.
//! A send, a connect or a close acts when it starts, so in such a trace it may belong before
//! lines other processes printed first: the receive its data woke, the accept its connect
//! completed, the wait its close ended. Read in file order, the receive would take bytes not
//! yet sent.
//!
//! Such a trace gives itself away: a stamp earlier than the line before it (strace stamps and
//! prints every line of an unfiltered trace in one sequence, so stamps never go back), or the
//! tail of an interrupted call printed bare on the next line, which only strace 6's filtered
//! output does.

use std::collections::HashMap;

use super::syscall::{Call, Syscall, TraceEvent};
use crate::int_hash::IntHashBuilder;

/// How many lines an event of a trace printed at exit is held back, so that a call printed
/// after it that acted before it can still take its place. A call's effect moves back past at
/// most the lines other processes printed while it ran; strace prints a few per call that
/// overlaps, so 256 lines cover dozens of overlapping calls while the held events stay few.
pub(super) const WINDOW_LINES: u64 = 256;

/// What a trace showed of the order it prints lines in.
#[derive(Debug, Default)]
pub(super) struct ExitOrder {
    /// The trace prints calls when they return.
    printed_at_exit: bool,
    /// Time of the last stamped line read.
    last_time: Option<f64>,
    /// Each process's last line, kept once the trace is known to print at exit.
    last_line_of: HashMap<u32, u64, IntHashBuilder>,
}

impl ExitOrder {
    pub fn printed_at_exit(&self) -> bool {
        self.printed_at_exit
    }

    /// strace 6 printed the tail of an `<unfinished ...>` call bare on the next line.
    pub fn saw_bare_tail(&mut self) {
        self.printed_at_exit = true;
    }

    /// A line stamped `time` was read.
    pub fn saw_time(&mut self, time: Option<f64>) {
        let Some(time) = time else { return };
        if self.last_time.is_some_and(|last| time < last) {
            self.printed_at_exit = true;
        }
        self.last_time = Some(time);
    }

    /// A line of `pid` was read; gives that process's line before it, when known.
    pub fn saw_line(&mut self, pid: u32, line: u64) -> Option<u64> {
        match self.printed_at_exit {
            true => self.last_line_of.insert(pid, line),
            false => None,
        }
    }

    /// Where in `held` (events in effect order, each with the line that places it) a call
    /// printed whole, that acts at its start, belongs: before the events of other processes
    /// that may have ended after it started, back to `floor`, the line its own process printed
    /// before it.
    pub fn start_index(held: &[(u64, TraceEvent)], call: &Call, floor: Option<u64>) -> usize {
        let floor = floor.unwrap_or(0);
        let mut at = held.len();
        while let Some((line, event)) = at.checked_sub(1).and_then(|i| held.get(i)) {
            if *line <= floor || !may_end_after_start_of(event, call) {
                break;
            }
            at -= 1;
        }
        at
    }
}

/// Could `event`, printed before `call`, have ended after `call` started? A call of the same
/// process cannot (a process makes one call at a time). One of another process can if it
/// started later, if its duration reaches past the start, or, when neither time tells, if it
/// is a call that waits for a peer (a receive, an accept, a readiness wait): that is the call
/// the other one may have woken. Anything else that printed first is taken to have ended first.
fn may_end_after_start_of(event: &TraceEvent, call: &Call) -> bool {
    let TraceEvent::Call(earlier) = event else {
        return false;
    };
    if earlier.pid == call.pid {
        return false;
    }
    if let (Some(start), Some(earlier_start)) = (call.time, earlier.time) {
        if earlier_start > start {
            return true;
        }
        if let Some(duration) = earlier.duration {
            return earlier_start + duration > start;
        }
    }
    matches!(
        earlier.syscall,
        Syscall::Recv { .. }
            | Syscall::RecvMany { .. }
            | Syscall::Accept { .. }
            | Syscall::Wait { .. }
    )
}
