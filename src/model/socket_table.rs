//! The model's sockets by [`SockId`]: looked up on nearly every call, and a run may hold
//! millions. Each trace has a table of its own, keyed by the socket's number in that trace, which
//! fold hands out in sequence; the table hashes it with [`SequenceHashBuilder`], so the sockets a
//! trace is using now (the newest, as a rule) sit side by side in memory instead of one cache
//! miss apart, and the tables of two traces never crowd each other's buckets.

use std::collections::HashMap;

use super::Socket;
use crate::int_hash::SequenceHashBuilder;
use crate::source::SockId;

type TraceSockets = HashMap<u32, Box<Socket>, SequenceHashBuilder>;

/// The sockets the model follows (the methods of a map keyed by [`SockId`]).
#[derive(Debug, Clone, Default)]
pub struct SocketTable {
    /// Indexed by trace.
    traces: Vec<TraceSockets>,
}

impl SocketTable {
    fn trace(&self, id: SockId) -> Option<&TraceSockets> {
        self.traces.get(usize::try_from(id.trace.0).ok()?)
    }

    fn trace_mut(&mut self, id: SockId) -> Option<&mut TraceSockets> {
        self.traces.get_mut(usize::try_from(id.trace.0).ok()?)
    }

    // The signature of `HashMap::get`, so that the model's handlers read as they did when the
    // table was one map.
    #[allow(clippy::borrowed_box)]
    pub fn get(&self, id: &SockId) -> Option<&Box<Socket>> {
        self.trace(*id)?.get(&id.n)
    }

    pub fn get_mut(&mut self, id: &SockId) -> Option<&mut Box<Socket>> {
        self.trace_mut(*id)?.get_mut(&id.n)
    }

    pub fn contains_key(&self, id: &SockId) -> bool {
        self.get(id).is_some()
    }

    pub fn insert(&mut self, id: SockId, socket: Box<Socket>) -> Option<Box<Socket>> {
        let Ok(trace) = usize::try_from(id.trace.0) else {
            return Some(socket);
        };
        if self.traces.len() <= trace {
            // Trace numbers are the positions of the traces in the run: a few, never huge.
            self.traces.resize_with(trace + 1, TraceSockets::default);
        }
        self.traces.get_mut(trace)?.insert(id.n, socket)
    }

    pub fn remove(&mut self, id: &SockId) -> Option<Box<Socket>> {
        self.trace_mut(*id)?.remove(&id.n)
    }

    /// Every socket, in no particular order.
    pub fn values(&self) -> impl Iterator<Item = &Box<Socket>> {
        self.traces.iter().flat_map(|t| t.values())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Proto;
    use crate::source::TraceId;

    fn id(trace: u32, n: u32) -> SockId {
        SockId {
            trace: TraceId(trace),
            n,
        }
    }

    #[test]
    fn sockets_of_several_traces_are_kept_apart() {
        let mut table = SocketTable::default();
        for (t, n) in [(0, 1), (2, 1), (2, 7)] {
            let s = Socket::new(id(t, n), None, Proto::Tcp, false);
            assert!(table.insert(id(t, n), Box::new(s)).is_none());
        }
        assert!(table.contains_key(&id(2, 1)));
        assert!(!table.contains_key(&id(1, 1)));
        assert_eq!(table.get(&id(2, 7)).map(|s| s.id), Some(id(2, 7)));
        assert!(table.remove(&id(0, 1)).is_some());
        assert!(table.get(&id(0, 1)).is_none());
        let mut left: Vec<SockId> = table.values().map(|s| s.id).collect();
        left.sort();
        assert_eq!(left, vec![id(2, 1), id(2, 7)]);
    }
}
