//! The diagram's arrows: which drawn call reached which. connect → accept from the model's
//! connections; TCP sends → the receive that got their first byte, by byte offset in each
//! direction; UDP sends → the next receive of the same size on a receiving socket of the flow.
//! A send nothing received ends in a cross; a refusal bounces back.

use std::collections::{BTreeSet, HashMap, HashSet};

use super::capture::{CallKind, StepRecord};
use super::diagram::{Arrow, ArrowKind, Membership};
use super::lanes::Lanes;
use crate::model::TcpConnection;
use crate::parse::Errno;
use crate::pipeline::Analysis;
use crate::source::{Loc, SockId};

/// How far ahead a datagram looks for its receive (receives are matched in order).
const DATAGRAM_WINDOW: usize = 256;

struct Drawn {
    by_position: HashMap<u64, usize>,
    by_call: HashMap<(Loc, CallKind), usize>,
    /// Drawn connect calls of each socket, in order.
    connects: HashMap<SockId, Vec<usize>>,
}

impl Drawn {
    fn row(&self, r: &StepRecord) -> Option<usize> {
        self.by_position.get(&r.position).copied()
    }
}

pub(super) fn build(
    analysis: &Analysis,
    records: &[StepRecord],
    kept: &[&StepRecord],
    tcp: &BTreeSet<usize>,
    udp: &BTreeSet<usize>,
    lanes: &mut Lanes,
    membership: &Membership,
) -> Vec<Arrow> {
    let mut connects: HashMap<SockId, Vec<usize>> = HashMap::new();
    for (i, r) in kept.iter().enumerate() {
        if let (CallKind::Connect, Some(sock)) = (r.kind, r.sock) {
            connects.entry(sock).or_default().push(i);
        }
    }
    let drawn = Drawn {
        connects,
        by_position: kept
            .iter()
            .enumerate()
            .map(|(i, r)| (r.position, i))
            .collect(),
        by_call: kept
            .iter()
            .enumerate()
            .map(|(i, r)| ((r.loc, r.kind), i))
            .collect(),
    };
    let mut by_sock: HashMap<SockId, Vec<&StepRecord>> = HashMap::new();
    for r in records {
        if let Some(s) = r.sock {
            by_sock.entry(s).or_default().push(r);
        }
    }
    let conn = |s: Option<SockId>| s.and_then(|s| membership.conn_of.get(&s).cloned());
    let mut arrows = Vec::new();
    for &i in tcp {
        let Some(c) = analysis.outcome.tcp.get(i) else {
            continue;
        };
        let id = Some(format!("t{i}"));
        handshake(c, &drawn, lanes, id.clone(), &mut arrows);
        if let Some(server) = c.server {
            let (Some(to_server), Some(to_client)) =
                (lanes.of_sock(server), lanes.of_sock(c.client))
            else {
                continue;
            };
            stream(
                &by_sock,
                c.client,
                server,
                to_server,
                &drawn,
                id.clone(),
                &mut arrows,
            );
            stream(
                &by_sock,
                server,
                c.client,
                to_client,
                &drawn,
                id,
                &mut arrows,
            );
        }
    }
    let mut matched: HashSet<u64> = HashSet::new();
    for &i in udp {
        let Some(f) = analysis.outcome.udp.get(i) else {
            continue;
        };
        let flows_of_sender = analysis
            .outcome
            .udp
            .iter()
            .filter(|g| g.sender == f.sender)
            .count();
        let mut receives: Vec<&StepRecord> = f
            .receivers
            .iter()
            .flat_map(|s| by_sock.get(s).into_iter().flatten())
            .filter(|r| r.kind == CallKind::Recv && r.bytes > 0 && r.errno.is_none())
            .filter(|r| f.sender_addr.is_none() || r.addr.is_none() || r.addr == f.sender_addr)
            .copied()
            .collect();
        receives.sort_by_key(|r| r.position);
        let target = match f.receivers.first().and_then(|s| lanes.of_sock(*s)) {
            Some(lane) => lane,
            None => lanes.of_addr(Some(f.receiver_addr)),
        };
        let sends = by_sock.get(&f.sender).into_iter().flatten().filter(|r| {
            r.kind == CallKind::Send
                && r.errno.is_none()
                && (r.addr == Some(f.receiver_addr) || (r.addr.is_none() && flows_of_sender == 1))
        });
        let mut first_open = 0;
        for send in sends {
            while receives
                .get(first_open)
                .is_some_and(|r| matched.contains(&r.position) || r.position < send.position)
            {
                first_open += 1;
            }
            let found = receives
                .iter()
                .skip(first_open)
                .take(DATAGRAM_WINDOW)
                .find(|r| {
                    r.position > send.position
                        && r.bytes == send.bytes
                        && (r.digest.is_none() || send.digest.is_none() || r.digest == send.digest)
                        && !matched.contains(&r.position)
                })
                .copied();
            if let Some(r) = found {
                matched.insert(r.position);
            }
            let Some(from) = drawn.row(send) else {
                continue;
            };
            let id = Some(format!("u{i}"));
            match found {
                Some(r) => {
                    if let Some(to) = drawn.row(r) {
                        arrows.push(Arrow {
                            from,
                            to: Some(to),
                            to_lane: kept[to]
                                .sock
                                .and_then(|s| lanes.of_sock(s))
                                .unwrap_or(target),
                            kind: ArrowKind::Datagram,
                            label: format!("{} B", send.bytes),
                            conn: id,
                        });
                    }
                }
                None => arrows.push(Arrow {
                    from,
                    to: None,
                    to_lane: target,
                    kind: ArrowKind::Lost,
                    label: format!("{} B lost", send.bytes),
                    conn: id,
                }),
            }
        }
    }
    for (from, r) in kept.iter().enumerate() {
        let Some(errno) = r.errno else { continue };
        let kind = match (r.kind, errno) {
            (CallKind::Connect | CallKind::Send | CallKind::Recv, Errno::ECONNREFUSED)
            | (CallKind::Connect, Errno::ECONNRESET) => ArrowKind::Refused,
            (
                CallKind::Connect,
                Errno::ETIMEDOUT | Errno::EHOSTUNREACH | Errno::ENETUNREACH | Errno::EHOSTDOWN,
            ) => ArrowKind::Lost,
            _ => continue,
        };
        let to_lane = lanes.of_addr(r.addr);
        arrows.push(Arrow {
            from,
            to: None,
            to_lane,
            kind,
            label: errno.as_str().to_string(),
            conn: conn(r.sock),
        });
    }
    arrows
}

