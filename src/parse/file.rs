//! One trace file turned into events: line reading, framing, merging of unfinished calls,
//! timestamps, pid inference for lines without a pid column, and the line accounting.

use std::collections::{BTreeSet, HashSet, VecDeque};
use std::path::PathBuf;

use super::error::{ParseError, Part};
use super::exit_order::{ExitOrder, WINDOW_LINES};
use super::frame::{self, Body, Stamp};
use super::lines::{Line, LineReader};
use super::merge::{Pending, PendingCalls};
use super::names::{self, CallNames};
use super::outcome;
use super::strings;
use super::syscall::{Call, Fd, FdInfo, ProcessEvent, SockAddr, Syscall, SyscallName, TraceEvent};
use super::tokens::Tokens;
use super::typed::{self, Decorations, EpollCookies, RecentDecorations};
use super::{
    InjectedCall, ParseStats, SocketOracle, Successes, Unparsed, UNPARSED_SAMPLES,
    UNTRACED_CHILD_SAMPLES,
};
use crate::int_hash::IntHashBuilder;
use crate::source::{Loc, TraceClock, TraceId};

/// Events held back while the pid of lines without a pid column is still unknown (strace's own
/// stream prints `[pid N]` only while several processes live). Past this many they are released
/// with pid 0.
const MAX_HELD_EVENTS: usize = 4096;

/// Events kept waiting behind unfinished calls that act at their start, at most.
const MAX_DEFERRED_EVENTS: usize = 65_536;

/// Ignored-call counts reach [`ParseStats::ignored`] at least this often (and at the end).
const IGNORED_FLUSH_EVERY: u64 = 4096;

/// strace writes this in the middle of a call's line on its own stream when a child appears
/// (`strace: Process N attached`; strace 4 wrote it without the `strace: `).
const ATTACH_NOTE: &[u8] = b"Process ";

/// Turns `-t`/`-tt` times of day, `-ttt` epoch seconds and `-r` deltas into seconds.
#[derive(Debug, Default)]
struct Clock {
    /// Decided at the first plain-seconds stamp: small values are `-r` deltas.
    relative: Option<bool>,
    /// A time-of-day stamp was seen (then no stamp needs reading unless its line is used).
    time_of_day: bool,
    elapsed: f64,
    last_time_of_day: Option<f64>,
    days: f64,
}

impl Clock {
    /// The time of a line that becomes an event.
    fn time(&mut self, text: Option<&[u8]>) -> Result<Option<f64>, ParseError> {
        match text {
            Some(text) => Ok(self.seconds(Some(frame::stamp(text)?))),
            None => Ok(None),
        }
    }

    /// Keeps track of time over a line that is not used: only `-r` deltas must all be added
    /// up, so other stamps are not even read.
    fn pass(&mut self, text: Option<&[u8]>) {
        if self.time_of_day || self.relative == Some(false) {
            return;
        }
        if let Some(stamp) = text.and_then(|t| frame::stamp(t).ok()) {
            self.seconds(Some(stamp));
        }
    }

    fn seconds(&mut self, stamp: Option<Stamp>) -> Option<f64> {
        let stamp = stamp?;
        match stamp {
            Stamp::TimeOfDay(t) => {
                self.time_of_day = true;
                // Past midnight the time of day starts again from zero.
                if self
                    .last_time_of_day
                    .is_some_and(|last| t + 43_200.0 < last)
                {
                    self.days += 86_400.0;
                }
                self.last_time_of_day = Some(t);
                Some(t + self.days)
            }
            Stamp::Seconds(s) => {
                if *self
                    .relative
                    .get_or_insert(stamp.clock() == TraceClock::SinceStart)
                {
                    self.elapsed += s;
                    Some(self.elapsed)
                } else {
                    Some(s)
                }
            }
        }
    }
}

/// Which pid to give lines that print none.
#[derive(Debug)]
struct PidGuess {
    /// Pid from the file name of a `-ff` set member.
    file_pid: Option<u32>,
    /// Still holding events: no line with a pid has been seen yet.
    resolving: bool,
    /// Children created by lines without a pid, while resolving.
    spawned: Vec<u32>,
    /// Pids seen and not yet exited (to name the sole survivor).
    alive: HashSet<u32, IntHashBuilder>,
    /// The pid of the last line, known to be in `alive` (lines of one process come in runs:
    /// the set is not looked up again for each of them).
    last_alive: Option<u32>,
    /// Some line printed a pid: the trace was recorded with `-f`, so children were traced.
    shown_any: bool,
    /// Children the traced processes created (`clone`, `fork`, `vfork` results), with the
    /// spawning call's place, while no line has shown a pid.
    children: Vec<(u32, Loc)>,
}

/// An `<unfinished ...>` call whose tail may come next as a bare line.
enum Unfinished {
    /// A recognised call, pending for this pid.
    Pending(u32),
    /// An ignored call, by name: its tail is counted as the call was.
    Ignored(Box<[u8]>),
}

pub struct FileParser {
    lines: LineReader<crate::input::Stream>,
    state: State,
}

struct State {
    trace: TraceId,
    file: u32,
    path: PathBuf,
    clock: Clock,
    pids: PidGuess,
    pending: PendingCalls,
    /// Start of a line cut by [`ATTACH_NOTE`] and that line's number, waiting for its
    /// continuation.
    carry: Option<(Vec<u8>, u64)>,
    joined: Vec<u8>,
    held: VecDeque<TraceEvent>,
    ready: VecDeque<TraceEvent>,
    /// Unfinished calls whose effect happens when they start (see [`acts_at_start`]):
    /// `(start line, pid)`. Events after such a start wait in `deferred` until it resumes.
    reserved: BTreeSet<(u64, u32)>,
    /// Events waiting behind a reservation, with the line that places them.
    deferred: Vec<(u64, TraceEvent)>,
    /// The line being handled.
    current_line: u64,
    /// Whether calls are printed when they return, and each process's last line.
    exit_order: ExitOrder,
    /// The line the process of the line being handled printed before it (known once the trace
    /// is seen to print calls when they return).
    previous_line_of_pid: Option<u64>,
    /// The `<unfinished ...>` call the line just before started. With `-z` (successful calls
    /// only) strace 6 prints such a call's tail on the next line as bare text, with no pid and
    /// no `<... resumed>`.
    after_unfinished: Option<Unfinished>,
    names: CallNames,
    recent_decorations: RecentDecorations,
    epoll_cookies: EpollCookies,
    /// The token tree of the call being read (kept so that reading allocates nothing).
    tokens: Tokens,
    finished: bool,
    bytes_counted: u64,
    /// The last call counted without reading its arguments (see [`SocketOracle`]).
    last_unread: Option<(Loc, u32, Option<f64>)>,
    /// One of those calls was outside strace's `%network` class (read, close, poll...).
    generic_unread: bool,
}

