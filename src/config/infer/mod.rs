//! Zero-config inference: one host per trace (traces that talk over loopback share one), its addresses, and the NATs that explain address
//! mismatches between connects and accepts. Inferred NAT rules carry `inferred = true` and their
//! evidence, so that they are reported, never silently applied.

mod behind_nat;
mod facts;
mod forwarded;
mod inference;
mod reached_servers;
mod same_host;
mod seen_by_peers;
mod world;

use std::borrow::Borrow;

use crate::parse::Call;
use world::World;

pub use facts::{AcceptFact, ConnectFact, TraceFacts};
pub use inference::{Ambiguity, Inference, InferredHost, InferredNat, SeenAddress};

/// Infers hosts from each trace's calls (one iterator per trace, in trace order).
pub fn infer<C, I>(traces: impl IntoIterator<Item = I>) -> Inference
where
    C: Borrow<Call>,
    I: IntoIterator<Item = C>,
{
    let facts: Vec<TraceFacts> = traces.into_iter().map(TraceFacts::gather).collect();
    infer_from_facts(facts)
}

/// Inference over already gathered facts.
pub fn infer_from_facts(mut facts: Vec<TraceFacts>) -> Inference {
    let mut inference = Inference {
        hosts: facts
            .iter()
            .map(|f| InferredHost {
                ips: f.own.iter().copied().collect(),
                nats: Vec::new(),
                seen_by_peers: Vec::new(),
            })
            .collect(),
        ambiguities: Vec::new(),
        host_of_trace: same_host::hosts_by_loopback(&facts),
    };
    reached_servers::infer_addresses_reached_by_clients(&mut facts, &mut inference);
    let world = World::new(&facts);
    behind_nat::infer_clients_behind_nats(&world, &mut inference);
    forwarded::infer_forwarded_servers(&world, &mut inference);
    seen_by_peers::infer_addresses_seen_by_peers(&world, &mut inference);
    inference
}

#[cfg(test)]
mod tests;
