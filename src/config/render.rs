//! A topology written back as a config file in the original format: the echo of `netcheck
//! config`, and the output of `netcheck config --infer` that the user can check and save.
//! Trace ids and inference reasons ride along as comments, so the text stays loadable.

use std::fmt::Write;

use super::address::format_endpoint;
use super::file::default_trace_name;
use super::infer::Inference;
use super::{default_ignores, Endpoint, NatRule, Topology, TopologyOrigin};
use crate::source::Loc;

/// Renders `topology` as config text; `inference` adds the reasons of inferred lines.
pub fn render(topology: &Topology, inference: Option<&Inference>) -> String {
    let mut out = String::new();
    let hosts = topology.hosts.len();
    let traces = topology.traces.len();
    let _ = match topology.origin {
        TopologyOrigin::ConfigFile => writeln!(
            out,
            "# netcheck configuration: {hosts} host(s), {traces} trace(s); trace ids in comments"
        ),
        TopologyOrigin::Inferred => writeln!(
            out,
            "# netcheck configuration inferred from {traces} trace(s), one host each.\n\
             # Lines marked 'inferred' are guesses from the traces: check them before saving."
        ),
        TopologyOrigin::OneHost => writeln!(
            out,
            "# netcheck configuration: {traces} trace(s) on one host without addresses \
             (only loopback traffic is modelled)"
        ),
    };
    let defaults = default_ignores();
    let default_text: Vec<String> = defaults.iter().map(format_endpoint).collect();
    let _ = writeln!(
        out,
        "# always ignored (local DNS): {}",
        default_text.join(" ")
    );
    for endpoint in topology.ignores.iter().filter(|e| !defaults.contains(e)) {
        let _ = writeln!(out, "{}", ignore_line(endpoint));
    }
    for (index, host) in topology.hosts.iter().enumerate() {
        let _ = writeln!(out, "host {}", host.name);
        for spec in host
            .traces
            .iter()
            .filter_map(|id| topology.traces.get(id.0 as usize))
        {
            let path = spec.path.display();
            if spec.name == default_trace_name(&spec.path) {
                let _ = writeln!(out, " trace {path}  # {}", spec.id);
            } else {
                let _ = writeln!(out, " trace {path} {}  # {}", spec.name, spec.id);
            }
        }
        // Inferred per trace: a host's first trace holds what was inferred for it.
        let first_trace = host.traces.first().map_or(index, |t| t.0 as usize);
        let inferred_host = inference.and_then(|i| i.hosts.get(first_trace));
        for ip in &host.ips {
            match inferred_host.and_then(|h| h.seen_by_peers.iter().find(|s| s.ip == *ip)) {
                Some(seen) => {
                    let _ = writeln!(
                        out,
                        " ip {ip}  # inferred: {} (see {})",
                        seen.reason,
                        locations(topology, &seen.evidence)
                    );
                }
                None => {
                    let _ = writeln!(out, " ip {ip}");
                }
            }
        }
        for rule in &host.nats {
            let line = nat_line(rule);
            let why = inferred_host.and_then(|h| h.nats.iter().find(|n| n.rule == *rule));
            match why {
                Some(nat) => {
                    let _ = writeln!(
                        out,
                        " {line}  # inferred: {} (see {})",
                        nat.reason,
                        locations(topology, &nat.evidence)
                    );
                }
                None if rule.inferred => {
                    let _ = writeln!(out, " {line}  # inferred");
                }
                None => {
                    let _ = writeln!(out, " {line}");
                }
            }
        }
    }
    for ambiguity in inference
        .map(|i| i.ambiguities.as_slice())
        .unwrap_or_default()
    {
        let _ = writeln!(
            out,
            "# not inferred, {}: {}",
            locations(topology, &[ambiguity.loc]),
            ambiguity.message
        );
    }
    out
}

/// `nat PRIVATE PUBLIC` in config syntax.
pub fn nat_line(rule: &NatRule) -> String {
    format!(
        "nat {} {}",
        format_endpoint(&rule.private),
        format_endpoint(&rule.public)
    )
}

/// `ignore IP[,PORT]` in config syntax.
pub fn ignore_line(endpoint: &Endpoint) -> String {
    format!("ignore {}", format_endpoint(endpoint))
}

/// `client.trace:12, server.trace:7`.
fn locations(topology: &Topology, locs: &[Loc]) -> String {
    let names: Vec<String> = locs
        .iter()
        .map(|loc| {
            let trace = topology
                .traces
                .get(loc.trace.0 as usize)
                .map(|t| t.name.clone())
                .unwrap_or_else(|| loc.trace.to_string());
            format!("{trace}:{}", loc.line)
        })
        .collect();
    names.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::infer::{Ambiguity, InferredHost, InferredNat, SeenAddress};
    use crate::config::{Host, TraceSpec};
    use crate::source::TraceId;

    #[test]
    fn inferred_topologies_carry_their_reasons_as_comments() {
        let rule = NatRule {
            private: Endpoint {
                ip: "192.168.1.10".parse().unwrap(),
                port: None,
            },
            public: Endpoint {
                ip: "203.0.113.7".parse().unwrap(),
                port: None,
            },
            inferred: true,
        };
        let spec = |i: u32, name: &str| TraceSpec {
            id: TraceId(i),
            name: name.into(),
            path: name.into(),
            host: i as usize,
            clock: crate::source::TraceClock::TimeOfDay,
        };
        let host = |name: &str, i: u32, ip: &str, nats: Vec<NatRule>| Host {
            name: name.into(),
            ips: vec![ip.parse().unwrap()],
            nats,
            traces: vec![TraceId(i)],
        };
        let topology = Topology {
            hosts: vec![
                host("server", 0, "198.51.100.2", vec![]),
                host("client", 1, "192.168.1.10", vec![rule]),
            ],
            traces: vec![spec(0, "server.trace"), spec(1, "client.trace")],
            ignores: default_ignores(),
            origin: TopologyOrigin::Inferred,
        };
        let inference = Inference {
            hosts: vec![
                InferredHost::default(),
                InferredHost {
                    ips: Vec::new(),
                    seen_by_peers: vec![SeenAddress {
                        ip: "192.168.1.10".parse().unwrap(),
                        reason: "seen".into(),
                        evidence: vec![Loc::new(TraceId(0), 5)],
                    }],
                    nats: vec![InferredNat {
                        rule,
                        reason: "because".into(),
                        evidence: vec![Loc::new(TraceId(0), 3), Loc::new(TraceId(1), 2)],
                    }],
                },
            ],
            ambiguities: vec![Ambiguity {
                loc: Loc::new(TraceId(0), 9),
                message: "unclear".into(),
            }],
            host_of_trace: vec![0, 1],
        };
        let expected = "\
# netcheck configuration inferred from 2 trace(s), one host each.
# Lines marked 'inferred' are guesses from the traces: check them before saving.
# always ignored (local DNS): 127.0.0.1,53 127.0.0.53,53
host server
 trace server.trace  # A
 ip 198.51.100.2
host client
 trace client.trace  # B
 ip 192.168.1.10  # inferred: seen (see server.trace:5)
 nat 192.168.1.10 203.0.113.7  # inferred: because (see server.trace:3, client.trace:2)
# not inferred, server.trace:9: unclear
";
        assert_eq!(render(&topology, Some(&inference)), expected);
        let without_reasons = render(&topology, None);
        assert!(without_reasons.contains(" nat 192.168.1.10 203.0.113.7  # inferred\n"));
    }
}