impl FileParser {
    pub fn new(
        file: crate::input::Stream,
        path: PathBuf,
        trace: TraceId,
        index: u32,
        file_pid: Option<u32>,
    ) -> Self {
        FileParser {
            lines: LineReader::new(file),
            state: State {
                trace,
                file: index,
                path,
                clock: Clock::default(),
                pids: PidGuess {
                    file_pid,
                    resolving: file_pid.is_none(),
                    spawned: Vec::new(),
                    alive: HashSet::default(),
                    last_alive: None,
                    shown_any: false,
                    children: Vec::new(),
                },
                pending: PendingCalls::default(),
                carry: None,
                joined: Vec::new(),
                held: VecDeque::new(),
                ready: VecDeque::new(),
                reserved: BTreeSet::new(),
                deferred: Vec::new(),
                current_line: 0,
                exit_order: ExitOrder::default(),
                previous_line_of_pid: None,
                after_unfinished: None,
                names: CallNames::default(),
                recent_decorations: RecentDecorations::default(),
                epoll_cookies: EpollCookies::default(),
                tokens: Tokens::default(),
                finished: false,
                bytes_counted: 0,
                last_unread: None,
                generic_unread: false,
            },
        }
    }

    /// The last call counted without reading its arguments: where, by whom and when.
    pub fn last_unread(&self) -> Option<(Loc, u32, Option<f64>)> {
        self.state.last_unread
    }

    /// Whether a call counted without being read was outside strace's `%network` class.
    pub fn generic_unread(&self) -> bool {
        self.state.generic_unread
    }

    /// The next event of this file, `None` once it is exhausted. With an `oracle`, calls on
    /// descriptors it rules out as sockets are counted without being read.
    pub fn next_event(
        &mut self,
        stats: &mut ParseStats,
        oracle: Option<&dyn SocketOracle>,
    ) -> Option<TraceEvent> {
        loop {
            if let Some(event) = self.state.ready.pop_front() {
                return Some(event);
            }
            if self.state.finished {
                return None;
            }
            // The number the next line will have.
            let line_no = self.lines.line_no() + 1;
            let next = self.lines.next_line();
            let state = &mut self.state;
            let mut direct = None;
            match next {
                Err(error) => {
                    // Lines past the error are lost: the caller must not diagnose a partial
                    // trace as if it were whole.
                    let reason = crate::input::io_reason(&error);
                    let at = format!("{}:{line_no}", state.path.display());
                    stats
                        .read_error
                        .get_or_insert(format!("{at}: cannot read: {reason}"));
                    state.finish(stats);
                }
                Ok(None) => state.finish(stats),
                Ok(Some(Line::TooLong { len })) => {
                    stats.lines += 1;
                    let loc = state.loc(line_no);
                    let reason = format!("{} ({len} bytes)", Part::LineTooLong);
                    state.unparsed(stats, loc, 1, reason, b"");
                }
                Ok(Some(Line::Text(text))) => {
                    stats.lines += 1;
                    direct = state.line(text, line_no, stats, oracle);
                }
            }
            let bytes = self.lines.bytes();
            stats.bytes += bytes - self.state.bytes_counted;
            self.state.bytes_counted = bytes;
            if direct.is_some() {
                return direct;
            }
        }
    }
}

impl State {
    fn loc(&self, line: u64) -> Loc {
        Loc {
            trace: self.trace,
            line,
            file: self.file,
        }
    }

    /// The recognised call named `name`, or `None` after counting it as ignored.
    fn lookup(&mut self, name: &[u8], stats: &mut ParseStats) -> Option<SyscallName> {
        self.lookup_packed(name, names::pack(name), stats)
    }

    /// [`State::lookup`] of a name the framing packed already.
    fn lookup_packed(
        &mut self,
        name: &[u8],
        packed: Option<u128>,
        stats: &mut ParseStats,
    ) -> Option<SyscallName> {
        let known = self
            .names
            .lookup_packed_or_count(name, packed, &mut stats.ignored);
        if self.names.unflushed() >= IGNORED_FLUSH_EVERY {
            self.names.flush_into(&mut stats.ignored);
        }
        known
    }

    fn finish(&mut self, stats: &mut ParseStats) {
        self.finished = true;
        self.names.flush_into(&mut stats.ignored);
        // A cut line that never got its continuation was counted as skipped already.
        self.carry = None;
        stats.unfinished_at_end += self.pending.len() as u64;
        for (pid, start) in self.pending.drain_in_line_order() {
            self.emit_never_returned(start, pid);
        }
        if !self.pids.shown_any {
            let children = std::mem::take(&mut self.pids.children);
            stats.untraced_children += children.len() as u64;
            let room = UNTRACED_CHILD_SAMPLES.saturating_sub(stats.untraced_child_samples.len());
            stats
                .untraced_child_samples
                .extend(children.into_iter().take(room));
        }
        self.release_held(None);
        self.reserved.clear();
        self.flush_deferred();
    }

    fn unparsed(
        &self,
        stats: &mut ParseStats,
        loc: Loc,
        column: usize,
        reason: String,
        text: &[u8],
    ) {
        stats.unparsed += 1;
        if stats.first_unparsed.len() < UNPARSED_SAMPLES {
            // Enough bytes for the excerpt even if every character took four.
            let shown = text.get(..4 * super::EXCERPT_CHARS).unwrap_or(text);
            stats.first_unparsed.push(Unparsed {
                loc,
                path: self.path.clone(),
                column,
                reason,
                text: super::excerpt(&String::from_utf8_lossy(shown)),
            });
        }
    }

    fn parse_error(&self, stats: &mut ParseStats, loc: Loc, error: ParseError, text: &[u8]) {
        self.unparsed(stats, loc, error.column_in(text), error.to_string(), text);
    }

    fn line(
        &mut self,
        text: &[u8],
        line_no: u64,
        stats: &mut ParseStats,
        oracle: Option<&dyn SocketOracle>,
    ) -> Option<TraceEvent> {
        if let Some((mut carry, first_line)) = self.carry.take() {
            carry.extend_from_slice(text);
            return self.handle(&carry, first_line, stats, None);
        }
        let cut_at = match text.ends_with(b" attached") {
            true => attach_note_start(text),
            false => None,
        };
        if let Some(at) = cut_at {
            // `clone(...strace: Process 474 attached` + next line `) = 474`.
            self.carry = Some((text.get(..at).unwrap_or_default().to_vec(), line_no));
            stats.skipped += 1;
            return None;
        }
        self.handle(text, line_no, stats, oracle)
    }

