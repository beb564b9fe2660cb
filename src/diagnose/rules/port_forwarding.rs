//! `port-forwarding`: a traced server accepts connections no traced client aimed at its address.

use super::{claim_unaccepted_at, deviation_evidence, peer_ips, unknown_peer_accepts};
use crate::diagnose::registry::Rule;
use crate::diagnose::{Claims, Class, Context, Finding};

pub const RULE: Rule = Rule {
    id: "port-forwarding",
    class: Class::Network,
    title: "A server accepts connections that no traced connect aimed at its own address",
    explanation: EXPLANATION,
    detect,
};

const EXPLANATION: &str = "\
## What it detects
A traced server socket accepts connections whose peer matches no traced connect to the server's
own address and port. The clients dialled some other address or port, and something on the way
forwarded the connection to the server.

## Why it matters
A port forward (a NAT in front of the server, a load balancer, a container runtime's published
port) is part of the path. When it is not declared, netcheck cannot pair the connects with these
accepts, and the forward itself may be what sends traffic to the wrong place.

## Evidence
The accepts whose peer matched no connect. The facts list the peers and the connects that went to
addresses no traced socket listened on, which are the likely other ends.

## What to do
Declare the forward on the server's host: `nat PRIVATE_IP,PORT PUBLIC_IP,PORT`, and check that
the forward points at the intended server and port.

Precedence: `nat-undeclared` takes an accept first when its peer belongs to no host while a traced
client has a private address.
";

fn detect(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    let groups = unknown_peer_accepts(cx, claims, |_| true);
    let unanswered_targets: Vec<String> = cx
        .outcome
        .tcp
        .iter()
        .filter(|c| c.listener.is_none() && c.server.is_none())
        .filter_map(|c| {
            c.client_view
                .1
                .map(|a| format!("{a} (from {})", cx.sock(c.client)))
        })
        .chain(
            cx.outcome
                .pending_connects
                .iter()
                .map(|p| format!("{} (from {})", p.target, cx.sock(p.sock))),
        )
        .collect();
    let mut findings = Vec::new();
    for ((trace, local), group) in groups {
        let peers = peer_ips(&group);
        let mut finding = Finding::new(
            &RULE,
            format!(
                "{} accepted {} connection(s) at {local} from {} that match no traced connect to \
                 that address: the connections were forwarded from another address or port",
                cx.who(trace),
                group.len(),
                peers.join(", ")
            ),
            format!(
                "declare the forward on the server's host (`nat {},{} PUBLIC_IP,PUBLIC_PORT`) and \
                 check where it points",
                local.ip(),
                local.port()
            ),
        )
        .with_evidence(
            group
                .iter()
                .flat_map(|a| deviation_evidence(a.deviation, "accept matching no connect")),
        );
        if !unanswered_targets.is_empty() {
            finding = finding.with_fact(format!(
                "traced connects to addresses where no traced socket listened: {}",
                unanswered_targets.join(", ")
            ));
        }
        for accept in &group {
            claims.claim_deviation(accept.index);
            finding = finding.with_fact(accept.deviation.detail.clone());
        }
        let unaccepted = claim_unaccepted_at(cx, claims, trace, local);
        if !unaccepted.is_empty() {
            finding = finding.with_fact(format!(
                "{} traced connect(s) matched to this listener were never accepted: probably \
                 the same connections, seen under another address",
                unaccepted.len()
            ));
            let mut evidence = std::mem::take(&mut finding.evidence);
            evidence.extend(unaccepted);
            finding = finding.with_evidence(evidence);
        }
        findings.push(finding);
    }
    findings
}
