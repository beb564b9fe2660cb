//! Traces recorded with `-ff`: one file per pid (`out.1234`, `out.1235`, ...), read as one trace.
//! The set is found from its common prefix or from any member. Events are merged by timestamp when
//! every file has them; otherwise each file keeps its order and a child's events follow the
//! `clone`/`fork` that created it (the child's file is read to its end right there).
//!
//! Merged by timestamp, events take the place of their effect, as in a single `-f` trace: strace
//! writes a `-ff` line whole, stamped with the call's start, so a wait or receive that blocked
//! while another thread sent (the JDK's HTTP client waits in epoll on one thread and writes the
//! request on another) would otherwise come before what woke it.

use std::path::{Path, PathBuf};

use super::file::{acts_at_start, FileParser};
use super::syscall::{Syscall, TraceEvent};
use super::{OpenError, ParseStats, SocketOracle};
use crate::source::Loc;

/// One per-pid file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub path: PathBuf,
    pub pid: u32,
}

/// What a trace path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layout {
    Single(PathBuf),
    /// Members sorted by pid.
    PerPid(Vec<Member>),
}

/// The pid of a `-ff` member's file name (`out.1234` → `("out", 1234)`).
fn split_pid_suffix(name: &str) -> Option<(&str, u32)> {
    let (prefix, digits) = name.rsplit_once('.')?;
    if prefix.is_empty() || digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((prefix, digits.parse().ok()?))
}

/// Files in `dir` named `prefix.<pid>`.
fn members(dir: &Path, prefix: &str) -> std::io::Result<Vec<Member>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some((p, pid)) = split_pid_suffix(name) {
            if p == prefix && entry.file_type()?.is_file() {
                found.push(Member {
                    path: entry.path(),
                    pid,
                });
            }
        }
    }
    found.sort_by_key(|m| m.pid);
    Ok(found)
}

pub fn layout(path: &Path) -> Result<Layout, OpenError> {
    let io = |source| OpenError::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    if path.as_os_str() == crate::input::STDIN {
        return Ok(Layout::Single(path.to_path_buf()));
    }
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => Err(OpenError::Directory {
            path: path.to_path_buf(),
        }),
        Ok(_) => match split_pid_suffix(name) {
            Some((prefix, _)) => {
                let set = members(&dir, prefix).map_err(io)?;
                if set.is_empty() {
                    Ok(Layout::Single(path.to_path_buf()))
                } else {
                    Ok(Layout::PerPid(set))
                }
            }
            None => Ok(Layout::Single(path.to_path_buf())),
        },
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let set = members(&dir, name).unwrap_or_default();
            if set.is_empty() {
                Err(io(error))
            } else {
                Ok(Layout::PerPid(set))
            }
        }
        Err(error) => Err(io(error)),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Order {
    Undecided,
    ByTime,
    ByFork,
}

/// Interleaves the events of several files.
pub struct Merger {
    files: Vec<FileParser>,
    pids: Vec<u32>,
    heads: Vec<Option<TraceEvent>>,
    /// Each file's event after its head: without `-T`, where the head's call returned is known
    /// only as before the thread's next call.
    after: Vec<Option<TraceEvent>>,
    started: Vec<bool>,
    /// Files being read, innermost child last (fork order).
    stack: Vec<usize>,
    order: Order,
}

impl Merger {
    pub fn new(files: Vec<FileParser>, pids: Vec<u32>) -> Self {
        let count = files.len();
        Merger {
            files,
            pids,
            heads: (0..count).map(|_| None).collect(),
            after: (0..count).map(|_| None).collect(),
            started: vec![false; count],
            stack: Vec::new(),
            order: Order::Undecided,
        }
    }

    fn refill(&mut self, index: usize, stats: &mut ParseStats) {
        let Some(file) = self.files.get_mut(index) else {
            return;
        };
        if self.heads[index].is_none() {
            self.heads[index] = match self.after[index].take() {
                Some(event) => Some(event),
                None => file.next_event(stats, None),
            };
        }
        if self.heads[index].is_some() && self.after[index].is_none() {
            self.after[index] = file.next_event(stats, None);
        }
    }

    pub fn next_event(
        &mut self,
        stats: &mut ParseStats,
        oracle: Option<&dyn SocketOracle>,
    ) -> Option<TraceEvent> {
        if let [only] = self.files.as_mut_slice() {
            return only.next_event(stats, oracle);
        }
        if self.order == Order::Undecided {
            for index in 0..self.files.len() {
                self.refill(index, stats);
            }
            let timed = self
                .heads
                .iter()
                .flatten()
                .all(|event| time_of(event).is_some());
            self.order = if timed && self.files.len() > 1 {
                Order::ByTime
            } else {
                Order::ByFork
            };
        }
        match self.order {
            Order::ByTime => self.next_by_time(stats),
            _ => self.next_by_fork(stats),
        }
    }

    fn next_by_time(&mut self, stats: &mut ParseStats) -> Option<TraceEvent> {
        let mut best: Option<(usize, f64)> = None;
        for (index, head) in self.heads.iter().enumerate() {
            let Some(event) = head else { continue };
            let next = self.after.get(index).and_then(Option::as_ref);
            let time = effect_time(event, next).unwrap_or(f64::INFINITY);
            if best.is_none_or(|(_, t)| time < t) {
                best = Some((index, time));
            }
        }
        let (index, _) = best?;
        let event = self.heads[index].take();
        self.refill(index, stats);
        event
    }