    /// Reads one line; an event that may go out at once is handed back (see `hand_on`).
    fn handle(
        &mut self,
        text: &[u8],
        line_no: u64,
        stats: &mut ParseStats,
        oracle: Option<&dyn SocketOracle>,
    ) -> Option<TraceEvent> {
        self.current_line = line_no;
        let loc = self.loc(line_no);
        let after_unfinished = self.after_unfinished.take();
        let frame = match frame::frame(text) {
            Ok(frame) => frame,
            Err(error) => {
                match after_unfinished {
                    Some(Unfinished::Pending(pid)) => match self.pending.take(pid) {
                        Some(start) => {
                            self.exit_order.saw_bare_tail();
                            self.reserved.remove(&(start.loc.line, pid));
                            self.resumed(start, text, pid, (loc, None), stats);
                            self.flush_deferred();
                        }
                        None => self.parse_error(stats, loc, error, text),
                    },
                    Some(Unfinished::Ignored(name)) => {
                        let _ = self.lookup(&name, stats);
                    }
                    None => self.parse_error(stats, loc, error, text),
                }
                return None;
            }
        };
        let pid = self.pid_of(frame.pid);
        self.previous_line_of_pid = self.exit_order.saw_line(pid, line_no);
        let stamp = frame.stamp;
        // The line's time, read only for lines that become events.
        macro_rules! time {
            () => {
                match self.clock.time(stamp) {
                    Ok(time) => {
                        self.exit_order.saw_time(time);
                        time
                    }
                    Err(error) => {
                        self.parse_error(stats, loc, error, text);
                        return None;
                    }
                }
            };
        }
        match frame.body {
            Body::Skip => {
                self.clock.pass(stamp);
                stats.skipped += 1;
            }
            Body::Signal { name } => {
                let time = time!();
                let signal = strings::text(name);
                self.process(stats, loc, pid, time, ProcessEvent::Signal { signal });
            }
            Body::Exited { code } => {
                let time = time!();
                self.exited(pid);
                self.process(stats, loc, pid, time, ProcessEvent::Exited { code });
            }
            Body::Killed { signal } => {
                let time = time!();
                self.exited(pid);
                let signal = strings::text(signal);
                self.process(stats, loc, pid, time, ProcessEvent::Killed { signal });
            }
            Body::Call { name, tail, packed } => {
                // Read only until the first success, which nearly every trace shows at once.
                if stats.successes != Successes::Seen {
                    stats.note_return(returned_success(tail));
                }
                let packed = packed.or_else(|| names::pack(name));
                let Some(known) = self.lookup_packed(name, packed, stats) else {
                    self.clock.pass(stamp);
                    return None;
                };
                if let Some(oracle) = oracle.filter(|_| self.in_step()) {
                    let unread = unread_candidate(known, tail);
                    if unread.is_some_and(|(fd, kind)| !oracle.may_be_socket(pid, fd, kind)) {
                        stats.count_call(known);
                        stats.calls_not_read += 1;
                        self.generic_unread |= known.is_generic_descriptor_call();
                        self.last_unread = Some((loc, pid, self.clock.time(stamp).ok().flatten()));
                        return None;
                    }
                }
                let time = time!();
                // strace prints a call its process left by exiting, before the call printed its
                // first line out, as `name(args <unfinished ...>) = ?`.
                let cut = killed_in_call(tail);
                let parsed = match &cut {
                    Some(whole) => call(known, whole, loc, pid, time, self.call_state()),
                    None => call(known, tail, loc, pid, time, self.call_state()),
                };
                match parsed {
                    Ok(Read::Injected(injected)) => stats.note_injected(injected),
                    Ok(Read::Call(call)) => {
                        stats.count_call(known);
                        if self.exit_order.printed_at_exit() && acts_at_start(known) {
                            self.place_at_start(call);
                            return None;
                        }
                        return self.hand_on(TraceEvent::Call(call));
                    }
                    // Its arguments were never all printed and cannot be read: a call that never
                    // returned, counted only.
                    Err(_) if cut.is_some() => stats.unfinished_at_end += 1,
                    Err(error) => self.parse_error(stats, loc, error, text),
                }
            }
            Body::Unfinished { name, head } => {
                let Some(known) = self.lookup(name, stats) else {
                    self.after_unfinished = Some(Unfinished::Ignored(name.into()));
                    self.clock.pass(stamp);
                    return None;
                };
                let pending = Pending {
                    name: known,
                    loc,
                    time: time!(),
                    head: head.to_vec(),
                };
                if acts_at_start(known) {
                    self.reserved.insert((line_no, pid));
                }
                self.after_unfinished = Some(Unfinished::Pending(pid));
                if let Some(lost) = self.pending.start(pid, pending) {
                    // The earlier call of this pid never resumed.
                    stats.unfinished_at_end += 1;
                    self.unreserve(lost.loc.line, pid);
                }
            }
            Body::Resumed { name, rest } => {
                if stats.successes != Successes::Seen {
                    stats.note_return(returned_success(rest));
                }
                // The merged call keeps the time it started at; the time it resumed at gives
                // its duration when `-T` does not.
                let resumed_at = self.clock.time(stamp).ok().flatten();
                self.exit_order.saw_time(resumed_at);
                let known = self.lookup(name, stats)?;
                let Some(start) = self.pending.resume(pid, known) else {
                    let error = ParseError::at(Part::ResumedWithoutStart, text);
                    self.parse_error(stats, loc, error, text);
                    return None;
                };
                self.reserved.remove(&(start.loc.line, pid));
                self.resumed(start, rest, pid, (loc, resumed_at), stats);
                self.flush_deferred();
            }
        }
        None
    }

    fn resumed(
        &mut self,
        start: Pending,
        rest: &[u8],
        pid: u32,
        (loc, resumed_at): (Loc, Option<f64>),
        stats: &mut ParseStats,
    ) {
        let mut rest = rest;
        // strace 5+ marks a call the process left by exiting: `<... read resumed> <unfinished ...>) = ?`.
        let left_by_exit = rest.trim_ascii_start().starts_with(b"<unfinished ...>");
        if let Some(after) = rest.trim_ascii_start().strip_prefix(b"<unfinished ...>") {
            rest = after;
        }
        let mut joined = std::mem::take(&mut self.joined);
        joined.clear();
        joined.extend_from_slice(&start.head);
        joined.extend_from_slice(rest);
        match call(
            start.name,
            &joined,
            start.loc,
            pid,
            start.time,
            self.call_state(),
        ) {
            Ok(Read::Injected(injected)) => {
                stats.note_injected(injected);
                stats.merged_unfinished += 1;
            }
            Ok(Read::Call(mut call)) => {
                stats.count_call(start.name);
                stats.merged_unfinished += 1;
                // strace stamps an `<unfinished ...>` line when the call enters the kernel and
                // its `<... resumed>` line when it returns: the difference, on one clock, is
                // how long the call took.
                if call.duration.is_none() {
                    call.duration = start
                        .time
                        .zip(resumed_at)
                        .map(|(began, ended)| (ended - began).max(0.0));
                }
                self.emit(TraceEvent::Call(call));
            }
            // A call left by exit before all its arguments were printed never returned: its
            // first line is an unfinished call, its second carries nothing.
            Err(_) if left_by_exit => {
                stats.unfinished_at_end += 1;
                stats.skipped += 1;
                self.joined = joined;
                return self.emit_never_returned(start, pid);
            }
            Err(error) => {
                // Both halves are lost; the sample shows the rebuilt call at the resuming line.
                stats.unparsed += 1;
                self.parse_error(stats, loc, error, &joined);
            }
        }
        self.joined = joined;
    }

