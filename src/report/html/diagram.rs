//! The time-space diagram's data: one lane per trace (grouped by host), the calls drawn in
//! reconstructed order, the arrows between them and the traffic summarised instead of drawn.
//!
//! Only the connections and flows a finding cites (or that deviated) are drawn, with at most
//! [`MAX_DRAWN_STEPS`] calls; every other connection is counted in an [`Aggregate`] per pair of
//! lanes, so the page stays small whatever the size of the traces.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

use super::arrows;
use super::capture::{CallKind, Captured, StepRecord};
use super::lanes::Lanes;
pub use super::select::MAX_DRAWN_STEPS;
use super::select::{select, within_budget, Selection};
use crate::pipeline::Analysis;
use crate::source::{Loc, SockId, TraceId};

#[derive(Debug, Clone, Serialize)]
pub struct Diagram {
    pub lanes: Vec<Lane>,
    pub rows: Vec<Row>,
    pub arrows: Vec<Arrow>,
    pub aggregates: Vec<Aggregate>,
    /// The drawn connections and flows, for the filter.
    pub connections: Vec<ConnectionLabel>,
    /// Per finding, the [`loc_key`] of each evidence call (in evidence order).
    pub evidence_keys: Vec<Vec<String>>,
    /// Every call placed in the reconstructed order.
    pub total_steps: u64,
    /// Calls of drawn connections left out to keep the drawing bounded.
    pub omitted_steps: u64,
}

/// A vertical lane: one trace, or the untraced rest of the world.
#[derive(Debug, Clone, Serialize)]
pub struct Lane {
    /// Trace ID; empty for the untraced lane.
    pub trace_id: String,
    pub trace: String,
    pub host: String,
    /// Index of the host in the configuration; `None` for the untraced lane.
    pub host_index: Option<usize>,
    /// The process this lane shows, when its trace is split by process.
    pub pid: Option<u32>,
}

/// One drawn call.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub position: u64,
    pub lane: usize,
    /// `TRACE:FILE:LINE`, the key evidence links use.
    pub key: String,
    pub kind: CallKind,
    pub sock: String,
    pub label: String,
    pub call: String,
    pub deviation: Option<String>,
    /// Connection or flow ID (`t0`, `u2`).
    pub conn: Option<String>,
    /// Indices of the findings that cite this call.
    pub findings: Vec<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ArrowKind {
    /// connect → accept.
    Connect,
    /// TCP send → the receive that got its first byte.
    Data,
    /// UDP send → receive.
    Datagram,
    /// Sent but never received: ends in a cross.
    Lost,
    /// Refused by the other end: bounces back.
    Refused,
}

#[derive(Debug, Clone, Serialize)]
pub struct Arrow {
    /// Row index of the sending call.
    pub from: usize,
    /// Row index of the receiving call, when there is one.
    pub to: Option<usize>,
    /// Lane the arrow points at.
    pub to_lane: usize,
    pub kind: ArrowKind,
    pub label: String,
    pub conn: Option<String>,
}

/// Connections or flows between two lanes that are counted, not drawn.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Aggregate {
    pub from_lane: usize,
    pub to_lane: usize,
    /// `tcp` or `udp`.
    pub protocol: &'static str,
    pub count: u64,
    /// TCP: bytes client → server; UDP: datagrams sent.
    pub forward: u64,
    /// TCP: bytes server → client; UDP: datagrams received.
    pub back: u64,
    /// TCP: bytes never received; UDP: datagrams lost.
    pub lost: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ConnectionLabel {
    pub id: String,
    pub label: String,
}

/// The key that links evidence to drawn calls.
pub fn loc_key(loc: Loc) -> String {
    format!("{}:{}:{}", loc.trace, loc.file, loc.line)
}

/// Which connections (`t{i}`) and flows (`u{i}`) each socket belongs to.
pub(super) struct Membership {
    pub conn_of: HashMap<SockId, String>,
}

