//! UDP flows: one record per (sending socket, destination address), with the datagrams in flight
//! as a multiset keyed by identity (length, content digest, truncation flag).
//!
//! Receives look datagrams up by identity first (one hash lookup); only when that fails (content
//! truncated differently on the two sides, or a datagram cut to the receive buffer) are the
//! flows addressed to the receiver's port searched.
//!
//! The model's UDP calls (connect, send and receive of datagrams) are in `transfer`.

pub mod candidates;
pub mod connected;
pub(super) mod transfer;

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{Hash, Hasher};
use std::net::SocketAddr;

use super::outcome::UdpFlow;
use crate::int_hash::IntHashBuilder;
use crate::parse::Errno;
use crate::source::{Loc, SockId};

/// The errors an ICMP destination unreachable (or the sender's own routing table) gives a UDP
/// socket's send or receive (the model's `udp_path_error` makes each a failed connect to the address). EHOSTDOWN (ICMP host unknown) and
/// ENONET are left to the unexpected failures: no lab recording shows them.
pub const UDP_PATH_ERRNOS: [Errno; 3] =
    [Errno::ECONNREFUSED, Errno::EHOSTUNREACH, Errno::ENETUNREACH];

/// The flows' indexes are looked up per datagram: keys are small integers and digests, hashed
/// with the seeded integer hasher rather than SipHash (see `int_hash.rs`).
type IdMap<K, V> = HashMap<K, V, IntHashBuilder>;

pub type FlowId = usize;

/// Bytes of each distinct datagram kept for the slow (prefix) comparison.
const PREFIX_KEPT: usize = 64;

/// A datagram's identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DgramKey {
    pub len: u64,
    pub digest: u64,
    /// The content shown is only a prefix of the datagram.
    pub truncated: bool,
}

impl DgramKey {
    /// Identity of a datagram of `len` bytes of which `shown` were printed.
    pub fn of(len: u64, shown: &[u8], truncated: bool) -> Self {
        let cut = &shown[..shown.len().min(usize::try_from(len).unwrap_or(usize::MAX))];
        let mut hasher = DefaultHasher::new();
        cut.hash(&mut hasher);
        DgramKey {
            len,
            digest: hasher.finish(),
            truncated: truncated || (cut.len() as u64) < len,
        }
    }
}

/// How the UDP sockets a trace bound to one port ended: the last one closed by its program (its
/// close, its exit, its death) at a time on the trace's clock, or one was still open when the
/// trace ended (the port may still be bound: the program outlived its trace).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(in crate::model) enum PortEnd {
    ClosedAt(f64),
    OpenAtEnd,
}

impl PortEnd {
    /// What the port's history says once another socket bound to it ends as `next`.
    pub(in crate::model) fn then(self, next: PortEnd) -> PortEnd {
        match (self, next) {
            (PortEnd::ClosedAt(a), PortEnd::ClosedAt(b)) => PortEnd::ClosedAt(a.max(b)),
            _ => PortEnd::OpenAtEnd,
        }
    }
}

#[derive(Debug, Clone)]
struct InFlight {
    count: u32,
    prefix: Vec<u8>,
}

/// One flow of datagrams.
#[derive(Debug, Clone)]
pub struct Flow {
    pub sender: SockId,
    pub sender_addr: Option<SocketAddr>,
    pub dest: SocketAddr,
    pub receivers: Vec<SockId>,
    /// length → (sent, received)
    by_size: BTreeMap<u64, (u64, u64)>,
    pub first_send: Loc,
    /// When the first datagram was sent, on the sender's clock.
    pub first_send_at: Option<f64>,
    inflight: IdMap<DgramKey, InFlight>,
    /// Sent to a multicast group or a broadcast address: every receiver that may get the
    /// datagrams gets its own copy of each (the group's members, the sender itself through
    /// IP_MULTICAST_LOOP), so a receive takes nothing from the others. `inflight` then keeps
    /// every datagram sent, and `group_takes` what each receiver took of each.
    group: bool,
    group_takes: HashMap<(DgramKey, SockId), u32>,
    /// Group flows: the most copies of each datagram one receiver took (what `by_size` counts
    /// as received: a datagram some member read arrived).
    group_delivered: IdMap<DgramKey, u32>,
}

impl Flow {
    pub fn in_flight(&self) -> u64 {
        if self.group {
            let delivered = |k: &DgramKey| self.group_delivered.get(k).copied().unwrap_or(0);
            return self
                .inflight
                .iter()
                .map(|(k, f)| u64::from(f.count.saturating_sub(delivered(k))))
                .sum();
        }
        self.inflight.values().map(|f| u64::from(f.count)).sum()
    }