    fn next_by_fork(&mut self, stats: &mut ParseStats) -> Option<TraceEvent> {
        loop {
            let Some(&current) = self.stack.last() else {
                let next = (0..self.files.len()).find(|&i| !self.started[i])?;
                self.started[next] = true;
                self.stack.push(next);
                continue;
            };
            self.refill(current, stats);
            let Some(event) = self.heads[current].take() else {
                self.stack.pop();
                continue;
            };
            if let TraceEvent::Call(call) = &event {
                if let Syscall::Spawn {
                    child: Some(child), ..
                } = call.syscall
                {
                    if let Some(index) = self.pids.iter().position(|&p| p == child) {
                        if !self.started[index] {
                            self.started[index] = true;
                            self.stack.push(index);
                        }
                    }
                }
            }
            return Some(event);
        }
    }
}

impl Merger {
    /// The last call a single file counted without reading it (a `-ff` set reads every call).
    pub fn last_unread(&self) -> Option<(Loc, u32, Option<f64>)> {
        match self.files.as_slice() {
            [only] => only.last_unread(),
            _ => None,
        }
    }

    /// Whether a single file counted a call outside strace's `%network` class without reading
    /// it.
    pub fn generic_unread(&self) -> bool {
        match self.files.as_slice() {
            [only] => only.generic_unread(),
            _ => false,
        }
    }
}

/// When `event` acted: its start for a call that acts when it starts (a send, a connect, a
/// close) or creates a process (the child runs from then on); for any other call (a receive, a
/// wait, an accept) its return, the start plus its `-T` duration, or without one the start of the
/// thread's `next` event, before which it had returned.
fn effect_time(event: &TraceEvent, next: Option<&TraceEvent>) -> Option<f64> {
    let TraceEvent::Call(call) = event else {
        return time_of(event);
    };
    let start = call.time?;
    if acts_at_start(call.name) || matches!(call.syscall, Syscall::Spawn { .. }) {
        return Some(start);
    }
    let end = match call.duration {
        Some(duration) => start + duration,
        None => next.and_then(time_of).unwrap_or(start),
    };
    Some(end.max(start))
}

fn time_of(event: &TraceEvent) -> Option<f64> {
    match event {
        TraceEvent::Call(call) => call.time,
        TraceEvent::Process { time, .. } => *time,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::TraceId;

    /// The JDK's HTTP client under `strace -ff -tt` (java/healthy-http--jhttp--jhttpserver--ff):
    /// its selector thread (21174) waits in epoll from .610915 while a worker thread (21175)
    /// writes the request at .615201; the wait returns with the answer, read at .718406.
    const SELECTOR: &str = "09:44:38.610135 epoll_ctl(6, EPOLL_CTL_ADD, 8, {events=EPOLLIN, data={u32=8, u64=139792595550216}}) = 0
09:44:38.610915 epoll_wait(6, [{events=EPOLLIN, data={u32=8, u64=139792595550216}}], 1024, 3000) = 1
09:44:38.717279 epoll_wait(6, [{events=EPOLLIN, data={u32=8, u64=139792595550216}}], 1024, 0) = 1
09:44:38.718406 read(8, \"HTTP/1.1 200 OK\\r\\nDate: Mon, 07 Dec 2026 09:44:38 GMT\\r\\nContent-length: 10\\r\\n\\r\\n\", 16384) = 76
";
    const WORKER: &str = "09:44:38.615201 writev(8, [{iov_base=\"GET /r0 HTTP/1.1\\r\\nContent-Length: 0\\r\\nHost: 10.79.2.10:8080\\r\\nUser-Agent: Java-http-client/17.0.15\\r\\n\\r\\n\", iov_len=100}], 1) = 100
";

    #[test]
    fn a_wait_without_duration_takes_effect_before_the_threads_next_call() {
        let dir = std::env::temp_dir().join(format!("netcheck-ffset-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("client.trace.21174"), SELECTOR).unwrap();
        std::fs::write(dir.join("client.trace.21175"), WORKER).unwrap();
        let reader = crate::parse::TraceReader::open(&dir.join("client.trace"), TraceId(0));
        let lines: Vec<(u32, u64)> = reader
            .unwrap()
            .filter_map(|event| match event {
                TraceEvent::Call(call) => Some((call.pid, call.loc.line)),
                TraceEvent::Process { .. } => None,
            })
            .collect();
        std::fs::remove_dir_all(&dir).unwrap();
        // The wait that started first returned after the worker's write: it is placed after it.
        assert_eq!(
            lines,
            [(21174, 1), (21175, 1), (21174, 2), (21174, 3), (21174, 4)]
        );
    }

    #[test]
    fn splits_pid_suffixes() {
        assert_eq!(split_pid_suffix("out.1234"), Some(("out", 1234)));
        assert_eq!(split_pid_suffix("a.b.77"), Some(("a.b", 77)));
        assert_eq!(split_pid_suffix("out.strace"), None);
        assert_eq!(split_pid_suffix(".12"), None);
        assert_eq!(split_pid_suffix("out."), None);
    }
}