/// connect → accept; a connect the other side never accepted ends in a cross.
fn handshake(
    c: &TcpConnection,
    drawn: &Drawn,
    lanes: &mut Lanes,
    conn: Option<String>,
    arrows: &mut Vec<Arrow>,
) {
    // A nonblocking connect completes at a later call (poll, getsockopt): the arrow starts at
    // the connect itself.
    let from = drawn
        .by_call
        .get(&(c.connect_loc, CallKind::Connect))
        .copied()
        .or_else(|| {
            drawn
                .connects
                .get(&c.client)
                .and_then(|rows| rows.first().copied())
        });
    let Some(from) = from else {
        return;
    };
    match c.accept_loc {
        Some(accept) => {
            let Some(&to) = drawn.by_call.get(&(accept, CallKind::Accept)) else {
                return;
            };
            let to_lane = c.server.and_then(|s| lanes.of_sock(s)).unwrap_or(0);
            arrows.push(Arrow {
                from,
                to: Some(to),
                to_lane,
                kind: ArrowKind::Connect,
                label: String::new(),
                conn,
            });
        }
        None => {
            let to_lane = lanes.of_addr(c.client_view.1);
            arrows.push(Arrow {
                from,
                to: None,
                to_lane,
                kind: ArrowKind::Lost,
                label: "never accepted".into(),
                conn,
            });
        }
    }
}

/// One direction of a connection: each drawn send → the receive that got its first byte.
fn stream(
    by_sock: &HashMap<SockId, Vec<&StepRecord>>,
    sender: SockId,
    receiver: SockId,
    receiver_lane: usize,
    drawn: &Drawn,
    conn: Option<String>,
    arrows: &mut Vec<Arrow>,
) {
    let moved = |s: SockId, kind: CallKind| {
        by_sock
            .get(&s)
            .into_iter()
            .flatten()
            .filter(move |r| r.kind == kind && r.bytes > 0 && r.errno.is_none())
            .copied()
    };
    let receives: Vec<(u64, &StepRecord)> = moved(receiver, CallKind::Recv)
        .scan(0u64, |end, r| {
            *end += r.bytes;
            Some((*end, r))
        })
        .collect();
    let mut sent = 0u64;
    let mut next = 0usize;
    for send in moved(sender, CallKind::Send) {
        let start = sent;
        sent += send.bytes;
        while receives.get(next).is_some_and(|(end, _)| *end <= start) {
            next += 1;
        }
        let Some(from) = drawn.row(send) else {
            continue;
        };
        match receives.get(next) {
            Some((_, r)) => {
                if let Some(to) = drawn.row(r) {
                    arrows.push(Arrow {
                        from,
                        to: Some(to),
                        to_lane: receiver_lane,
                        kind: ArrowKind::Data,
                        label: format!("{} B", send.bytes),
                        conn: conn.clone(),
                    });
                }
            }
            None => arrows.push(Arrow {
                from,
                to: None,
                to_lane: receiver_lane,
                kind: ArrowKind::Lost,
                label: format!("{} B never received", send.bytes),
                conn: conn.clone(),
            }),
        }
    }
}