    /// Hands on a receive or readiness wait that never returned (the trace ended in it, or its
    /// process exited or was killed in it) as that call with the outcome `?`: the program was
    /// waiting for data on its descriptors, which the model needs to know. Other calls that never
    /// returned stay counted only.
    fn emit_never_returned(&mut self, start: Pending, pid: u32) {
        if !waits_for_data(start.name) {
            return;
        }
        if let Some(call) = never_returned_call(&start, pid, self.call_state()) {
            self.emit(TraceEvent::Call(call));
        }
    }

    fn process(
        &mut self,
        stats: &mut ParseStats,
        loc: Loc,
        pid: u32,
        time: Option<f64>,
        event: ProcessEvent,
    ) {
        stats.process_events += 1;
        self.emit(TraceEvent::Process {
            loc,
            pid,
            time,
            event,
        });
    }

    /// Every event of earlier lines has been handed on, so what the consumer knows of the
    /// descriptors is current: nothing is held back, deferred, or waiting to be taken.
    fn in_step(&self) -> bool {
        !self.pids.resolving
            && self.ready.is_empty()
            && self.held.is_empty()
            && self.deferred.is_empty()
            && self.reserved.is_empty()
    }

    /// The pid of a line: its own, the file's (`-ff`), or the one inferred.
    fn pid_of(&mut self, shown: Option<u32>) -> u32 {
        let guess = &mut self.pids;
        if let Some(pid) = guess.file_pid {
            return shown.unwrap_or(pid);
        }
        match shown {
            Some(pid) => {
                if guess.last_alive != Some(pid) {
                    guess.alive.insert(pid);
                    guess.last_alive = Some(pid);
                }
                if !guess.shown_any {
                    guess.shown_any = true;
                    guess.children = Vec::new();
                }
                if guess.resolving && !guess.spawned.contains(&pid) {
                    // The first pid that is not a child of the unnamed process is that process.
                    self.release_held(Some(pid));
                }
                pid
            }
            None if guess.resolving => 0,
            None if guess.alive.len() == 1 => guess.alive.iter().next().copied().unwrap_or(0),
            None => 0,
        }
    }

    fn exited(&mut self, pid: u32) {
        self.pids.alive.remove(&pid);
        if self.pids.last_alive == Some(pid) {
            self.pids.last_alive = None;
        }
    }

    /// Stops holding events, giving `root` (or 0) to those without a pid.
    fn release_held(&mut self, root: Option<u32>) {
        self.pids.resolving = false;
        let root = root.unwrap_or(0);
        if root != 0 {
            self.pids.alive.insert(root);
        }
        while let Some(mut event) = self.held.pop_front() {
            match &mut event {
                TraceEvent::Call(call) if call.pid == 0 => call.pid = root,
                TraceEvent::Process { pid, .. } if *pid == 0 => *pid = root,
                _ => {}
            }
            let line = event.loc().line;
            self.place(line, event);
        }
    }

    /// Puts an event in effect order: a call that acts when it starts (a connect, a send)
    /// takes the place of its `<unfinished ...>` line, everything else the place it completed
    /// at. So a connect that is still blocked in another thread when the accept returns comes
    /// before that accept, as the kernel saw them.
    fn place(&mut self, line: u64, event: TraceEvent) {
        let direct = self.reserved.is_empty() && self.deferred.is_empty();
        if direct && !self.exit_order.printed_at_exit() {
            self.ready.push_back(event);
            return;
        }
        let at = self.deferred.partition_point(|(l, _)| *l <= line);
        self.deferred.insert(at, (line, event));
        if self.deferred.len() > MAX_DEFERRED_EVENTS {
            // A start that never resumes must not hold the trace back without bound.
            self.reserved.clear();
        }
        self.flush_deferred();
    }

    /// Puts a call printed whole when it returned, that acted when it started, where it
    /// started (see [`super::exit_order`]).
    fn place_at_start(&mut self, call: Call) {
        if self.pids.resolving {
            self.emit(TraceEvent::Call(call));
            return;
        }
        let at = ExitOrder::start_index(&self.deferred, &call, self.previous_line_of_pid);
        let line = self
            .deferred
            .get(at)
            .map_or(call.loc.line, |(line, _)| *line);
        let event = TraceEvent::Call(call);
        self.note_child(&event);
        self.deferred.insert(at, (line, event));
        self.flush_deferred();
    }

    fn unreserve(&mut self, line: u64, pid: u32) {
        self.reserved.remove(&(line, pid));
        self.flush_deferred();
    }

    /// Releases the deferred events that no open reservation precedes.
    fn flush_deferred(&mut self) {
        let mut limit = self.reserved.first().map_or(u64::MAX, |(line, _)| *line);
        if self.exit_order.printed_at_exit() && !self.finished {
            // Held back a while: a call printed later may have acted before them.
            limit = limit.min(self.current_line.saturating_sub(WINDOW_LINES));
        }
        let ready = self.deferred.partition_point(|(l, _)| *l < limit);
        for (_, event) in self.deferred.drain(..ready) {
            self.ready.push_back(event);
        }
    }

    /// What reading a call needs from the calls before it.
    fn call_state(&mut self) -> CallState<'_> {
        (
            &mut self.recent_decorations,
            &mut self.epoll_cookies,
            &mut self.tokens,
        )
    }

    /// Hands `event` back when it may go out at once: nothing is queued, held or deferred
    /// before it, so queueing it would only move it in and out again. Otherwise it is emitted.
    fn hand_on(&mut self, event: TraceEvent) -> Option<TraceEvent> {
        let direct = !self.pids.resolving
            && !self.exit_order.printed_at_exit()
            && self.ready.is_empty()
            && self.reserved.is_empty()
            && self.deferred.is_empty();
        if direct {
            self.note_child(&event);
            return Some(event);
        }
        self.emit(event);
        None
    }

    fn emit(&mut self, event: TraceEvent) {
        self.note_child(&event);
        if !self.pids.resolving {
            let line = match &event {
                // A merged call that acts at its start keeps its start line's place.
                TraceEvent::Call(call) if acts_at_start(call.name) => call.loc.line,
                _ => self.current_line,
            };
            self.place(line, event);
            return;
        }
        if let TraceEvent::Call(Call {
            pid: 0,
            syscall:
                super::syscall::Syscall::Spawn {
                    child: Some(child), ..
                },
            ..
        }) = &event
        {
            self.pids.spawned.push(*child);
        }
        self.held.push_back(event);
        if self.held.len() >= MAX_HELD_EVENTS {
            self.release_held(None);
        }
    }
}

