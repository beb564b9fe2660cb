//! Zero-config inference: one host per trace, its addresses, and the NATs that explain address
//! mismatches between connects and accepts. Inferred NAT rules carry `inferred = true` and their
//! evidence, so that they are reported, never silently applied.

mod behind_nat;
mod facts;
mod forwarded;
mod world;

use std::borrow::Borrow;
use std::net::IpAddr;

use serde::Serialize;

use super::NatRule;
use crate::parse::Call;
use crate::source::Loc;
use world::World;

pub use facts::{AcceptFact, ConnectFact, TraceFacts};

/// What the traces say about the hosts (index = trace index, one host per trace).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Inference {
    pub hosts: Vec<InferredHost>,
    /// Mismatches that a NAT could explain but where the traces do not tell which host is
    /// behind it. Nothing is inferred for these.
    pub ambiguities: Vec<Ambiguity>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct InferredHost {
    pub ips: Vec<IpAddr>,
    pub nats: Vec<InferredNat>,
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

/// Infers hosts from each trace's calls (one iterator per trace, in trace order).
pub fn infer<C, I>(traces: impl IntoIterator<Item = I>) -> Inference
where
    C: Borrow<Call>,
    I: IntoIterator<Item = C>,
{
    let facts: Vec<TraceFacts> = traces.into_iter().map(TraceFacts::gather).collect();
    infer_from_facts(&facts)
}

/// Inference over already gathered facts.
pub fn infer_from_facts(facts: &[TraceFacts]) -> Inference {
    let mut inference = Inference {
        hosts: facts
            .iter()
            .map(|f| InferredHost {
                ips: f.own.iter().copied().collect(),
                nats: Vec::new(),
            })
            .collect(),
        ambiguities: Vec::new(),
    };
    let world = World::new(facts);
    behind_nat::infer_clients_behind_nats(&world, &mut inference);
    forwarded::infer_forwarded_servers(&world, &mut inference);
    inference
}

/// Calls kept as evidence of one inferred rule (the first ones seen).
const MAX_EVIDENCE: usize = 6;

/// Adds a rule to a host once; a rule seen again only gains evidence.
fn add_nat(
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
        Some(existing) => {
            for loc in evidence {
                if existing.evidence.len() < MAX_EVIDENCE && !existing.evidence.contains(&loc) {
                    existing.evidence.push(loc);
                }
            }
        }
        None => host.nats.push(InferredNat {
            rule,
            reason,
            evidence: evidence.to_vec(),
        }),
    }
}

#[cfg(test)]
mod tests;
