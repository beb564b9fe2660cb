//! Deviations: selecting, grouping and turning them into evidence and findings.

use std::collections::BTreeMap;

use crate::diagnose::claims::Claims;
use crate::diagnose::context::Context;
use crate::diagnose::rule::Rule;
use crate::diagnose::{Evidence, Finding};
use crate::model::{Deviation, DeviationKind};
use crate::source::{SockId, TraceId};

/// Unclaimed deviations accepted by `select`, with their index in the outcome.
pub(crate) fn deviations<'a>(
    cx: &Context<'a>,
    claims: &Claims,
    select: impl Fn(&DeviationKind) -> bool,
) -> Vec<(usize, &'a Deviation)> {
    cx.outcome
        .deviations
        .iter()
        .enumerate()
        .filter(|(i, d)| !claims.deviation(*i) && select(&d.kind))
        .collect()
}

/// The call that shows a deviation, then its counterparts on other traces.
pub(crate) fn deviation_evidence(d: &Deviation, note: &str) -> Vec<Evidence> {
    std::iter::once(Evidence::new(d.loc, note))
        .chain(
            d.related
                .iter()
                .map(|&loc| Evidence::new(loc, "counterpart call")),
        )
        .collect()
}

/// Groups items by a key, keeping first-seen order inside each group and key order between
/// groups (deterministic output).
pub(crate) fn group_by<K: Ord, T>(
    items: impl IntoIterator<Item = T>,
    key: impl Fn(&T) -> K,
) -> BTreeMap<K, Vec<T>> {
    let mut groups: BTreeMap<K, Vec<T>> = BTreeMap::new();
    for item in items {
        groups.entry(key(&item)).or_default().push(item);
    }
    groups
}

/// The socket a deviation is about, with the trace of its call.
pub(crate) fn sock_or_trace(d: &Deviation) -> (TraceId, Option<SockId>) {
    (d.loc.trace, d.sock)
}

/// `socket A3 on host web` or `host web (trace A)` when the socket is unknown.
pub(crate) fn subject(cx: &Context, trace: TraceId, sock: Option<SockId>) -> String {
    match sock {
        Some(sock) => cx.sock(sock),
        None => cx.who(trace),
    }
}

/// One finding per trace for a deviation kind whose meaning is the same on every call (the
/// simple 1:1 rules share this), naming every socket involved.
pub(crate) fn per_socket_findings(
    cx: &Context,
    claims: &mut Claims,
    rule: &'static Rule,
    select: impl Fn(&DeviationKind) -> bool,
    describe: impl Fn(&str, &[(usize, &Deviation)]) -> (String, String),
    note: &str,
) -> Vec<Finding> {
    let selected = deviations(cx, claims, select);
    let groups = group_by(selected, |(_, d)| d.loc.trace);
    let mut findings = Vec::new();
    for (trace, group) in groups {
        let mut socks: Vec<SockId> = group.iter().filter_map(|(_, d)| d.sock).collect();
        socks.sort();
        socks.dedup();
        let who = sockets_of(cx, trace, &socks);
        let (summary, hint) = describe(&who, &group);
        findings.push(explained_by(
            rule.finding(summary, hint),
            &group,
            note,
            claims,
        ));
    }
    findings
}

/// `finding` as the explanation of the deviations in `group`: each one's call is evidence (with
/// `note`), its detail a fact, and the deviation is claimed.
pub(crate) fn explained_by(
    finding: Finding,
    group: &[(usize, &Deviation)],
    note: &str,
    claims: &mut Claims,
) -> Finding {
    let mut finding =
        finding.with_evidence(group.iter().flat_map(|(_, d)| deviation_evidence(d, note)));
    for (index, d) in group {
        claims.claim_deviation(*index);
        finding = finding.with_fact(d.detail.clone());
    }
    finding.facts.dedup();
    finding
}

/// `socket A3 on host web`, `sockets A1, A3 on host web (trace A)`, or `host web (trace A)`.
pub(crate) fn sockets_of(cx: &Context, trace: TraceId, socks: &[SockId]) -> String {
    match socks {
        [] => cx.who(trace),
        [one] => cx.sock(*one),
        many => {
            let names: Vec<String> = many.iter().map(|s| s.to_string()).collect();
            format!("sockets {} on {}", names.join(", "), cx.who(trace))
        }
    }
}

/// Claims every deviation about `sock` of the given kinds (the finding that explains the socket's
/// stream also explains them).
pub(crate) fn claim_socket_deviations(
    cx: &Context,
    claims: &mut Claims,
    sock: SockId,
    select: impl Fn(&DeviationKind) -> bool,
) {
    for (i, d) in cx.outcome.deviations.iter().enumerate() {
        if d.sock == Some(sock) && select(&d.kind) {
            claims.claim_deviation(i);
        }
    }
}
