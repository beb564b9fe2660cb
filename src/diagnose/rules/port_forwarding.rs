//! `port-forwarding`: a traced server accepts connections no traced client aimed at its address.

use super::{
    claim_accepts_and_unaccepted, deviation_evidence, io_uring_behind, peer_ips,
    successful_connects_hidden, unknown_peer_accepts, UnacceptedIndex,
};
use crate::diagnose::rule::Rule;
use crate::diagnose::{Claims, Class, Context, Finding};
use crate::source::TraceId;
use std::net::SocketAddr;

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
forwarded the connection to the server. A peer whose host's trace set up an io_uring is left
out: connects made through the ring have no system call strace could show; so is one whose host's
every trace shows failed calls only (`-Z`), which hides a connect that worked. In zero-config runs, a port forward the configuration
stage inferred (a `nat` rule with both ports) is reported here too, so the guess can be checked.

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
    let mut findings = super::nat_undeclared::inferred_nats(cx, &RULE, true);
    // A connection from a host whose program connected through io_uring matches no traced
    // connect because strace cannot show that connect, nor from one traced with its failed
    // calls only (`-Z`): no evidence of a forward.
    let groups = unknown_peer_accepts(cx, claims, |peer| {
        !io_uring_behind(cx, peer.ip()) && !successful_connects_hidden(cx, peer.ip())
    });
    if groups.is_empty() {
        return findings;
    }
    let unanswered = unanswered_connects(cx);
    let mut targets: Vec<String> = unanswered
        .iter()
        .map(|(trace, target)| format!("{target} (from {})", cx.who(*trace)))
        .collect();
    targets.sort();
    targets.dedup();
    let unaccepted = UnacceptedIndex::new(cx);
    for ((trace, local), group) in groups {
        let peers = peer_ips(&group);
        let mut finding = RULE
            .finding(
                format!(
                "{} accepted {} connection(s) at {local} from {} that match no traced connect to \
                 that address: the connections were forwarded from another address or port",
                cx.who(trace),
                group.len(),
                peers.join(", ")
            ),
                format!(
                    "declare the forward on the server's host (`nat {},{} {}`) and \
                 check where it points",
                    server_ip(cx, trace, local),
                    local.port(),
                    public_guess(&unanswered)
                ),
            )
            .with_evidence(
                group
                    .iter()
                    .flat_map(|a| deviation_evidence(a.deviation, "accept matching no connect")),
            );
        if !targets.is_empty() {
            finding = finding.with_fact(format!(
                "traced connects to addresses where no traced socket listened: {}",
                targets.join(", ")
            ));
        }
        // The clients' connects to the public address and the server's accepts are one story.
        claims.claim_trace(trace);
        for (client_trace, _) in &unanswered {
            claims.claim_trace(*client_trace);
        }
        findings.push(claim_accepts_and_unaccepted(
            cx,
            claims,
            finding,
            &group,
            &unaccepted,
            (trace, local),
        ));
    }
    findings
}

/// Connects (by trace) to addresses where no traced socket listened, or of no host at all.
fn unanswered_connects(cx: &Context) -> Vec<(TraceId, SocketAddr)> {
    let matcher = cx.matcher();
    let connections = cx
        .outcome
        .tcp
        .iter()
        .filter(|c| c.listener.is_none() && c.server.is_none())
        .filter_map(|c| c.client_view.1.map(|a| (c.client.trace, a)));
    let pending = cx
        .outcome
        .pending_connects
        .iter()
        .map(|p| (p.sock.trace, p.target));
    let strangers = cx.outcome.activity.iter().flat_map(|a| {
        let trace = a.trace;
        a.unknown_peers
            .iter()
            .filter(|p| matcher.is_outside(**p))
            .filter_map(move |p| trace.map(|t| (t, *p)))
    });
    connections.chain(pending).chain(strangers).collect()
}

/// The server's address for the suggested `nat` line: the listener's, or its host's first address
/// when it listens on the wildcard.
fn server_ip(cx: &Context, trace: TraceId, local: SocketAddr) -> String {
    if !local.ip().is_unspecified() {
        return local.ip().to_string();
    }
    cx.topology
        .host_of(trace)
        .and_then(|h| h.ips.first())
        .map_or_else(|| "SERVER_IP".to_string(), |ip| ip.to_string())
}

/// The forward's public side when the traced clients all dialled one unanswered address.
fn public_guess(unanswered: &[(TraceId, SocketAddr)]) -> String {
    let mut targets: Vec<SocketAddr> = unanswered.iter().map(|(_, a)| *a).collect();
    targets.sort();
    targets.dedup();
    match targets.as_slice() {
        [one] => format!("{},{}", one.ip(), one.port()),
        _ => "PUBLIC_IP,PUBLIC_PORT".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::model::ReplayOutcome;
    use crate::testkit::fixtures::*;
    use crate::testkit::rules::*;

    #[test]
    fn fires_alone_on_a_port_forwarding_pattern() {
        assert_fires_on(&RULE, accept_from("10.0.0.1:5555", "10.0.0.2:3005"));
    }

    #[test]
    fn fires_on_recorded_port_forward_undeclared() {
        assert_recorded_scenarios_report(&RULE, &["port-forward-undeclared"]);
    }

    #[test]
    fn an_inferred_port_forward_is_reported_as_port_forwarding() {
        let mut inferred = two_hosts();
        add_nat(&mut inferred, 1, "192.168.1.50", "96.250.21.150", true);
        if let Some(nat) = inferred.hosts[1].nats.last_mut() {
            nat.private.port = Some(3005);
            nat.public.port = Some(3001);
        }
        let found = findings(inferred, ReplayOutcome::default());
        assert_eq!(rules_of(&found), ["port-forwarding"]);
        assert!(found[0]
            .hint
            .contains("nat 192.168.1.50,3005 96.250.21.150,3001"));
    }

    #[test]
    fn port_forwarding_suggests_the_dialled_public_address() {
        let topology = topology(&[("client", &["128.238.1.5"]), ("server", &["192.168.1.50"])]);
        let mut outcome = accept_from("128.238.1.5:40000", "0.0.0.0:3005");
        outcome.activity = vec![
            activity(0, 3, 0, &["96.250.21.150:3001"]),
            activity(1, 4, 0, &["128.238.1.5:40000"]),
        ];
        let found = findings(topology, outcome);
        assert_eq!(rules_of(&found), ["port-forwarding"], "{found:#?}");
        assert!(found[0]
            .hint
            .contains("nat 192.168.1.50,3005 96.250.21.150,3001"));
    }

    #[test]
    fn accepts_from_a_host_traced_with_failed_calls_only_are_no_forward() {
        let outcome = accept_from("10.0.0.1:5555", "10.0.0.2:3005");
        let mut parse = vec![crate::parse::ParseStats::default(); 2];
        parse[0].calls = 3;
        parse[0].successes = crate::parse::Successes::NoneYet;
        parse[1].calls = 40;
        parse[1].successes = crate::parse::Successes::Seen;
        let found =
            crate::pipeline::Analysis::new(two_hosts(), parse, Vec::new(), outcome).findings;
        assert!(!rules_of(&found).contains(&RULE.id), "{found:#?}");
    }

    /// filters/healthy-busybox--Z-tt: busybox httpd (traced in full) accepts busybox wget's
    /// connection; wget's trace (`-Z`) shows no connect, since it succeeded.
    #[test]
    fn a_recorded_client_traced_with_failed_calls_only_is_no_forward() {
        let analysis = recorded("filters", "healthy-busybox--Z-tt");
        assert!(!rules_of(&analysis.findings).contains(&RULE.id));
    }
}
