//! `nat-undeclared`: traffic passes through a NAT the configuration does not declare.

use std::net::{IpAddr, SocketAddr};

use super::{
    calls_toward, claim_accepts_and_unaccepted, claim_unmatched_connection, deviation_evidence,
    group_by, peer_ips, unknown_peer_accepts, UnacceptedIndex,
};
use crate::diagnose::claims::Direction;
use crate::diagnose::context::is_private;
use crate::diagnose::rule::Rule;
use crate::diagnose::{Claims, Class, Context, Evidence, Finding};

pub const RULE: Rule = Rule {
    id: "nat-undeclared",
    class: Class::Network,
    title: "Traffic passes through a NAT that the configuration does not declare",
    explanation: EXPLANATION,
    detect,
};

const EXPLANATION: &str = "\
## What it detects
Four patterns. (1) A traced server accepts connections whose peer address belongs to no host,
while a traced client with a private address of its own connects to it and is never accepted (or
its connect cannot be matched): the client's address was rewritten on the way. (2) No trace
reaches another traced host, a traced server accepted connections from an address of no host, and
a traced client with a private address connected to an address of no host: both ends saw
rewritten addresses. Talking to unknown addresses alone is no evidence of a NAT (a wrong server
address looks the same) and is left to `no-peer-traffic`. (1b) The same for datagrams: a client
with a private address sends to a traced host's address where no traced socket receives them,
while a trace of that host receives datagrams from an address of no host (its answers, sent
there, are the datagrams the client receives \"from no traced sender\"). (4) Seen from one
side: a trace accepted connections or received datagrams from addresses of no declared host while
the configuration declares other hosts without a trace. (3) The topology
contains a NAT
that was inferred from the traces rather than declared (zero-config runs): it is reported so that
the guess can be checked (inferred port forwards are reported by `port-forwarding`).

## Why it matters
A NAT changes the addresses the two ends see, so connections cannot be matched by address and the
diagnosis of everything after them is weaker. NATs are also a frequent cause of failures
themselves: connections that work from one network and not from another.

## Evidence
The connects never accepted and the accepts that returned the unknown peer address (pattern 1),
the client's first datagram and the server's calls with the unknown address (pattern 1b),
the connects and sends aimed at
unknown addresses (pattern 2), or the calls that used the inferred NAT's public address
(pattern 3).

## What to do
Declare the NAT in the configuration (`nat PRIVATE[,PORT] PUBLIC[,PORT]` on the host behind it)
and run again. If no NAT should be there, check the routers between the hosts.

Precedence: pattern (1) is preferred over `port-forwarding` for the same accept, and pattern (2)
over `no-peer-traffic` for the same traces. Pattern (1b) explains the client's lost datagrams
(not reported as `udp-all-lost`), the answers it received (not `data-mismatch`) and both traces
(not `no-peer-traffic`).
";

fn detect(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    let mut findings = client_behind_nat(cx, claims);
    findings.extend(unaccepted_private_clients(cx, claims));
    findings.extend(datagrams_through_nat(cx, claims));
    findings.extend(only_unknown_peers(cx, claims));
    findings.extend(strangers_instead_of_unobserved_hosts(cx, claims));
    findings.extend(inferred_nats(cx, &RULE, false));
    findings
}

/// Pattern 4, seen from one side: a trace was reached from addresses of no declared host (it
/// accepted them, or received their datagrams), while the hosts that should talk to it are
/// declared without a trace. Their traffic arrives under an address the configuration does not
/// know: a NAT in front of them, or a host the configuration does not list.
fn strangers_instead_of_unobserved_hosts(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    let matcher = cx.matcher();
    if !matcher.has_unobserved_host() {
        return Vec::new();
    }
    let unobserved: Vec<&str> = cx
        .topology
        .hosts
        .iter()
        .filter(|h| h.traces.is_empty())
        .map(|h| h.name.as_str())
        .collect();
    let mut findings = Vec::new();
    for a in &cx.outcome.activity {
        let Some(trace) = a.trace else { continue };
        let strangers: Vec<String> = a
            .inbound_unknown_peers
            .iter()
            .filter(|p| matcher.is_outside(**p))
            .map(|p| p.ip().to_string())
            .collect();
        if strangers.is_empty() || claims.trace(trace) {
            continue;
        }
        claims.claim_trace(trace);
        let mut unique = strangers.clone();
        unique.dedup();
        let evidence = a
            .unknown_peers
            .iter()
            .zip(&a.unknown_peer_calls)
            .filter(|(p, _)| a.inbound_unknown_peers.contains(p))
            .map(|(p, loc)| {
                Evidence::new(*loc, format!("traffic from {p}, an address of no host"))
            });
        findings.push(
            RULE.finding(
                format!(
                    "{} was reached from {}, address(es) of no declared host, while {} {} \
                     declared without a trace: their traffic probably arrives through a NAT the \
                     configuration does not declare (or from a host it does not list)",
                    cx.who(trace),
                    unique.join(", "),
                    unobserved.join(", "),
                    if unobserved.len() == 1 { "is" } else { "are" },
                ),
                format!(
                    "declare the NAT on the host behind it (`nat PRIVATE_IP {}`), or add the host \
                     with that address; tracing the other side would show its own address",
                    unique.first().map_or("PUBLIC_IP", String::as_str)
                ),
            )
            .with_evidence(evidence),
        );
    }
    findings
}

/// Pattern 1: accepts from unknown peers while some traced client has a private address.
fn client_behind_nat(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    let matcher = cx.matcher();
    let groups = unknown_peer_accepts(cx, claims, |peer| matcher.is_outside(peer));
    let unaccepted = UnacceptedIndex::new(cx);
    let mut findings = Vec::new();
    for ((trace, local), group) in groups {
        if !cx.client_is_private(trace) {
            continue;
        }
        let peers = peer_ips(&group);
        let summary = format!(
            "{} accepted {} connection(s) at {local} from {}, an address of no host, while a \
             traced client uses a private address: a NAT in front of the client is not declared",
            cx.who(trace),
            group.len(),
            peers.join(", ")
        );
        let finding = RULE
            .finding(
                summary,
                format!(
                    "declare the client's NAT in the configuration: `nat {} {}`",
                    private_client_ip(cx, trace).unwrap_or_else(|| "CLIENT_PRIVATE_IP".into()),
                    peers.first().map_or("PUBLIC_IP", String::as_str)
                ),
            )
            .with_evidence(
                group.iter().flat_map(|a| {
                    deviation_evidence(a.deviation, "accept from an unknown address")
                }),
            );
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

/// Pattern 1 for datagrams: a private client's datagrams to a traced host's address reach no
/// traced receiver, while a trace of that host received datagrams from an address of no host
/// (and answered there). The answers are what the client then receives "from no traced
/// sender": they came back through the NAT.
fn datagrams_through_nat(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    let matcher = cx.matcher();
    let mut findings = Vec::new();
    for (index, flow) in cx.outcome.udp.iter().enumerate() {
        let lost = flow.receivers.is_empty() && !matcher.is_outside(flow.receiver_addr);
        if !lost || claims.udp_flow(index) {
            continue;
        }
        let Some(client_ip) = udp_client_private_ip(cx, flow.sender.trace) else {
            continue;
        };
        let Some(server_host) = cx.host_with_ip(flow.receiver_addr.ip()) else {
            continue;
        };
        let Some((server, public)) = cx.outcome.activity.iter().find_map(|a| {
            let trace = a.trace?;
            let on_server_host =
                cx.topology.host_of(trace).map(|h| h.name.as_str()) == Some(server_host);
            let stranger = a
                .inbound_unknown_peers
                .iter()
                .find(|p| matcher.is_outside(**p))?;
            (on_server_host && trace != flow.sender.trace).then_some((trace, *stranger))
        }) else {
            continue;
        };
        claims.claim_udp_flow(index);
        super::claim_socket_deviations(cx, claims, flow.sender, |k| {
            *k == crate::model::DeviationKind::UnknownData
        });
        claims.claim_trace(server);
        claims.claim_trace(flow.sender.trace);
        findings.push(
            RULE.finding(
                format!(
                    "{} sent datagrams from private address {client_ip} to {}, where no traced \
                     socket received them, while {} received datagrams from {public}, an \
                     address of no host: a NAT in front of the client is not declared",
                    cx.who(flow.sender.trace),
                    flow.receiver_addr,
                    cx.who(server)
                ),
                format!(
                    "declare the client's NAT in the configuration, on the client's host: `nat \
                     {client_ip} {}`",
                    public.ip()
                ),
            )
            .with_evidence([Evidence::new(
                flow.first_send,
                "datagram from a private address, received by no traced socket",
            )])
            .with_evidence(
                activity_of(cx, server)
                    .map(|a| calls_toward(cx, server, a))
                    .unwrap_or_default(),
            )
            .with_fact(format!(
                "the client's datagrams to {} and those {} received from {public} are the same \
                 conversation, seen on each side of the NAT; the datagrams the client received \
                 from {} \"that no traced call sent\" are the answers, sent to {public}",
                flow.receiver_addr,
                cx.who(server),
                flow.receiver_addr
            )),
        );
    }
    findings
}

/// The trace's activity record.
fn activity_of<'a>(
    cx: &Context<'a>,
    trace: crate::source::TraceId,
) -> Option<&'a crate::model::TraceActivity> {
    cx.outcome.activity.iter().find(|a| a.trace == Some(trace))
}

/// A private address of the host of a datagram sender `trace`, for the `nat` line.
fn udp_client_private_ip(cx: &Context, trace: crate::source::TraceId) -> Option<IpAddr> {
    cx.topology
        .host_of(trace)?
        .ips
        .iter()
        .copied()
        .find(|ip| is_private(*ip))
}

/// A private address of a host other than the server's, for the suggested `nat` line.
fn private_client_ip(cx: &Context, server: crate::source::TraceId) -> Option<String> {
    let server_host = cx.topology.traces.get(server.0 as usize).map(|t| t.host);
    cx.topology
        .hosts
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != server_host)
        .flat_map(|(_, h)| h.ips.iter())
        .find(|ip| crate::diagnose::context::is_private(**ip))
        .map(|ip| ip.to_string())
}