    /// Copies of datagram `key` still for `receiver` to take.
    fn available(&self, key: &DgramKey, receiver: SockId) -> u32 {
        let sent = self.inflight.get(key).map_or(0, |f| f.count);
        if !self.group {
            return sent;
        }
        let taken = self
            .group_takes
            .get(&(*key, receiver))
            .copied()
            .unwrap_or(0);
        sent.saturating_sub(taken)
    }

    pub fn to_outcome(&self) -> UdpFlow {
        UdpFlow {
            sender: self.sender,
            sender_addr: self.sender_addr,
            receiver_addr: self.dest,
            receivers: self.receivers.clone(),
            by_size: self
                .by_size
                .iter()
                .map(|(len, (sent, received))| (*len, *sent, *received))
                .collect(),
            first_send: self.first_send,
            receiver_connected_elsewhere: None,
            nothing_bound_at_receiver: false,
        }
    }
}

/// How a received datagram was matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Matched {
    Exact,
    /// Same length, content agrees where both sides show it.
    Prefix,
    /// The datagram was longer than the receive buffer and was cut.
    CutToBuffer {
        len: u64,
    },
}

/// A datagram as received.
#[derive(Debug, Clone, Copy)]
pub struct Received<'a> {
    pub key: DgramKey,
    pub shown: &'a [u8],
    /// The receive could have been cut to the buffer (MSG_TRUNC reported, or the buffer was
    /// filled exactly).
    pub maybe_cut: bool,
}

/// Every UDP flow of the run, with its indexes.
#[derive(Debug, Default)]
pub struct Flows {
    flows: Vec<Flow>,
    by_endpoints: IdMap<(SockId, SocketAddr), FlowId>,
    by_dgram: IdMap<DgramKey, Vec<FlowId>>,
    /// Flows with datagrams in flight, by destination port (only those: a receive or a wait
    /// never looks at drained flows).
    in_flight_by_port: IdMap<u16, BTreeSet<FlowId>>,
}

impl Flows {
    pub fn get(&self, id: FlowId) -> &Flow {
        &self.flows[id]
    }

    /// The sender of `id` as its receiver saw it: where the flow's own record of its sender
    /// lacks the address (a socket bound to the wildcard address, its port shown by `-yy` or
    /// getsockname), the source the receiver saw completes it. Only what the flow shows
    /// changes: the socket keeps its wildcard binding.
    pub fn note_sender_seen_as(&mut self, id: FlowId, seen_as: SocketAddr) {
        let Some(flow) = self.flows.get_mut(id) else {
            return;
        };
        if let Some(known) = flow.sender_addr {
            if known.ip().is_unspecified() && known.port() == seen_as.port() {
                flow.sender_addr = Some(seen_as);
            }
        }
    }

    /// Records one datagram sent; returns its flow and whether the flow is new. `group`: the
    /// destination is a multicast group or a broadcast address (see [`Flow`]).
    #[allow(clippy::too_many_arguments)]
    pub fn send(
        &mut self,
        sender: SockId,
        sender_addr: Option<SocketAddr>,
        dest: SocketAddr,
        group: bool,
        key: DgramKey,
        shown: &[u8],
        (loc, time): (Loc, Option<f64>),
    ) -> (FlowId, bool) {
        let (id, new) = match self.by_endpoints.get(&(sender, dest)) {
            Some(id) => (*id, false),
            None => {
                let id = self.flows.len();
                self.flows.push(Flow {
                    sender,
                    sender_addr,
                    dest,
                    receivers: Vec::new(),
                    by_size: BTreeMap::new(),
                    first_send: loc,
                    first_send_at: time,
                    inflight: IdMap::default(),
                    group,
                    group_takes: HashMap::new(),
                    group_delivered: IdMap::default(),
                });
                self.by_endpoints.insert((sender, dest), id);
                (id, true)
            }
        };
        let flow = &mut self.flows[id];
        if flow.sender_addr.is_none() {
            flow.sender_addr = sender_addr;
        }
        flow.by_size.entry(key.len).or_default().0 += 1;
        let entry = flow.inflight.entry(key).or_insert_with(|| InFlight {
            count: 0,
            prefix: shown[..shown.len().min(PREFIX_KEPT)].to_vec(),
        });
        entry.count += 1;
        if entry.count == 1 {
            self.by_dgram.entry(key).or_default().push(id);
        }
        self.in_flight_by_port
            .entry(dest.port())
            .or_default()
            .insert(id);
        (id, new)
    }

