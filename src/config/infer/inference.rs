//! What inference concludes: per host, its addresses and NATs with their evidence, and the
//! mismatches it could not attribute.

use std::net::IpAddr;

use serde::Serialize;

use crate::config::NatRule;
use crate::source::Loc;

/// What the traces say about the hosts (index = trace index, one host per trace).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Inference {
    pub hosts: Vec<InferredHost>,
    /// Mismatches that a NAT could explain but where the traces do not tell which host is
    /// behind it. Nothing is inferred for these.
    pub ambiguities: Vec<Ambiguity>,
    /// The host of each trace, named by the first trace on it: traces whose programs talked
    /// over loopback run on one machine.
    pub host_of_trace: Vec<usize>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct InferredHost {
    /// The host's addresses: those its own trace showed, then those only its peers saw.
    pub ips: Vec<IpAddr>,
    pub nats: Vec<InferredNat>,
    /// Addresses in `ips` that the host's own trace never showed, only its peers.
    pub seen_by_peers: Vec<SeenAddress>,
}

/// An address a host was seen from by a server, taken as the host's own because its trace never
/// showed one (no `getsockname`, no `-yy`). A NAT in between would be invisible.
#[derive(Debug, Clone, Serialize)]
pub struct SeenAddress {
    pub ip: IpAddr,
    pub reason: String,
    pub evidence: Vec<Loc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct InferredNat {
    pub rule: NatRule,
    /// Why the rule was inferred (one sentence, addresses included).
    pub reason: String,
    /// The accept and connect calls that show the mismatch.
    pub evidence: Vec<Loc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Ambiguity {
    pub loc: Loc,
    pub message: String,
}

/// Calls kept as evidence of one inferred rule (the first ones seen).
pub(super) const MAX_EVIDENCE: usize = 6;

/// Adds `locs` to `evidence` up to [`MAX_EVIDENCE`], each once.
pub(super) fn extend_evidence(evidence: &mut Vec<Loc>, locs: impl IntoIterator<Item = Loc>) {
    for loc in locs {
        if evidence.len() < MAX_EVIDENCE && !evidence.contains(&loc) {
            evidence.push(loc);
        }
    }
}

/// Adds a rule to a host once; a rule seen again only gains evidence.
pub(super) fn add_nat(
    inference: &mut Inference,
    host: usize,
    rule: NatRule,
    reason: String,
    evidence: [Loc; 2],
) {
    let Some(host) = inference.hosts.get_mut(host) else {
        return;
    };
    match host.nats.iter_mut().find(|n| n.rule == rule) {
        Some(existing) => extend_evidence(&mut existing.evidence, evidence),
        None => host.nats.push(InferredNat {
            rule,
            reason,
            evidence: evidence.to_vec(),
        }),
    }
}
