//! Calls left `<unfinished ...>`, per pid, waiting for their `<... name resumed>` line (other
//! pids' lines may come in between).

use std::collections::HashMap;

use super::syscall::SyscallName;
use crate::int_hash::IntHashBuilder;
use crate::source::Loc;

/// The first half of a call.
#[derive(Debug)]
pub struct Pending {
    pub name: SyscallName,
    pub loc: Loc,
    pub time: Option<f64>,
    /// Argument text printed before `<unfinished ...>`.
    pub head: Vec<u8>,
}

#[derive(Debug, Default)]
pub struct PendingCalls {
    /// Looked up on every `<... resumed>` line: the integer hasher, not SipHash.
    by_pid: HashMap<u32, Pending, IntHashBuilder>,
}

impl PendingCalls {
    /// Remembers an unfinished call; returns the call it replaces (one that never resumed).
    pub fn start(&mut self, pid: u32, pending: Pending) -> Option<Pending> {
        self.by_pid.insert(pid, pending)
    }

    /// Takes the unfinished call `name` of `pid`. When the pid is unknown (0: a line without a
    /// pid column) and exactly one pid has `name` pending, that one is taken.
    pub fn resume(&mut self, pid: u32, name: SyscallName) -> Option<Pending> {
        if self.by_pid.get(&pid).is_some_and(|p| p.name == name) {
            return self.by_pid.remove(&pid);
        }
        if pid == 0 {
            let mut candidates = self.by_pid.iter().filter(|(_, p)| p.name == name);
            if let (Some((&only, _)), None) = (candidates.next(), candidates.next()) {
                return self.by_pid.remove(&only);
            }
        }
        None
    }

    /// Takes the unfinished call of `pid`, whatever its name.
    pub fn take(&mut self, pid: u32) -> Option<Pending> {
        self.by_pid.remove(&pid)
    }

    /// Number of calls still waiting.
    pub fn len(&self) -> usize {
        self.by_pid.len()
    }

    /// Takes every call still waiting, with its pid, in the order they started.
    pub fn drain_in_line_order(&mut self) -> Vec<(u32, Pending)> {
        let mut left: Vec<(u32, Pending)> = self.by_pid.drain().collect();
        left.sort_by_key(|(_, p)| (p.loc.file, p.loc.line));
        left
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::TraceId;

    fn pending(name: SyscallName) -> Pending {
        Pending {
            name,
            loc: Loc::new(TraceId(0), 1),
            time: None,
            head: b"3, ".to_vec(),
        }
    }

    #[test]
    fn resumes_by_pid_and_name() {
        let mut calls = PendingCalls::default();
        assert!(calls.start(10, pending(SyscallName::Read)).is_none());
        assert!(calls.start(11, pending(SyscallName::Accept4)).is_none());
        assert!(calls.resume(10, SyscallName::Accept4).is_none());
        assert_eq!(
            calls.resume(10, SyscallName::Read).map(|p| p.name),
            Some(SyscallName::Read)
        );
        assert_eq!(calls.len(), 1);
    }

    #[test]
    fn a_line_without_pid_resumes_the_only_candidate() {
        let mut calls = PendingCalls::default();
        calls.start(10, pending(SyscallName::Read));
        calls.start(11, pending(SyscallName::Read));
        assert!(calls.resume(0, SyscallName::Read).is_none());
        calls.resume(11, SyscallName::Read);
        assert!(calls.resume(0, SyscallName::Read).is_some());
    }

    #[test]
    fn a_second_start_replaces_the_first() {
        let mut calls = PendingCalls::default();
        calls.start(10, pending(SyscallName::Read));
        assert!(calls.start(10, pending(SyscallName::Poll)).is_some());
    }
}