impl Membership {
    fn new(analysis: &Analysis) -> Membership {
        let mut conn_of = HashMap::new();
        for (i, c) in analysis.outcome.tcp.iter().enumerate() {
            let id = format!("t{i}");
            conn_of.entry(c.client).or_insert_with(|| id.clone());
            if let Some(server) = c.server {
                conn_of.entry(server).or_insert(id);
            }
        }
        for (i, f) in analysis.outcome.udp.iter().enumerate() {
            let id = format!("u{i}");
            conn_of.entry(f.sender).or_insert_with(|| id.clone());
            for r in &f.receivers {
                conn_of.entry(*r).or_insert_with(|| id.clone());
            }
        }
        Membership { conn_of }
    }
}

/// Builds the diagram of a run from its analysis and the calls captured during its replay.
pub fn build(analysis: &Analysis, captured: &Captured) -> Diagram {
    let mut cited: HashMap<Loc, Vec<usize>> = HashMap::new();
    for (i, f) in analysis.findings.iter().enumerate() {
        for e in &f.evidence {
            let list = cited.entry(e.loc).or_default();
            if !list.contains(&i) {
                list.push(i);
            }
        }
    }
    let traced: HashSet<TraceId> = analysis
        .topology
        .hosts
        .iter()
        .flat_map(|h| h.traces.iter().copied())
        .collect();
    let membership = Membership::new(analysis);
    let selection = select(analysis, &captured.records, &cited);
    // Every listener is drawn (bind and listen): where servers waited explains refusals.
    let listeners: HashSet<SockId> = captured
        .records
        .iter()
        .filter(|r| r.kind == CallKind::Listen)
        .filter_map(|r| r.sock)
        .collect();
    let drawn_sock = |s: Option<SockId>| s.is_some_and(|s| selection.socks.contains(&s));
    let listener_setup = |r: &StepRecord| {
        matches!(r.kind, CallKind::Bind | CallKind::Listen)
            && r.sock.is_some_and(|s| listeners.contains(&s))
    };
    let candidates: Vec<&StepRecord> = captured
        .records
        .iter()
        .filter(|r| traced.contains(&r.loc.trace))
        .filter(|r| {
            let special = r.deviation.is_some() || cited.contains_key(&r.loc);
            // A listener's accepts of connections not drawn are left out with them.
            let accepts_other = r.kind == CallKind::Accept && !drawn_sock(r.new_sock);
            special
                || listener_setup(r)
                || (r.kind != CallKind::Other && drawn_sock(r.sock) && !accepts_other)
        })
        .collect();
    let kept = within_budget(&candidates, &cited);
    let omitted_steps = (candidates.len() - kept.len()) as u64;
    let mut lanes = Lanes::new(analysis, &kept);
    let rows: Vec<Row> = kept
        .iter()
        .filter_map(|r| {
            Some(Row {
                position: r.position,
                lane: lanes.of_call(r)?,
                key: loc_key(r.loc),
                kind: r.kind,
                sock: r.sock.map_or_else(String::new, |s| s.to_string()),
                label: label(r),
                call: r.call.clone(),
                deviation: r.deviation.clone(),
                conn: r
                    .new_sock
                    .or(r.sock)
                    .and_then(|s| membership.conn_of.get(&s).cloned()),
                findings: cited.get(&r.loc).cloned().unwrap_or_default(),
            })
        })
        .collect();
    let arrows = arrows::build(
        analysis,
        &captured.records,
        &kept,
        &selection.tcp,
        &selection.udp,
        &mut lanes,
        &membership,
    );
    let aggregates = aggregate(analysis, &selection, &mut lanes);
    let connections = connection_labels(analysis, &selection);
    let evidence_keys = analysis
        .findings
        .iter()
        .map(|f| f.evidence.iter().map(|e| loc_key(e.loc)).collect())
        .collect();
    Diagram {
        evidence_keys,
        lanes: lanes.lanes,
        rows,
        arrows,
        aggregates,
        connections,
        total_steps: captured.steps,
        omitted_steps,
    }
}