    /// Did `sender` ever send to `dest`?
    pub fn has_flow(&self, sender: SockId, dest: SocketAddr) -> bool {
        self.by_endpoints.contains_key(&(sender, dest))
    }

    /// The flow from `sender` to `dest`, if it sent any.
    pub fn flow_between(&self, sender: SockId, dest: SocketAddr) -> Option<&Flow> {
        let id = self.by_endpoints.get(&(sender, dest))?;
        self.flows.get(*id)
    }

    /// Finds the flow and datagram `receiver` takes, among flows `eligible` for it. Exact
    /// identity first; then, among flows to `port`, a compatible or cut datagram.
    pub fn find(
        &self,
        got: Received<'_>,
        port: u16,
        receiver: SockId,
        eligible: impl Fn(&Flow) -> bool,
    ) -> Option<(FlowId, DgramKey, Matched)> {
        if let Some(ids) = self.by_dgram.get(&got.key) {
            let found = ids.iter().copied().find(|id| {
                let flow = &self.flows[*id];
                flow.available(&got.key, receiver) > 0 && eligible(flow)
            });
            if let Some(id) = found {
                return Some((id, got.key, Matched::Exact));
            }
        }
        let ids = self.in_flight_by_port.get(&port)?;
        let mut best: Option<(FlowId, DgramKey, Matched)> = None;
        for &id in ids {
            let flow = &self.flows[id];
            if flow.inflight.is_empty() || !eligible(flow) {
                continue;
            }
            for (key, entry) in &flow.inflight {
                if flow.available(key, receiver) == 0 {
                    continue;
                }
                let common = entry.prefix.len().min(got.shown.len());
                if entry.prefix[..common] != got.shown[..common] {
                    continue;
                }
                let matched = if key.len == got.key.len && (key.truncated || got.key.truncated) {
                    Matched::Prefix
                } else if key.len > got.key.len && got.maybe_cut {
                    Matched::CutToBuffer { len: key.len }
                } else {
                    continue;
                };
                // Deterministic choice whatever the hash map order: lowest flow, then key.
                let candidate = (id, *key, matched);
                if best.is_none_or(|(bid, bkey, _)| (id, *key) < (bid, bkey)) {
                    best = Some(candidate);
                }
            }
            if best.is_some() {
                break;
            }
        }
        best
    }

    /// Is any datagram in flight for `receiver` on a flow to `port` that `eligible` accepts?
    pub fn anything_for(
        &self,
        port: u16,
        receiver: SockId,
        eligible: impl Fn(&Flow) -> bool,
    ) -> bool {
        self.in_flight_by_port.get(&port).is_some_and(|ids| {
            ids.iter().any(|id| {
                let flow = &self.flows[*id];
                let waiting = flow
                    .inflight
                    .keys()
                    .any(|k| flow.available(k, receiver) > 0);
                waiting && eligible(flow)
            })
        })
    }

    /// Takes one datagram `key` off flow `id` for `receiver`.
    pub fn take(&mut self, id: FlowId, key: DgramKey, receiver: SockId) {
        let flow = &mut self.flows[id];
        if !flow.receivers.contains(&receiver) {
            flow.receivers.push(receiver);
        }
        if flow.group {
            let took = flow.group_takes.entry((key, receiver)).or_insert(0);
            *took += 1;
            let delivered = flow.group_delivered.entry(key).or_insert(0);
            if *took > *delivered {
                *delivered = *took;
                flow.by_size.entry(key.len).or_default().1 += 1;
            }
            return;
        }
        flow.by_size.entry(key.len).or_default().1 += 1;
        let gone = match flow.inflight.get_mut(&key) {
            Some(entry) => {
                entry.count = entry.count.saturating_sub(1);
                entry.count == 0
            }
            None => false,
        };
        if gone {
            flow.inflight.remove(&key);
            if flow.inflight.is_empty() {
                let port = flow.dest.port();
                if let Some(set) = self.in_flight_by_port.get_mut(&port) {
                    set.remove(&id);
                    if set.is_empty() {
                        self.in_flight_by_port.remove(&port);
                    }
                }
            }
            if let Some(ids) = self.by_dgram.get_mut(&key) {
                ids.retain(|f| *f != id);
                if ids.is_empty() {
                    self.by_dgram.remove(&key);
                }
            }
        }
    }

