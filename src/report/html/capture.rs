//! What the diagram needs from the replay, captured while it runs: one small record per placed
//! socket call (kind, socket, bytes, address, errno, the model's verdict).
//!
//! The ordering places each trace's events in the order the trace yields them, so the capture
//! queues the facts of every yielded event per trace and pairs the front of the queue with the
//! next step of that trace. Memory is bounded: past [`RECORD_LIMIT`] records only deviations are
//! kept, and calls the diagram never draws (options, polls) are counted, not kept.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::hash::{Hash, Hasher};
use std::net::SocketAddr;

use serde::Serialize;

use crate::fold::SocketEvent;
use crate::model::Verdict;
use crate::order::{ReplayObserver, Step};
use crate::parse::{Errno, Payload, SockAddr, Syscall};
use crate::source::{Loc, SockId};

/// Records kept in full; beyond this only deviations are (a big trace is summarised anyway).
pub const RECORD_LIMIT: usize = 200_000;

/// Longest call text kept per record.
const CALL_TEXT_LIMIT: usize = 160;

/// What a call does, as far as the diagram is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CallKind {
    Socket,
    Bind,
    Listen,
    Connect,
    Accept,
    Send,
    Recv,
    Shutdown,
    Close,
    Other,
}

/// The facts of one event, before it is placed.
#[derive(Debug, Clone)]
struct EventFacts {
    loc: Loc,
    pid: u32,
    kind: CallKind,
    sock: Option<SockId>,
    new_sock: Option<SockId>,
    bytes: u64,
    addr: Option<SocketAddr>,
    errno: Option<Errno>,
    digest: Option<u64>,
}

/// One placed call.
#[derive(Debug, Clone, PartialEq)]
pub struct StepRecord {
    /// 1-based position in the reconstructed order.
    pub position: u64,
    pub loc: Loc,
    /// The process (or thread) that made the call; 0 when the trace has no pid column.
    pub pid: u32,
    pub kind: CallKind,
    /// The socket the call acts on.
    pub sock: Option<SockId>,
    /// The socket an accept created.
    pub new_sock: Option<SockId>,
    /// Bytes a send or receive moved.
    pub bytes: u64,
    /// The address named: connect and bind target, datagram destination or source.
    pub addr: Option<SocketAddr>,
    pub errno: Option<Errno>,
    /// Hash of the payload bytes strace showed (send and receive), to tell datagrams apart.
    pub digest: Option<u64>,
    /// The model's objection, when the call deviated (`ConnectFailed: ...`).
    pub deviation: Option<String>,
    /// The call as `netcheck order` shows it.
    pub call: String,
}

#[derive(Debug, Default)]
struct State {
    pending: Vec<VecDeque<EventFacts>>,
    records: Vec<StepRecord>,
    steps: u64,
}

/// A [`ReplayObserver`] collecting [`StepRecord`]s.
#[derive(Debug, Default)]
pub struct StepCapture {
    state: RefCell<State>,
}

/// What the capture saw.
#[derive(Debug, Clone, Default)]
pub struct Captured {
    /// In position order.
    pub records: Vec<StepRecord>,
    /// Every placed call, recorded or not.
    pub steps: u64,
}

impl StepCapture {
    pub fn new() -> Self {
        StepCapture::default()
    }

    pub fn finish(self) -> Captured {
        let state = self.state.into_inner();
        Captured {
            records: state.records,
            steps: state.steps,
        }
    }
}

impl ReplayObserver for StepCapture {
    fn event(&self, event: &SocketEvent) {
        let facts = facts(event);
        let mut state = self.state.borrow_mut();
        let trace = facts.loc.trace.0 as usize;
        if state.pending.len() <= trace {
            state.pending.resize_with(trace + 1, VecDeque::new);
        }
        state.pending[trace].push_back(facts);
    }

    fn step(&self, step: &Step) {
        let mut state = self.state.borrow_mut();
        state.steps += 1;
        let facts = state
            .pending
            .get_mut(step.loc.trace.0 as usize)
            .and_then(VecDeque::pop_front)
            .filter(|f| f.loc == step.loc);
        let Some(facts) = facts else { return };
        let deviation = match &step.verdict {
            Verdict::Deviation(d) => {
                let kind = format!("{:?}", d.kind);
                let name_end = kind.find([' ', '{', '(']).unwrap_or(kind.len());
                Some(format!("{}: {}", &kind[..name_end], d.detail))
            }
            _ => None,
        };
        let wanted = deviation.is_some()
            || (facts.kind != CallKind::Other && state.records.len() < RECORD_LIMIT);
        if !wanted {
            return;
        }
        state.records.push(StepRecord {
            position: step.position,
            loc: step.loc,
            pid: facts.pid,
            kind: facts.kind,
            sock: facts.sock,
            new_sock: facts.new_sock,
            bytes: facts.bytes,
            addr: facts.addr,
            errno: facts.errno,
            digest: facts.digest,
            deviation,
            call: shorten(&step.call()),
        });
    }
}