/// Pattern 1 as the model usually shows it: a private client's connect to a traced listener is
/// never accepted, while the listener's trace accepted connections from addresses of no host
/// (which the model leaves unmodelled).
fn unaccepted_private_clients(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    let matcher = cx.matcher();
    let unaccepted = cx
        .outcome
        .tcp
        .iter()
        .enumerate()
        .filter(|(i, c)| c.server.is_none() && !claims.stream(*i, Direction::ToServer))
        .filter_map(|(i, c)| c.listener.map(|l| (i, c, l)));
    let groups = group_by(unaccepted, |(_, _, listener)| *listener);
    let mut findings = Vec::new();
    for (listener, group) in groups {
        let Some(server) = cx
            .outcome
            .activity
            .iter()
            .find(|a| a.trace == Some(listener.trace))
        else {
            continue;
        };
        let strangers: Vec<SocketAddr> = server
            .unknown_peers
            .iter()
            .filter(|p| matcher.is_outside(**p))
            .copied()
            .collect();
        let private: Vec<_> = group
            .iter()
            .filter_map(|(i, c, _)| {
                client_own_ip(cx, c)
                    .filter(|ip| is_private(*ip))
                    .map(|ip| (*i, *c, ip))
            })
            .collect();
        let (Some(stranger), Some((_, first_client, client_ip))) =
            (strangers.first(), private.first())
        else {
            continue;
        };
        let mut evidence: Vec<Evidence> = private
            .iter()
            .map(|(_, c, _)| {
                Evidence::new(
                    c.connect_loc,
                    "connect from a private address, never accepted",
                )
            })
            .collect();
        evidence.extend(calls_toward(cx, listener.trace, server));
        for (index, c, _) in &private {
            claim_unmatched_connection(cx, claims, *index);
            claims.claim_trace(c.client.trace);
        }
        claims.claim_trace(listener.trace);
        let stranger_list: Vec<String> = strangers.iter().map(|a| a.ip().to_string()).collect();
        findings.push(
            RULE.finding(
                format!(
                    "{} connected {} time(s) from private address {client_ip} to listening {} \
                     and was never accepted, while that host accepted connections from {}, an \
                     address of no host: a NAT in front of the client is not declared",
                    cx.who(first_client.client.trace),
                    private.len(),
                    cx.sock(listener),
                    stranger_list.join(", ")
                ),
                format!(
                    "declare the client's NAT in the configuration: `nat {client_ip} {}`",
                    stranger.ip()
                ),
            )
            .with_evidence(evidence)
            .with_fact(format!(
                "addresses of no host seen by {}: {}",
                cx.who(listener.trace),
                strangers
                    .iter()
                    .map(|a| a.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        );
    }
    findings
}

/// The client's own address: its socket's local address, else its host's first address.
fn client_own_ip(cx: &Context, c: &crate::model::TcpConnection) -> Option<IpAddr> {
    c.client_view
        .0
        .map(|a| a.ip())
        .filter(|ip| !ip.is_unspecified())
        .or_else(|| cx.topology.host_of(c.client.trace)?.ips.first().copied())
}

/// Pattern 2: no trace reaches another traced host, a traced server accepted unknown peers, and
/// a traced client of a private address talked to unknown addresses.
fn only_unknown_peers(cx: &Context, claims: &mut Claims) -> Option<Finding> {
    let active: Vec<_> = cx
        .outcome
        .activity
        .iter()
        .filter(|a| a.socket_calls > 0)
        .collect();
    let nobody_reaches_a_peer = active.iter().all(|a| a.peer_links == 0);
    let matcher = cx.matcher();
    let talkers: Vec<_> = active
        .iter()
        .filter(|a| a.unknown_peers.iter().any(|p| matcher.is_outside(*p)))
        .filter(|a| a.trace.is_none_or(|t| !claims.trace(t)))
        .filter_map(|a| a.trace.map(|t| (t, *a)))
        .collect();
    // Accepts from unexpected peers point at a forward instead: `port-forwarding` reports them.
    let forwarded_accepts = !unknown_peer_accepts(cx, claims, |_| true).is_empty();
    let accepting: Vec<_> = talkers
        .iter()
        .filter(|(_, a)| {
            a.inbound_unknown_peers
                .iter()
                .any(|p| matcher.is_outside(*p))
        })
        .map(|(t, _)| *t)
        .collect();
    let private_client = talkers.iter().any(|(t, a)| {
        let dialled_stranger = a
            .unknown_peers
            .iter()
            .any(|p| matcher.is_outside(*p) && !a.inbound_unknown_peers.contains(p));
        let private = cx
            .topology
            .host_of(*t)
            .is_some_and(|h| h.ips.iter().any(|ip| is_private(*ip)));
        dialled_stranger && private && accepting.iter().any(|server| server != t)
    });
    if cx.topology.traces.len() < 2
        || !nobody_reaches_a_peer
        || !private_client
        || forwarded_accepts
    {
        return None;
    }
    let names: Vec<String> = talkers.iter().map(|(t, _)| cx.who(*t)).collect();
    let mut addresses: Vec<String> = talkers
        .iter()
        .flat_map(|(_, a)| a.unknown_peers.iter().map(|p| p.to_string()))
        .collect();
    addresses.sort();
    addresses.dedup();
    let evidence: Vec<Evidence> = talkers
        .iter()
        .flat_map(|(t, a)| calls_toward(cx, *t, a))
        .collect();
    for trace in active.iter().filter_map(|a| a.trace) {
        claims.claim_trace(trace);
    }
    Some(
        RULE.finding(
            format!(
                "{} only talk(s) to addresses that belong to no host ({}): the hosts probably \
                 reach each other through an undeclared NAT or proxy",
                names.join(", "),
                addresses.join(", ")
            ),
            "find which host owns these addresses and declare it (`nat` line or host address) \
             in the configuration",
        )
        .with_evidence(evidence)
        .with_fact("no connection or flow links two traced sockets")
        .with_fact(format!(
            "{} accepted connections from addresses of no host",
            accepting
                .iter()
                .map(|t| cx.who(*t))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    )
}

/// Is this rule a port forward (both ports named) rather than an address translation?
pub(crate) fn is_port_forward(nat: &crate::config::NatRule) -> bool {
    nat.private.port.is_some() && nat.public.port.is_some()
}

/// Pattern 3: NATs the configuration stage inferred; the port forwards among them (`forwards`)
/// are reported by `port-forwarding`, the others here.
pub(crate) fn inferred_nats(cx: &Context, rule: &'static Rule, forwards: bool) -> Vec<Finding> {
    let mut findings = Vec::new();
    for host in &cx.topology.hosts {
        for nat in host
            .nats
            .iter()
            .filter(|n| n.inferred && is_port_forward(n) == forwards)
        {
            let public = nat.public.ip;
            let evidence = cx.outcome.tcp.iter().flat_map(|c| {
                let seen_by_server = c.server_view.1.is_some_and(|a| a.ip() == public);
                let dialled = c.client_view.1.is_some_and(|a| a.ip() == public);
                let accept = c
                    .accept_loc
                    .filter(|_| seen_by_server)
                    .map(|loc| Evidence::new(loc, "peer seen at the NAT's public address"));
                let connect = dialled
                    .then(|| Evidence::new(c.connect_loc, "connect to the NAT's public address"));
                accept.into_iter().chain(connect)
            });
            let what = if forwards { "port forward" } else { "NAT" };
            findings.push(
                rule.finding(
                    format!(
                        "host {} appears as {} (private {}); this {what} was inferred from the \
                         traces, not declared",
                        host.name,
                        endpoint(public, nat.public.port),
                        endpoint(nat.private.ip, nat.private.port)
                    ),
                    format!(
                        "if the {what} is real, declare it in the configuration of host {}: \
                         `nat {} {}`",
                        host.name,
                        config_endpoint(nat.private.ip, nat.private.port),
                        config_endpoint(public, nat.public.port)
                    ),
                )
                .with_evidence(evidence),
            );
        }
    }
    findings
}

fn endpoint(ip: std::net::IpAddr, port: Option<u16>) -> String {
    match port {
        Some(p) => SocketAddr::new(ip, p).to_string(),
        None => ip.to_string(),
    }
}

/// The configuration file's `IP[,PORT]` spelling.
fn config_endpoint(ip: std::net::IpAddr, port: Option<u16>) -> String {
    match port {
        Some(p) => format!("{ip},{p}"),
        None => ip.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::model::ReplayOutcome;
    use crate::testkit::fixtures::*;
    use crate::testkit::rules::*;

    /// The client's `sendto(3<UDP:[107043]>, ..., {... inet_addr("10.77.1.10")}, 16) = 40`
    /// reaches no traced socket; the server's `recvfrom(3<UDP:[10.77.1.10:7200]>, ...,
    /// {... sin_port=htons(55196), sin_addr=inet_addr("10.77.1.254")}, [16]) = 40` sees the
    /// router; the server's answers come back to the client "from no traced sender".
    #[test]
    fn fires_on_datagrams_whose_sender_the_server_sees_as_a_stranger() {
        use crate::model::{DeviationKind, TraceActivity};
        let hosts = topology(&[("server", &["10.77.1.10"]), ("client", &["10.77.2.21"])]);
        let mut answer = deviation(DeviationKind::UnknownData, loc(1, 102), Some(sock(1, 0)));
        answer.detail = "40-byte datagram from 10.77.1.10:7200 that no traced call sent".into();
        let outcome = ReplayOutcome {
            udp: vec![udp_flow(
                sock(1, 0),
                "0.0.0.0:55196",
                "10.77.1.10:7200",
                Vec::new(),
                vec![(40, 3, 0)],
                loc(1, 99),
            )],
            deviations: vec![answer],
            activity: vec![
                TraceActivity {
                    inbound_unknown_peers: vec![addr("10.77.1.254:55196")],
                    ..activity(0, 11, 0, &["10.77.1.254:55196"])
                },
                activity(1, 15, 0, &[]),
            ],
            ..ReplayOutcome::default()
        };
        let found = assert_fires_alone(&RULE, hosts, outcome, none());
        assert!(found[0].hint.contains("nat 10.77.2.21 10.77.1.254"));
    }

    #[test]
    fn fires_on_recorded_undeclared_udp_nat() {
        assert_recorded_scenarios_report(
            &RULE,
            &[
                "nat-undeclared-udp--python--python--record",
                "nat-undeclared-udp--socat--socat--plain",
            ],
        );
    }

    #[test]
    fn fires_on_a_stranger_accepted_by_a_server_with_a_private_client() {
        let private_client = topology(&[("client", &["192.168.1.10"]), ("server", &["10.0.0.2"])]);
        let outcome = accept_from("203.0.113.7:5555", "10.0.0.2:80");
        assert_fires_alone(&RULE, private_client, outcome, none());
    }

    #[test]
    fn fires_on_an_inferred_nat() {
        let mut inferred = two_hosts();
        add_nat(&mut inferred, 0, "192.168.1.10", "203.0.113.7", true);
        assert_only_rule(&RULE, inferred, ReplayOutcome::default(), none());
    }

    #[test]
    fn fires_on_strangers_on_both_ends() {
        assert_fires_on(
            &RULE,
            ReplayOutcome {
                activity: vec![
                    activity(0, 10, 0, &["198.51.100.1:80"]),
                    accepted_strangers(1, 10, &["203.0.113.7:40000"]),
                ],
                ..ReplayOutcome::default()
            },
        );
    }

    #[test]
    fn fires_on_recorded_nat_undeclared() {
        assert_recorded_scenarios_report(&RULE, &["nat-undeclared"]);
    }

    #[test]
    fn unknown_peer_is_nat_only_when_a_client_is_private() {
        let outcome = accept_from("203.0.113.7:5555", "198.51.100.2:80");
        let public = topology(&[("client", &["198.51.100.1"]), ("server", &["198.51.100.2"])]);
        assert_eq!(fired(public, outcome.clone()), ["port-forwarding"]);
        let private = topology(&[("client", &["192.168.1.10"]), ("server", &["198.51.100.2"])]);
        let found = findings(private, outcome);
        assert_eq!(rules_of(&found), ["nat-undeclared"]);
        assert!(found[0].summary.contains("203.0.113.7"));
        assert!(found[0].hint.contains("nat "));
    }

    #[test]
    fn declared_nats_are_not_reported() {
        let mut declared = two_hosts();
        add_nat(&mut declared, 0, "192.168.1.10", "203.0.113.7", false);
        assert!(fired(declared, ReplayOutcome::default()).is_empty());
    }

    #[test]
    fn inferred_nat_names_the_host_and_the_config_line() {
        let mut inferred = two_hosts();
        add_nat(&mut inferred, 1, "192.168.1.50", "96.250.21.150", true);
        let found = findings(inferred, ReplayOutcome::default());
        assert_eq!(found.len(), 1);
        assert!(found[0].summary.contains("host server"));
        assert!(found[0].hint.contains("nat 192.168.1.50 96.250.21.150"));
    }

    #[test]
    fn strangers_on_both_ends_with_an_accepting_server_is_nat_not_isolation() {
        let outcome = ReplayOutcome {
            activity: vec![
                activity(0, 10, 0, &["198.51.100.1:80"]),
                accepted_strangers(1, 10, &["198.51.100.2:40000"]),
            ],
            ..ReplayOutcome::default()
        };
        let found = findings(two_hosts(), outcome);
        assert_eq!(rules_of(&found), ["nat-undeclared"]);
        assert_eq!(found.len(), 1);
    }

    #[test]
    fn a_public_client_dialling_strangers_is_no_nat_evidence() {
        let public = topology(&[("client", &["198.51.100.50"]), ("server", &["10.0.0.2"])]);
        let outcome = ReplayOutcome {
            activity: vec![
                activity(0, 10, 0, &["198.51.100.1:80"]),
                accepted_strangers(1, 10, &["203.0.113.7:40000"]),
            ],
            ..ReplayOutcome::default()
        };
        assert!(!fired(public, outcome).contains(&"nat-undeclared"));
    }

    #[test]
    fn a_private_server_does_not_make_an_unknown_peer_a_client_nat() {
        let server_behind_nat =
            topology(&[("client", &["198.51.100.1"]), ("server", &["192.168.1.50"])]);
        let outcome = accept_from("203.0.113.9:41000", "192.168.1.50:3005");
        let found = findings(server_behind_nat, outcome);
        assert_eq!(rules_of(&found), ["port-forwarding"]);
        assert!(found[0].hint.contains("nat 192.168.1.50,3005"));
    }

    #[test]
    fn the_nat_hint_names_the_private_client_address() {
        let private = topology(&[("client", &["192.168.1.10"]), ("server", &["198.51.100.2"])]);
        let found = findings(private, accept_from("203.0.113.7:5555", "198.51.100.2:80"));
        assert!(
            found[0].hint.contains("nat 192.168.1.10 203.0.113.7"),
            "{}",
            found[0].hint
        );
    }

    #[test]
    fn unaccepted_connects_to_a_listener_with_stranger_accepts_are_the_nat_story() {
        let private = topology(&[("client", &["192.168.1.10"]), ("server", &["198.51.100.2"])]);
        let mut outcome = accept_from("203.0.113.7:5555", "198.51.100.2:80");
        let mut dialled = connection(
            sock(0, 0),
            "192.168.1.10:5555",
            sock(1, 0),
            None,
            "198.51.100.2:80",
            loc(0, 3),
            None,
        );
        dialled.to_server = stream(80, 0, 80, 1, loc(0, 4));
        outcome.tcp.push(dialled);
        let found = findings(private, outcome);
        assert_eq!(rules_of(&found), ["nat-undeclared"]);
        assert!(found[0].evidence.iter().any(|e| e.loc == loc(0, 3)));
        assert!(found[0].facts.iter().any(|f| f.contains("never accepted")));
    }

    #[test]
    fn a_private_client_never_accepted_by_a_server_that_saw_strangers_is_nat() {
        let private = topology(&[("client", &["192.168.1.10"]), ("server", &["198.51.100.2"])]);
        let mut dialled = connection(
            sock(0, 0),
            "192.168.1.10:5555",
            sock(1, 0),
            None,
            "198.51.100.2:80",
            loc(0, 3),
            None,
        );
        dialled.to_server = stream(5, 0, 5, 1, loc(0, 4));
        let outcome = ReplayOutcome {
            tcp: vec![dialled.clone()],
            activity: vec![
                activity(0, 3, 0, &[]),
                activity(1, 4, 0, &["203.0.113.7:5555"]),
            ],
            ..ReplayOutcome::default()
        };
        let found = findings(private.clone(), outcome);
        assert_eq!(rules_of(&found), ["nat-undeclared"], "{found:#?}");
        assert!(found[0].hint.contains("nat 192.168.1.10 203.0.113.7"));
        assert!(found[0].evidence.iter().any(|e| e.loc == loc(0, 3)));
        assert!(found[0].evidence.iter().any(|e| e.loc == loc(1, 2)));
        // Without strangers on the server, it is just an unaccepted connection.
        let outcome = ReplayOutcome {
            tcp: vec![dialled],
            activity: vec![activity(0, 3, 0, &[]), activity(1, 4, 0, &[])],
            ..ReplayOutcome::default()
        };
        assert_eq!(fired(private, outcome), ["connection-not-accepted"]);
    }
}