fn with_errno(mut text: String, r: &StepRecord) -> String {
    if let Some(errno) = r.errno {
        text.push(' ');
        text.push_str(errno.as_str());
    }
    text
}

/// A short text for the call's dot: what it did to which socket.
fn label(r: &StepRecord) -> String {
    let sock = r.sock.map_or_else(|| "?".to_string(), |s| s.to_string());
    let addr = r.addr.map(|a| a.to_string());
    let text = match r.kind {
        CallKind::Socket => format!("socket {sock}"),
        CallKind::Bind => format!("bind {sock} {}", addr.unwrap_or_default()),
        CallKind::Listen => format!("listen {sock}"),
        CallKind::Connect => format!("connect {sock} → {}", addr.unwrap_or_default()),
        CallKind::Accept => match r.new_sock {
            Some(new) => format!("accept {sock} → {new}"),
            None => format!("accept {sock}"),
        },
        CallKind::Send => match addr {
            Some(a) => format!("send {sock} {} B → {a}", r.bytes),
            None => format!("send {sock} {} B", r.bytes),
        },
        CallKind::Recv => format!("recv {sock} {} B", r.bytes),
        CallKind::Shutdown => format!("shutdown {sock}"),
        CallKind::Close => format!("close {sock}"),
        CallKind::Other => {
            let name_end = r.call.find('(').unwrap_or(r.call.len());
            format!("{} {sock}", &r.call[..name_end])
        }
    };
    with_errno(text, r)
}