    /// Copies of datagram `key` in flight on flow `id` for `receiver`.
    pub fn copies(&self, id: FlowId, key: DgramKey, receiver: SockId) -> usize {
        self.flows[id].available(&key, receiver) as usize
    }

    /// Notes a receiver of a flow (for a peek, which takes nothing).
    pub fn note_receiver(&mut self, id: FlowId, receiver: SockId) {
        let flow = &mut self.flows[id];
        if !flow.receivers.contains(&receiver) {
            flow.receivers.push(receiver);
        }
    }

    /// The flows with their in-flight datagrams in a stable order (hash maps sorted).
    pub fn snapshot(&self) -> Vec<String> {
        self.flows
            .iter()
            .map(|f| {
                let mut inflight: Vec<_> = f.inflight.iter().map(|(k, v)| (*k, v.count)).collect();
                inflight.sort();
                format!("{:?} {:?} {:?} {:?}", f.sender, f.dest, f.by_size, inflight)
            })
            .collect()
    }

    pub fn all(&self) -> &[Flow] {
        &self.flows
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::TraceId;

    fn sock(n: u32) -> SockId {
        SockId {
            trace: TraceId(0),
            n,
        }
    }

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn identical_datagrams_form_a_multiset() {
        let mut flows = Flows::default();
        let key = DgramKey::of(4, b"ping", false);
        let loc = Loc::new(TraceId(0), 1);
        let dest = addr("10.0.0.2:53");
        flows.send(sock(0), None, dest, false, key, b"ping", (loc, None));
        flows.send(sock(0), None, dest, false, key, b"ping", (loc, None));
        let got = Received {
            key,
            shown: b"ping",
            maybe_cut: false,
        };
        let (id, k, m) = flows.find(got, 53, sock(9), |_| true).unwrap();
        assert_eq!(m, Matched::Exact);
        flows.take(id, k, sock(9));
        flows.take(id, k, sock(9));
        assert!(flows.find(got, 53, sock(9), |_| true).is_none());
        assert_eq!(flows.get(id).to_outcome().by_size, vec![(4, 2, 2)]);
    }

    /// Two avahi-daemons on one link (svc/avahi-pair--tt): a probe sent to 224.0.0.251:5353
    /// reaches the other member and, looped back, its sender; each takes its own copy, and the
    /// flow counts it received once.
    #[test]
    fn every_receiver_of_a_group_flow_takes_its_own_copy() {
        let mut flows = Flows::default();
        let key = DgramKey::of(5, b"probe", false);
        let loc = Loc::new(TraceId(0), 877);
        let group = addr("224.0.0.251:5353");
        let (id, _) = flows.send(sock(0), None, group, true, key, b"probe", (loc, None));
        let got = Received {
            key,
            shown: b"probe",
            maybe_cut: false,
        };
        for receiver in [sock(0), sock(7)] {
            assert!(flows.anything_for(5353, receiver, |_| true));
            let (found, k, _) = flows.find(got, 5353, receiver, |_| true).unwrap();
            assert_eq!(flows.copies(found, k, receiver), 1);
            flows.take(found, k, receiver);
            assert!(flows.find(got, 5353, receiver, |_| true).is_none());
            assert!(!flows.anything_for(5353, receiver, |_| true));
        }
        assert_eq!(flows.get(id).to_outcome().by_size, vec![(5, 1, 1)]);
        assert_eq!(flows.get(id).in_flight(), 0);
    }

    #[test]
    fn truncated_content_matches_by_prefix_and_cut_datagrams_are_found() {
        let mut flows = Flows::default();
        let loc = Loc::new(TraceId(0), 1);
        let dest = addr("10.0.0.2:9");
        let long = DgramKey::of(100, b"abcdef", true);
        flows.send(sock(0), None, dest, false, long, b"abcdef", (loc, None));
        let got = Received {
            key: DgramKey::of(100, b"abc", true),
            shown: b"abc",
            maybe_cut: false,
        };
        assert_eq!(
            flows.find(got, 9, sock(9), |_| true).unwrap().2,
            Matched::Prefix
        );
        let cut = Received {
            key: DgramKey::of(10, b"abcdef", true),
            shown: b"abcdef",
            maybe_cut: true,
        };
        assert_eq!(
            flows.find(cut, 9, sock(9), |_| true).unwrap().2,
            Matched::CutToBuffer { len: 100 }
        );
        let other = Received {
            key: DgramKey::of(100, b"xyz", true),
            shown: b"xyz",
            maybe_cut: false,
        };
        assert!(flows.find(other, 9, sock(9), |_| true).is_none());
    }
}