impl State {
    /// Keeps the children a trace without pids creates: without `-f` none of them is traced.
    fn note_child(&mut self, event: &TraceEvent) {
        if self.pids.shown_any || self.pids.file_pid.is_some() {
            return;
        }
        if let TraceEvent::Call(Call {
            syscall:
                super::syscall::Syscall::Spawn {
                    child: Some(child), ..
                },
            loc,
            ..
        }) = event
        {
            self.pids.children.push((*child, *loc));
        }
    }
}

/// The arguments of `name(args <unfinished ...>) = ?` without the marker, when `tail` (the
/// text after `name(`) has that form.
fn killed_in_call(tail: &[u8]) -> Option<Vec<u8>> {
    const MARK: &[u8] = b"<unfinished ...>) = ?";
    let body = tail.trim_ascii_end().strip_suffix(MARK)?;
    let mut whole = body.trim_ascii_end().to_vec();
    whole.extend_from_slice(b") = ?");
    Some(whole)
}

/// Receives and readiness waits: calls that block until data (or readiness) arrives, so one
/// that never returned shows its program waiting for data.
fn waits_for_data(name: SyscallName) -> bool {
    use SyscallName as N;
    matches!(
        name,
        N::Read
            | N::Readv
            | N::Recv
            | N::Recvfrom
            | N::Recvmsg
            | N::Select
            | N::Pselect6
            | N::Poll
            | N::Ppoll
            | N::EpollWait
            | N::EpollPwait
            | N::EpollPwait2
    )
}

/// A receive or wait that never returned, from the arguments strace printed before it stopped
/// (`head`), with the outcome `?`. A wait prints all its arguments when it starts; a receive
/// prints at least its descriptor, which is all the model needs of it.
fn never_returned_call(start: &Pending, pid: u32, state: CallState<'_>) -> Option<Call> {
    let mut whole = start.head.trim_ascii_end().to_vec();
    whole.extend_from_slice(b") = ?");
    match call(start.name, &whole, start.loc, pid, start.time, state) {
        Ok(Read::Call(call)) => Some(call),
        _ => None,
    }
}

/// Calls whose effect on the network happens when they start rather than when they return: a
/// blocking connect has sent its SYN, a blocking send has queued its bytes, a close has sent its
/// FIN while the call is still in progress.
pub(super) fn acts_at_start(name: SyscallName) -> bool {
    use SyscallName as N;
    matches!(
        name,
        N::Connect
            | N::Send
            | N::Sendto
            | N::Sendmsg
            | N::Sendmmsg
            | N::Write
            | N::Writev
            | N::Pwrite64
            | N::Sendfile
            | N::Sendfile64
            | N::Splice
            | N::Close
            | N::Shutdown
    )
}

/// The descriptor (and the start of its `-y` decoration, if any) of a call that can be counted
/// unread when it is not a socket: a call whose only descriptor is its first argument, written
/// as a plain number, and which creates none. Calls that may carry a datagram's address
/// (recvfrom, sendto, recvmsg, sendmsg and their batched forms) are always read: on a socket
/// the trace never showed created, that address is what tells it is a UDP socket. So is
/// connect: one to a unix-domain socket that failed tells by itself that a local service is
/// missing (see `fold/unix_connects.rs`), and connects are few.
fn unread_candidate(name: SyscallName, tail: &[u8]) -> Option<(Fd, Option<&[u8]>)> {
    use SyscallName as N;
    if !matches!(
        name,
        N::Read
            | N::Write
            | N::Pread64
            | N::Pwrite64
            | N::Readv
            | N::Writev
            | N::Recv
            | N::Send
            | N::Close
            | N::Shutdown
            | N::Setsockopt
            | N::Getsockopt
            | N::Getsockname
            | N::Getpeername
            | N::Ioctl
            | N::Bind
            | N::Listen
    ) {
        return None;
    }
    let digits = tail.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || digits > 9 {
        return None;
    }
    let fd = tail
        .get(..digits)?
        .iter()
        .fold(0, |n: Fd, &d| n * 10 + Fd::from(d - b'0'));
    match tail.get(digits..)? {
        [b',' | b')', ..] => Some((fd, None)),
        [b'<', decoration @ ..] => Some((fd, Some(decoration))),
        _ => None,
    }
}

/// Where an attach note starts inside a line that carries something before it.
fn attach_note_start(text: &[u8]) -> Option<usize> {
    let at = memchr::memmem::rfind(text, ATTACH_NOTE)?;
    let pid = text
        .get(at + ATTACH_NOTE.len()..)?
        .strip_suffix(b" attached")?;
    if pid.is_empty() || !pid.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let before = text.get(..at)?;
    let start = before.strip_suffix(b"strace: ").map_or(at, |b| b.len());
    (!text.get(..start)?.trim_ascii().is_empty()).then_some(start)
}

/// What reading a call needs from the calls before it, and the token tree it reuses.
type CallState<'s> = (
    &'s mut RecentDecorations,
    &'s mut EpollCookies,
    &'s mut Tokens,
);

/// A complete call line, read.
enum Read {
    Call(Call),
    /// strace made its result up: the call did not run, so it is not handed on.
    Injected(InjectedCall),
}

/// Parses a complete call from its text after `name(`.
fn call(
    name: SyscallName,
    tail: &[u8],
    loc: Loc,
    pid: u32,
    time: Option<f64>,
    (recent, epoll, tokens): CallState<'_>,
) -> Result<Read, ParseError> {
    let parts = frame::split_tail(tail)?;
    let mut ret = outcome::returned(parts.ret)?;
    if ret.injected {
        return Ok(Read::Injected(InjectedCall {
            loc,
            call: name,
            outcome: ret.outcome,
        }));
    }
    let mut fd_info = Vec::new();
    let mut syscall = typed::convert(
        name,
        parts.args,
        &mut ret,
        &mut Decorations {
            infos: &mut fd_info,
            recent,
            epoll,
        },
        tokens,
    )?;
    fill_accept_peer_from_decoration(&mut syscall, &fd_info);
    Ok(Read::Call(Call {
        loc,
        pid,
        time,
        duration: parts.duration,
        name,
        syscall,
        outcome: ret.outcome,
        fd_info,
    }))
}

/// When the address buffer was too short for the peer (strace then prints raw `sa_data`), the
/// `-yy` decoration of the accepted descriptor still names the peer: use it.
fn fill_accept_peer_from_decoration(syscall: &mut Syscall, fd_info: &[FdInfo]) {
    if let Syscall::Accept {
        peer: peer @ None,
        new_fd: Some(new_fd),
        ..
    } = syscall
    {
        if let Some(addr) = fd_info
            .iter()
            .find(|i| i.fd == *new_fd)
            .and_then(|i| i.peer)
        {
            *peer = Some(SockAddr::Inet(addr));
        }
    }
}