fn shorten(text: &str) -> String {
    match text.char_indices().nth(CALL_TEXT_LIMIT) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

fn inet(addr: Option<&SockAddr>) -> Option<SocketAddr> {
    match addr {
        Some(SockAddr::Inet(a)) => Some(*a),
        _ => None,
    }
}

/// Hash of the bytes strace showed; `None` when it showed none.
fn digest(data: &Payload) -> Option<u64> {
    let shown = data.shown();
    if shown.is_empty() {
        return None;
    }
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    shown.hash(&mut hasher);
    Some(hasher.finish())
}

fn facts(ev: &SocketEvent) -> EventFacts {
    let moved = ev.call.outcome.value.map_or(0, |v| v.max(0) as u64);
    let mut payload = None;
    let (kind, fd, new_fd, bytes, addr) = match &ev.call.syscall {
        Syscall::Socket { fd, .. } => (CallKind::Socket, *fd, None, 0, None),
        Syscall::Bind { fd, addr } => (CallKind::Bind, Some(*fd), None, 0, inet(Some(addr))),
        Syscall::Listen { fd, .. } => (CallKind::Listen, Some(*fd), None, 0, None),
        Syscall::Accept {
            fd, new_fd, peer, ..
        } => (CallKind::Accept, Some(*fd), *new_fd, 0, inet(peer.as_ref())),
        Syscall::Connect { fd, addr } => (CallKind::Connect, Some(*fd), None, 0, inet(Some(addr))),
        Syscall::Send { fd, dest, data, .. } => {
            payload = digest(data);
            (CallKind::Send, Some(*fd), None, moved, inet(dest.as_ref()))
        }
        Syscall::Recv { fd, src, data, .. } => {
            payload = digest(data);
            (CallKind::Recv, Some(*fd), None, moved, inet(src.as_ref()))
        }
        Syscall::SendMany { fd, msgs, .. } => {
            let bytes = msgs.iter().filter_map(|m| m.len).sum();
            let addr = inet(msgs.first().and_then(|m| m.addr.as_ref()));
            (CallKind::Send, Some(*fd), None, bytes, addr)
        }
        Syscall::RecvMany { fd, msgs, .. } => {
            let bytes = msgs.iter().filter_map(|m| m.len).sum();
            let addr = inet(msgs.first().and_then(|m| m.addr.as_ref()));
            (CallKind::Recv, Some(*fd), None, bytes, addr)
        }
        Syscall::CopyFile { out_fd, .. } => (CallKind::Send, Some(*out_fd), None, moved, None),
        Syscall::Shutdown { fd, .. } => (CallKind::Shutdown, Some(*fd), None, 0, None),
        Syscall::Close { fd } => (CallKind::Close, Some(*fd), None, 0, None),
        _ => (CallKind::Other, None, None, 0, None),
    };
    let sock = fd
        .and_then(|fd| ev.sock(fd))
        .or_else(|| ev.socks.first().map(|&(_, s)| s));
    EventFacts {
        loc: ev.call.loc,
        pid: ev.call.pid,
        kind,
        sock,
        new_sock: new_fd.and_then(|fd| ev.sock(fd)),
        bytes,
        addr,
        errno: ev.call.outcome.errno,
        digest: payload,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order;
    use crate::testkit::script::{topology, Script};

    #[test]
    fn records_pair_each_step_with_its_event() {
        let mut server = Script::new(0);
        let l = server.tcp();
        server.bind(l, "10.0.0.1:80");
        server.listen(l);
        let mut client = Script::new(1);
        let c = client.tcp();
        client.connect(c, "10.0.0.1:81");
        client.fails(Errno::ECONNREFUSED);
        let topo = topology(&[&["10.0.0.1"], &["10.0.0.2"]]);
        let capture = StepCapture::new();
        let traces: Vec<Box<dyn Iterator<Item = SocketEvent>>> = [server, client]
            .into_iter()
            .map(|s| {
                let capture = &capture;
                Box::new(s.events().into_iter().inspect(move |ev| capture.event(ev)))
                    as Box<dyn Iterator<Item = SocketEvent>>
            })
            .collect();
        order::replay(&topo, traces, &mut |step| capture.step(step));
        let captured = capture.finish();
        assert_eq!(captured.steps, 5);
        let kinds: Vec<CallKind> = captured.records.iter().map(|r| r.kind).collect();
        assert_eq!(kinds.len(), 5, "{kinds:?}");
        let connect = captured
            .records
            .iter()
            .find(|r| r.kind == CallKind::Connect)
            .expect("the connect is recorded");
        assert_eq!(connect.errno, Some(Errno::ECONNREFUSED));
        assert_eq!(connect.addr, Some("10.0.0.1:81".parse().unwrap()));
        assert!(connect
            .deviation
            .as_deref()
            .is_some_and(|d| d.starts_with("ConnectFailed")));
        let positions: Vec<u64> = captured.records.iter().map(|r| r.position).collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]));
    }
}
