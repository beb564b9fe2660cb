//! What the diagram draws: the connections and flows a finding cites or that deviated, and
//! within them at most [`MAX_DRAWN_STEPS`] calls, the decisive ones first.

use std::collections::{BTreeSet, HashMap};

use super::capture::{CallKind, StepRecord};
use crate::pipeline::Analysis;
use crate::source::{Loc, SockId};

/// Most calls drawn; the rest of the cited sockets' calls are counted in `omitted_steps`.
pub const MAX_DRAWN_STEPS: usize = 400;

/// Healthy connections and flows drawn in full when no finding cites any.
pub const HEALTHY_EXAMPLES: usize = 3;

/// The connections and flows to draw: those a finding or a deviation touches.
pub(super) struct Selection {
    pub tcp: BTreeSet<usize>,
    pub udp: BTreeSet<usize>,
    pub socks: BTreeSet<SockId>,
}

pub(super) fn select(
    analysis: &Analysis,
    records: &[StepRecord],
    cited: &HashMap<Loc, Vec<usize>>,
) -> Selection {
    let mut touched: BTreeSet<SockId> = BTreeSet::new();
    for r in records {
        if r.deviation.is_some() || cited.contains_key(&r.loc) {
            touched.extend(r.sock);
            touched.extend(r.new_sock);
        }
    }
    let outcome = &analysis.outcome;
    let mut tcp: BTreeSet<usize> = outcome
        .tcp
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            touched.contains(&c.client) || c.server.is_some_and(|s| touched.contains(&s))
        })
        .map(|(i, _)| i)
        .collect();
    let mut udp: BTreeSet<usize> = outcome
        .udp
        .iter()
        .enumerate()
        .filter(|(_, f)| {
            touched.contains(&f.sender) || f.receivers.iter().any(|r| touched.contains(r))
        })
        .map(|(i, _)| i)
        .collect();
    if touched.is_empty() {
        tcp.extend(0..outcome.tcp.len().min(HEALTHY_EXAMPLES));
        udp.extend(0..outcome.udp.len().min(HEALTHY_EXAMPLES));
    }
    let mut socks = touched;
    for &i in &tcp {
        let c = &outcome.tcp[i];
        socks.insert(c.client);
        socks.extend(c.server);
        socks.extend(c.listener);
    }
    for &i in &udp {
        let f = &outcome.udp[i];
        socks.insert(f.sender);
        socks.extend(f.receivers.iter().copied());
    }
    Selection { tcp, udp, socks }
}

/// The calls to draw: everything when it fits, else the decisive ones first (deviations and
/// evidence, then connection set-up), then the rest in order, up to [`MAX_DRAWN_STEPS`].
pub(super) fn within_budget<'r>(
    candidates: &[&'r StepRecord],
    cited: &HashMap<Loc, Vec<usize>>,
) -> Vec<&'r StepRecord> {
    if candidates.len() <= MAX_DRAWN_STEPS {
        return candidates.to_vec();
    }
    let tier = |r: &StepRecord| {
        if r.deviation.is_some() || cited.contains_key(&r.loc) {
            0
        } else if matches!(
            r.kind,
            CallKind::Connect | CallKind::Accept | CallKind::Listen | CallKind::Bind
        ) {
            1
        } else {
            2
        }
    };
    let mut chosen: Vec<&StepRecord> = Vec::with_capacity(MAX_DRAWN_STEPS);
    for wanted in 0..=2 {
        let room = MAX_DRAWN_STEPS - chosen.len();
        chosen.extend(
            candidates
                .iter()
                .copied()
                .filter(|r| tier(r) == wanted)
                .take(room),
        );
    }
    chosen.sort_by_key(|r| r.position);
    chosen
}