/// Did the call whose text after its name is `tail` return success? A line that does not
/// split into arguments and a return value (an unfinished call) did not, as far as it shows.
fn returned_success(tail: &[u8]) -> bool {
    frame::split_tail(tail)
        .ok()
        .and_then(|parts| outcome::returned(parts.ret).ok())
        .is_some_and(|returned| returned.outcome.is_success())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{Errno, Outcome};

    /// Gives `good`, then fails as a disk would with EIO.
    struct FailingDisk {
        good: std::io::Cursor<Vec<u8>>,
    }

    impl std::io::Read for FailingDisk {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            match self.good.read(buf)? {
                0 => Err(std::io::Error::from_raw_os_error(5)),
                n => Ok(n),
            }
        }
    }

    #[test]
    fn a_read_error_ends_the_file_and_is_kept_as_an_input_error() {
        let text = b"1 socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3\n1 close(3) = 0\n".to_vec();
        let disk = FailingDisk {
            good: std::io::Cursor::new(text),
        };
        let mut parser = FileParser::new(
            Box::new(disk),
            PathBuf::from("disk.trace"),
            TraceId(0),
            0,
            None,
        );
        let mut stats = ParseStats::default();
        let mut events = 0;
        while parser.next_event(&mut stats, None).is_some() {
            events += 1;
        }
        assert_eq!(events, 2);
        assert_eq!(stats.unparsed, 0);
        assert_eq!(
            stats.read_error.as_deref(),
            Some("disk.trace:3: cannot read: Input/output error")
        );
    }

    /// Every event of `text` read as one trace file, with the line accounting.
    fn events_of(text: &str) -> (Vec<TraceEvent>, ParseStats) {
        let stream = Box::new(std::io::Cursor::new(text.as_bytes().to_vec()));
        let mut parser = FileParser::new(stream, PathBuf::from("t.trace"), TraceId(0), 0, None);
        let mut stats = ParseStats::default();
        let mut events = Vec::new();
        while let Some(event) = parser.next_event(&mut stats, None) {
            events.push(event);
        }
        assert_eq!(stats.accounted_lines(), stats.lines, "{stats:?}");
        (events, stats)
    }

    /// A call whose result strace injected did not run: it is counted, kept as a sample, and
    /// not handed on (curl under `-e inject=connect:error=ECONNREFUSED`, lab/options.sh); a
    /// delayed call ran and is handed on.
    #[test]
    fn a_call_with_an_injected_result_is_counted_not_handed_on() {
        let text = "\
761   15:01:53.127484 socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 5<TCP:[2071340]> <0.000018>
761   15:01:53.138581 connect(5<TCP:[2071340]>, {sa_family=AF_INET, sin_port=htons(7720), sin_addr=inet_addr(\"10.93.0.1\")}, 16) = -1 ECONNREFUSED (Connection refused) (INJECTED) <0.000011>
761   15:01:53.138700 close(5<TCP:[2071340]>) = 0 (DELAYED) <0.001011>
";
        let (events, stats) = events_of(text);
        let names: Vec<SyscallName> = events
            .iter()
            .filter_map(|e| match e {
                TraceEvent::Call(c) => Some(c.name),
                _ => None,
            })
            .collect();
        assert_eq!(names, [SyscallName::Socket, SyscallName::Close]);
        assert_eq!((stats.calls, stats.injected), (3, 1));
        let sample = &stats.injected_samples[0];
        assert_eq!(
            (sample.loc.line, sample.call, sample.outcome),
            (
                2,
                SyscallName::Connect,
                Outcome::failed(Errno::ECONNREFUSED)
            )
        );
    }

    #[test]
    fn a_trace_of_failed_calls_only_is_told_from_one_with_a_success() {
        // curl under `strace -f -tt -Z` (strace 6.1): its successful execve, mmaps and socket
        // are not printed, nor the poll that waited for the connect.
        let failed_only = "\
22735 06:53:21.478716 access(\"/etc/ld.so.preload\", R_OK) = -1 ENOENT (No such file or directory)
22735 06:53:21.493236 ioctl(1, TCGETS, 0x7fffe024a680) = -1 ENOTTY (Inappropriate ioctl for device)
22735 06:53:21.493699 connect(5, {sa_family=AF_INET, sin_port=htons(9001), sin_addr=inet_addr(\"10.213.7.2\")}, 16) = -1 EINPROGRESS (Operation now in progress)
22735 06:53:24.497295 +++ exited with 28 +++
";
        let (_, stats) = events_of(failed_only);
        assert_eq!(stats.successes, Successes::NoneYet);
        // The same lines after the first line of the same run recorded with `-f -tt -T -yy`.
        let full = format!(
            "23074 06:53:27.833909 execve(\"/usr/bin/sh\", [\"sh\", \"-c\", \"exec curl -s -m 3 \
             http://10.213.\"...], 0x7ffe76b991d0 /* 39 vars */) = 0 <0.001027>\n{failed_only}"
        );
        let (_, stats) = events_of(&full);
        assert_eq!(stats.successes, Successes::Seen);
    }

    /// The calls named `name` among `events`.
    fn calls_named(events: &[TraceEvent], name: SyscallName) -> Vec<&Call> {
        events
            .iter()
            .filter_map(|e| match e {
                TraceEvent::Call(call) if call.name == name => Some(call),
                _ => None,
            })
            .collect()
    }

    // `strace -f -tt -T -yy` of a Go client (lab/multi.sh, all-drop--go): while the main
    // thread's exit_group ends the process, another thread is caught entering a call strace
    // cannot name. The `???(` line is a call of its own, not the bare tail of the exit_group
    // above it, and the exit_group resumes as usual.
    #[test]
    fn a_call_strace_could_not_name_is_read_as_a_call() {
        let (events, stats) = events_of(
            "3687  11:43:17.708444 exit_group(1 <unfinished ...>\n\
             3688  11:43:17.708474 ???( <unfinished ...>\n\
             3687  11:43:17.708480 <... exit_group resumed>) = ?\n\
             3688  11:43:17.708618 <... ??? resumed>) = ?\n\
             3688  11:43:17.709041 +++ exited with 1 +++\n\
             3687  11:43:17.709050 +++ exited with 1 +++\n",
        );
        assert_eq!(stats.unparsed, 0, "{:?}", stats.first_unparsed);
        let exits = events
            .iter()
            .filter(|e| matches!(e, TraceEvent::Process { .. }))
            .count();
        assert_eq!(exits, 2);
    }

    // `strace -f -tt -z`: the tail of an unfinished call comes on the next line, bare.
    #[test]
    fn a_bare_tail_after_an_unfinished_call_completes_it() {
        let (events, stats) = events_of(
            "4156  01:05:50.318629 close(3 <unfinished ...>\n\
             )                                       = 0\n\
             4278  01:05:51.229915 read(3,  <unfinished ...>\n\
             \"\", 4096)                               = 0\n\
             4156  01:05:50.318666 --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=4173, si_uid=0, si_status=0, si_utime=0, si_stime=0} ---\n",
        );
        assert_eq!(stats.unparsed, 0, "{:?}", stats.first_unparsed);
        assert_eq!(stats.merged_unfinished, 2);
        let closes = calls_named(&events, SyscallName::Close);
        assert_eq!((closes.len(), closes[0].pid), (1, 4156));
        let reads = calls_named(&events, SyscallName::Read);
        assert_eq!((reads.len(), reads[0].outcome.value), (1, Some(0)));
        assert_eq!(reads[0].loc.line, 3, "the line it started at");
    }

    // `strace -f -tt -z -yy` of a Python client and server on one machine: lines are printed
    // when calls return, each stamped with its start (the accept's stamp goes back: that is
    // how the trace is known). The server's send of "HELLO" printed after the client's
    // receive of it, and acted before it.
    #[test]
    fn a_send_printed_when_it_returned_goes_before_the_receive_it_woke() {
        let (events, stats) = events_of(
            "31093 09:19:43.023686 connect(3<TCP:[1047942]>, {sa_family=AF_INET, sin_port=htons(47123), sin_addr=inet_addr(\"127.0.0.1\")}, 16) = 0\n\
             31051 09:19:42.727610 accept4(3<TCP:[127.0.0.1:47123]>, {sa_family=AF_INET, sin_port=htons(35844), sin_addr=inet_addr(\"127.0.0.1\")}, [16], SOCK_CLOEXEC) = 4<TCP:[127.0.0.1:47123->127.0.0.1:35844]>\n\
             31093 09:19:43.026680 sendto(3<TCP:[127.0.0.1:35844->127.0.0.1:47123]>, \"hello\", 5, 0, NULL, 0) = 5\n\
             31051 09:19:43.028150 getsockname(4<TCP:[127.0.0.1:47123->127.0.0.1:35844]>, {sa_family=AF_INET, sin_port=htons(47123), sin_addr=inet_addr(\"127.0.0.1\")}, [128 => 16]) = 0\n\
             31051 09:19:43.028252 recvfrom(4<TCP:[127.0.0.1:47123->127.0.0.1:35844]>, \"hello\", 100, 0, NULL, NULL) = 5\n\
             31093 09:19:43.028230 recvfrom(3<TCP:[127.0.0.1:35844->127.0.0.1:47123]>, \"HELLO\", 100, 0, NULL, NULL) = 5\n\
             31051 09:19:43.028287 sendto(4<TCP:[127.0.0.1:47123->127.0.0.1:35844]>, \"HELLO\", 5, 0, NULL, 0) = 5\n\
             31093 09:19:43.028367 write(1</dev/null<char 1:3>>, \"b'HELLO'\", 8) = 8\n\
             31051 09:19:43.028384 close(4<TCP:[127.0.0.1:47123->127.0.0.1:35844]>) = 0\n\
             31093 09:19:43.029627 close(3<TCP:[127.0.0.1:35844->127.0.0.1:47123]>) = 0\n",
        );
        assert_eq!(stats.unparsed, 0, "{:?}", stats.first_unparsed);
        let lines: Vec<u64> = events.iter().map(|e| e.loc().line).collect();
        assert_eq!(lines.len(), 10);
        let at = |line: u64| lines.iter().position(|l| *l == line);
        assert!(
            at(7) < at(6),
            "the send of HELLO before its receive: {lines:?}"
        );
        assert!(
            at(3) < at(5),
            "the send of hello before its receive: {lines:?}"
        );
        assert!(at(1) < at(3) && at(5) < at(7), "{lines:?}");
        // The server's close stays after the client's write: that call started before the close
        // and waits for nothing, so it ended before.
        assert!(at(8) < at(9), "{lines:?}");
    }

    // The same calls in an unfiltered trace (`strace -f -tt -T -yy`): stamps never go back, so
    // each call keeps its place; the client's receive is split around the server's send.
    #[test]
    fn an_unfiltered_trace_keeps_its_lines_in_place() {
        let (events, _) = events_of(
            "19503 09:07:58.894513 sendto(3<TCP:[127.0.0.1:57246->127.0.0.1:47123]>, \"hello\", 5, 0, NULL, 0) = 5 <0.000103>\n\
             19458 09:07:58.895989 getsockname(4<TCP:[127.0.0.1:47123->127.0.0.1:57246]>,  <unfinished ...>\n\
             19503 09:07:58.896011 recvfrom(3<TCP:[127.0.0.1:57246->127.0.0.1:47123]>,  <unfinished ...>\n\
             19458 09:07:58.896020 <... getsockname resumed>{sa_family=AF_INET, sin_port=htons(47123), sin_addr=inet_addr(\"127.0.0.1\")}, [128 => 16]) = 0 <0.000014>\n\
             19458 09:07:58.896044 recvfrom(4<TCP:[127.0.0.1:47123->127.0.0.1:57246]>, \"hello\", 100, 0, NULL, NULL) = 5 <0.000005>\n\
             19458 09:07:58.896070 sendto(4<TCP:[127.0.0.1:47123->127.0.0.1:57246]>, \"HELLO\", 5, 0, NULL, 0 <unfinished ...>\n\
             19503 09:07:58.896093 <... recvfrom resumed>\"HELLO\", 100, 0, NULL, NULL) = 5 <0.000076>\n\
             19458 09:07:58.896131 <... sendto resumed>) = 5 <0.000052>\n",
        );
        let lines: Vec<u64> = events.iter().map(|e| e.loc().line).collect();
        assert_eq!(lines, [1, 2, 5, 6, 3]);
    }

    // `ss -Htln` under `strace -f -tt -z -yy`: its netlink request writes the states it asks for
    // as shifts, `1<<TCP_CLOSE`, which is no `-y` decoration after the digit.
    #[test]
    fn a_bit_shift_after_a_digit_is_no_decoration() {
        let (events, stats) = events_of(
            "12164 09:33:12.868179 sendmsg(3<NETLINK:[SOCK_DIAG:12164]>, {msg_name={sa_family=AF_NETLINK, nl_pid=0, nl_groups=00000000}, msg_namelen=12, msg_iov=[{iov_base=[{nlmsg_len=92, nlmsg_type=SOCK_DIAG_BY_FAMILY, nlmsg_flags=NLM_F_REQUEST|NLM_F_DUMP, nlmsg_seq=123456, nlmsg_pid=0}, {sdiag_family=AF_INET, sdiag_protocol=IPPROTO_TCP, idiag_ext=0, idiag_states=1<<TCP_CLOSE|1<<TCP_LISTEN, id={idiag_sport=htons(0), idiag_dport=htons(0), idiag_src=inet_addr(\"0.0.0.0\"), idiag_dst=inet_addr(\"0.0.0.0\"), idiag_if=0, idiag_cookie=[0, 0]}}], iov_len=72}, {iov_base=\"\\x14\\x00\\x01\\x00\", iov_len=4}, {iov_base={nlmsg_len=1314823, nlmsg_type=0 /* NLMSG_??? */, nlmsg_flags=0, nlmsg_seq=7391, nlmsg_pid=0}, iov_len=16}], msg_iovlen=3, msg_controllen=0, msg_flags=0}, 0) = 92\n",
        );
        assert_eq!(stats.unparsed, 0, "{:?}", stats.first_unparsed);
        assert_eq!(calls_named(&events, SyscallName::Sendmsg).len(), 1);
    }

    // A line no call was left unfinished before is still unparsed.
    #[test]
    fn a_bare_line_without_an_unfinished_call_before_it_is_unparsed() {
        let (_, stats) = events_of(
            "4156  01:05:50.318629 close(3) = 0\n\
             )                                       = 0\n",
        );
        assert_eq!(stats.unparsed, 1);
    }

    // tcp-data-dropped--curl--pyhttp--record/server.trace:549 and :561.
    #[test]
    fn a_receive_left_by_exit_is_a_call_that_never_returned() {
        let (events, stats) = events_of(
            "7744  1796550815.884394 recvfrom(4<TCP:[10.77.1.10:7501->10.77.1.21:45094]>,  <unfinished ...>\n\
             7717  1796550819.230353 exit_group(0)   = ?\n\
             7744  1796550819.230553 <... recvfrom resumed> <unfinished ...>) = ?\n\
             7744  1796550819.233967 +++ exited with 0 +++\n",
        );
        assert_eq!(stats.unparsed, 0);
        let receives = calls_named(&events, SyscallName::Recvfrom);
        assert_eq!(receives.len(), 1);
        let receive = receives[0];
        assert_eq!(receive.loc.line, 1, "the line it started at");
        assert!(matches!(receive.syscall, Syscall::Recv { fd: 4, .. }));
        assert!(receive.outcome.never_returned());
        assert!(receive.fd_info.iter().any(|i| i.fd == 4 && i.kind == "TCP"));
    }

    // The same receive as strace prints it when the process left it before its line was out.
    #[test]
    fn a_receive_killed_before_its_line_was_out_is_a_call_that_never_returned() {
        let (events, stats) = events_of(
            "7744  1796550815.884394 recvfrom(4<TCP:[10.77.1.10:7501->10.77.1.21:45094]>,  <unfinished ...>) = ?\n",
        );
        assert_eq!(stats.unparsed, 0);
        let receives = calls_named(&events, SyscallName::Recvfrom);
        assert_eq!(receives.len(), 1);
        assert!(receives[0].outcome.never_returned());
    }

    // tcp-data-dropped--nc--socat--record/server.trace:83, had the trace ended there.
    #[test]
    fn a_wait_still_unfinished_at_the_end_is_a_call_that_never_returned() {
        let (events, stats) = events_of(
            "23446 1796551614.604505 pselect6(7, [5<pipe:[314007]> 6<TCP:[10.77.1.10:7501->10.77.1.21:38254]>], [], [], NULL, NULL <unfinished ...>\n",
        );
        assert_eq!(stats.unfinished_at_end, 1);
        assert_eq!(stats.calls, 0, "the line stays counted as unfinished");
        let waits = calls_named(&events, SyscallName::Pselect6);
        assert_eq!(waits.len(), 1);
        assert!(waits[0].outcome.never_returned());
        let Syscall::Wait { fds, .. } = &waits[0].syscall else {
            panic!("not a wait: {:?}", waits[0].syscall);
        };
        assert!(fds.iter().any(|w| w.fd == 6 && w.wanted.read));
    }

    // tcp-data-dropped--go--go--record/server.trace:53 and :60: Go's poller blocked in
    // epoll_pwait when SIGINT killed it. Only the instance was printed.
    #[test]
    fn an_epoll_wait_left_by_a_kill_names_its_instance() {
        let (events, stats) = events_of(
            "24110 1796550932.478267 epoll_pwait(5<anon_inode:[eventpoll]>,  <unfinished ...>\n\
             24110 1796550935.839189 <... epoll_pwait resumed> <unfinished ...>) = ?\n\
             24110 1796550935.839265 +++ killed by SIGINT +++\n",
        );
        assert_eq!(stats.unparsed, 0);
        let waits = calls_named(&events, SyscallName::EpollPwait);
        assert_eq!(waits.len(), 1);
        assert!(waits[0].outcome.never_returned());
        assert!(matches!(
            waits[0].syscall,
            Syscall::Wait {
                epoll_fd: Some(5),
                ..
            }
        ));
    }

    // Only receives and waits show a program waiting for data; an accept left unfinished at the
    // end stays counted only.
    #[test]
    fn other_calls_that_never_returned_are_only_counted() {
        let (events, stats) = events_of(
            "7717  1796550815.661905 accept4(3<TCP:[10.77.1.10:7501]>,  <unfinished ...>\n",
        );
        assert_eq!(stats.unfinished_at_end, 1);
        assert!(events.is_empty());
    }

    #[test]
    fn only_first_descriptor_calls_on_plain_descriptor_numbers_may_go_unread() {
        use SyscallName as N;
        type Case<'a> = (SyscallName, &'a [u8], Option<(Fd, Option<&'a [u8]>)>);
        let cases: [Case; 9] = [
            (N::Read, b"3, \"abc\", 3) = 3", Some((3, None))),
            (N::Close, b"12) = 0", Some((12, None))),
            (
                N::Ioctl,
                b"5</dev/pts/0>, TCGETS, {}) = 0",
                Some((5, Some(b"/dev/pts/0>, TCGETS, {}) = 0"))),
            ),
            // The decoration goes to the oracle, which knows what the fold stage adopts.
            (
                N::Send,
                b"7<TCP:[1.2.3.4:5->6.7.8.9:80]>, 1",
                Some((7, Some(b"TCP:[1.2.3.4:5->6.7.8.9:80]>, 1"))),
            ),
            // A datagram address proves a socket the trace never showed created: always read.
            (
                N::Recvfrom,
                b"9, \"x\", 1, 0, {sa_family=AF_INET}, [16]) = 1",
                None,
            ),
            (N::Sendmsg, b"9, {msg_name=NULL}, 0) = 1", None),
            // Calls that create descriptors, or name several, are always read.
            (N::Dup2, b"3, 4) = 4", None),
            (N::Poll, b"[{fd=3, events=POLLIN}], 1, 0) = 0", None),
            // Not a plain descriptor number.
            (N::Close, b"-1) = -1 EBADF (Bad file descriptor)", None),
        ];
        for (name, tail, expected) in cases {
            assert_eq!(
                unread_candidate(name, tail),
                expected,
                "{name:?}({})",
                String::from_utf8_lossy(tail)
            );
        }
    }
}