fn aggregate(analysis: &Analysis, selection: &Selection, lanes: &mut Lanes) -> Vec<Aggregate> {
    let mut groups: BTreeMap<(usize, usize, &'static str), Aggregate> = BTreeMap::new();
    let mut add = |from: usize, to: usize, protocol, count, forward, back, lost| {
        let entry = groups.entry((from, to, protocol)).or_insert(Aggregate {
            from_lane: from,
            to_lane: to,
            protocol,
            count: 0,
            forward: 0,
            back: 0,
            lost: 0,
        });
        entry.count += count;
        entry.forward += forward;
        entry.back += back;
        entry.lost += lost;
    };
    for (i, c) in analysis.outcome.tcp.iter().enumerate() {
        if selection.tcp.contains(&i) {
            continue;
        }
        let Some(from) = lanes.of_sock(c.client) else {
            continue;
        };
        let to = match c.server.and_then(|s| lanes.of_sock(s)) {
            Some(lane) => lane,
            None => lanes.of_addr(c.client_view.1),
        };
        let lost = c.to_server.unreceived() + c.to_client.unreceived();
        add(
            from,
            to,
            "tcp",
            1,
            c.to_server.stats.sent,
            c.to_client.stats.sent,
            lost,
        );
    }
    for link in &analysis.outcome.folded_tcp {
        let (Some(from), Some(to)) = (lanes.of_trace(link.client), lanes.of_trace(link.server))
        else {
            continue;
        };
        let (forward, back) = (link.to_server, link.to_client);
        add(from, to, "tcp", link.connections, forward, back, 0);
    }
    for (i, f) in analysis.outcome.udp.iter().enumerate() {
        if selection.udp.contains(&i) {
            continue;
        }
        let Some(from) = lanes.of_sock(f.sender) else {
            continue;
        };
        let to = match f.receivers.first().and_then(|s| lanes.of_sock(*s)) {
            Some(lane) => lane,
            None => lanes.of_addr(Some(f.receiver_addr)),
        };
        let sent: u64 = f.by_size.iter().map(|&(_, sent, _)| sent).sum();
        let received: u64 = f.by_size.iter().map(|&(_, s, r)| r.min(s)).sum();
        add(from, to, "udp", 1, sent, received, sent - received);
    }
    groups.into_values().collect()
}

fn connection_labels(analysis: &Analysis, selection: &Selection) -> Vec<ConnectionLabel> {
    let outcome = &analysis.outcome;
    let tcp = selection.tcp.iter().filter_map(|&i| {
        let c = outcome.tcp.get(i)?;
        let server = c.server.map_or_else(|| "?".to_string(), |s| s.to_string());
        let target = c
            .client_view
            .1
            .map_or_else(String::new, |a| format!(" ({a})"));
        Some(ConnectionLabel {
            id: format!("t{i}"),
            label: format!("TCP {} → {server}{target}", c.client),
        })
    });
    let udp = selection.udp.iter().filter_map(|&i| {
        let f = outcome.udp.get(i)?;
        Some(ConnectionLabel {
            id: format!("u{i}"),
            label: format!("UDP {} → {}", f.sender, f.receiver_addr),
        })
    });
    tcp.chain(udp).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fold::SocketEvent;
    use crate::order::{self, ReplayObserver};
    use crate::parse::Errno;
    use crate::pipeline::Analysis;
    use crate::report::html::capture::StepCapture;
    use crate::report::html::select::HEALTHY_EXAMPLES;
    use crate::testkit::script::{topology, Script};

    /// `healthy` request/reply connections, then (if `refused`) a connect to a closed port.
    fn run(healthy: usize, refused: bool) -> (Analysis, Captured) {
        let mut server = Script::new(0);
        let listener = server.tcp();
        server.bind(listener, "10.0.0.1:80");
        server.listen(listener);
        let mut client = Script::new(1);
        for i in 0..healthy {
            let c = client.tcp();
            client.connect(c, "10.0.0.1:80");
            client.send(c, b"ping");
            let s = server.accept(listener, &format!("10.0.0.2:{}", 2000 + i));
            server.recv(s, b"ping");
            server.send(s, b"pong!");
            client.recv(c, b"pong!");
            client.close(c);
            server.close(s);
        }
        if refused {
            let c = client.tcp();
            client.connect(c, "10.0.0.1:81");
            client.fails(Errno::ECONNREFUSED);
        }
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
        let outcome = order::replay(&topo, traces, &mut |step| capture.step(step));
        let analysis = Analysis::new(topo, Vec::new(), Vec::new(), outcome);
        (analysis, capture.finish())
    }

    #[test]
    fn cited_calls_are_drawn_and_healthy_connections_are_counted() {
        let (analysis, captured) = run(2000, true);
        assert!(!analysis.findings.is_empty());
        let d = build(&analysis, &captured);
        assert!(d.rows.len() <= MAX_DRAWN_STEPS);
        assert_eq!(d.lanes.len(), 2);
        let refused = d
            .arrows
            .iter()
            .find(|a| a.kind == ArrowKind::Refused)
            .expect("the refused connect bounces");
        let from = &d.rows[refused.from];
        assert!(from.label.starts_with("connect B") && from.label.ends_with("ECONNREFUSED"));
        assert!(!from.findings.is_empty(), "the refused connect is evidence");
        // Every healthy connection is summarised in one band from client to server.
        assert_eq!(d.aggregates.len(), 1);
        let band = &d.aggregates[0];
        assert_eq!((band.from_lane, band.to_lane, band.protocol), (1, 0, "tcp"));
        assert_eq!(
            (band.count, band.forward, band.back, band.lost),
            (2000, 8000, 10000, 0)
        );
        // Every finding's evidence is on the page.
        for keys in &d.evidence_keys {
            assert!(keys.iter().any(|k| d.rows.iter().any(|r| &r.key == k)));
        }
    }

    #[test]
    fn without_findings_a_few_connections_are_drawn_whole() {
        let (analysis, captured) = run(5, false);
        assert!(analysis.findings.is_empty());
        let d = build(&analysis, &captured);
        let connects = d
            .arrows
            .iter()
            .filter(|a| a.kind == ArrowKind::Connect)
            .count();
        let data = d
            .arrows
            .iter()
            .filter(|a| a.kind == ArrowKind::Data)
            .count();
        assert_eq!(connects, HEALTHY_EXAMPLES);
        assert_eq!(data, 2 * HEALTHY_EXAMPLES, "request and reply of each");
        assert_eq!(d.aggregates.iter().map(|a| a.count).sum::<u64>(), 2);
    }
}
