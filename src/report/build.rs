//! Building the [`Report`] from an analysis: the only place that looks upstream.

use super::{
    Configuration, DirectionStats, HostEcho, NatEcho, ReplaySummary, Report, ReportEvidence,
    ReportFinding, Statistics, Summary, TcpStats, TraceSummary, UdpStats, UnexplainedDeviation,
    SCHEMA_VERSION,
};
use crate::diagnose::context::{addr_or_unknown, file_of};
use crate::diagnose::Class;
use crate::diagnose::Finding;
use crate::model::{Stream, TcpConnection, UdpFlow};
use crate::pipeline::Analysis;
use crate::source::{Loc, SockId};
use std::collections::HashSet;

impl Report {
    pub fn build(analysis: &Analysis) -> Report {
        let findings: Vec<ReportFinding> = analysis
            .findings
            .iter()
            .map(|f| finding(analysis, f))
            .collect();
        let count = |class| findings.iter().filter(|f| f.class == class).count();
        let problems = findings.iter().any(|f| f.class.is_problem());
        Report {
            schema_version: SCHEMA_VERSION,
            configuration: configuration(analysis),
            traces: traces(analysis),
            replay: ReplaySummary {
                ordered_calls: analysis.outcome.ordered_calls,
                used_timestamps: analysis.outcome.used_timestamps,
                blocked_points: analysis.outcome.blocked.len(),
                deviations: analysis.outcome.deviations.len(),
                unexplained_deviations: unexplained(analysis),
            },
            statistics: statistics(analysis),
            summary: Summary {
                network: count(Class::Network),
                application: count(Class::Application),
                ambiguous: count(Class::Ambiguous),
                portability: count(Class::Portability),
                info: count(Class::Info),
                exit_status: u8::from(problems),
            },
            findings,
        }
    }

    /// Does the report contain a finding that makes `diagnose` exit with status 1?
    pub fn has_problems(&self) -> bool {
        self.summary.exit_status != 0
    }
}

/// The aggregates, and the connections and flows the findings cite: one whose connect,
/// accept, a send or a deviation of one of its sockets is a finding's evidence.
fn statistics(analysis: &Analysis) -> Statistics {
    let outcome = &analysis.outcome;
    let cited: HashSet<Loc> = analysis
        .findings
        .iter()
        .flat_map(|f| f.evidence.iter().map(|e| e.loc))
        .collect();
    let cited_socks: HashSet<SockId> = outcome
        .deviations
        .iter()
        .filter(|d| cited.contains(&d.loc))
        .filter_map(|d| d.sock)
        .collect();
    let is_cited = |loc: Option<Loc>| loc.is_some_and(|l| cited.contains(&l));
    let sock_cited = |sock: Option<SockId>| sock.is_some_and(|s| cited_socks.contains(&s));
    let cited_tcp = outcome
        .tcp
        .iter()
        .filter(|c| {
            [
                Some(c.connect_loc),
                c.accept_loc,
                c.to_server.stats.last_send,
                c.to_client.stats.last_send,
                c.to_server.first_unreceived_send,
                c.to_client.first_unreceived_send,
            ]
            .into_iter()
            .any(is_cited)
                || sock_cited(Some(c.client))
                || sock_cited(c.server)
        })
        .map(tcp_stats)
        .collect();
    let cited_udp = outcome
        .udp
        .iter()
        .filter(|f| {
            is_cited(Some(f.first_send))
                || sock_cited(Some(f.sender))
                || f.receivers.iter().any(|r| sock_cited(Some(*r)))
        })
        .map(udp_stats)
        .collect();
    Statistics {
        tcp: outcome.tcp_traffic.clone(),
        udp: outcome.udp_traffic.clone(),
        cited_tcp,
        cited_udp,
    }
}

fn unexplained(analysis: &Analysis) -> Vec<UnexplainedDeviation> {
    analysis
        .unexplained
        .iter()
        .filter_map(|&i| analysis.outcome.deviations.get(i))
        .map(|d| {
            let kind = format!("{:?}", d.kind);
            let name_end = kind.find([' ', '{', '(']).unwrap_or(kind.len());
            UnexplainedDeviation {
                kind: kind[..name_end].to_string(),
                description: d.kind.plain_words().to_string(),
                trace_id: d.loc.trace.to_string(),
                file: file_of(&analysis.topology, &analysis.parse, d.loc)
                    .map_or_else(String::new, |p| p.display().to_string()),
                line: d.loc.line,
                detail: d.detail.clone(),
            }
        })
        .collect()
}

fn configuration(analysis: &Analysis) -> Configuration {
    let topology = &analysis.topology;
    Configuration {
        origin: match topology.origin {
            crate::config::TopologyOrigin::ConfigFile => "config-file",
            crate::config::TopologyOrigin::Inferred => "inferred",
            crate::config::TopologyOrigin::OneHost => "one-host",
        },
        hosts: topology
            .hosts
            .iter()
            .map(|h| HostEcho {
                name: h.name.clone(),
                ips: h.ips.iter().map(|ip| ip.to_string()).collect(),
                nats: h
                    .nats
                    .iter()
                    .map(|n| NatEcho {
                        private: endpoint(n.private),
                        public: endpoint(n.public),
                        inferred: n.inferred,
                    })
                    .collect(),
                traces: h.traces.iter().map(|t| t.to_string()).collect(),
            })
            .collect(),
        ignores: topology.ignores.iter().map(|e| endpoint(*e)).collect(),
        untraced_hosts: topology
            .hosts
            .iter()
            .filter(|h| h.traces.is_empty())
            .map(|h| h.name.clone())
            .collect(),
    }
}

fn endpoint(e: crate::config::Endpoint) -> String {
    match e.port {
        Some(port) => std::net::SocketAddr::new(e.ip, port).to_string(),
        None => e.ip.to_string(),
    }
}

fn traces(analysis: &Analysis) -> Vec<TraceSummary> {
    analysis
        .topology
        .traces
        .iter()
        .map(|spec| {
            let index = spec.id.0 as usize;
            let parse = analysis.parse.get(index).cloned().unwrap_or_default();
            let fold = analysis.fold.get(index).cloned().unwrap_or_default();
            TraceSummary {
                id: spec.id.to_string(),
                name: spec.name.clone(),
                path: spec.path.display().to_string(),
                host: analysis
                    .topology
                    .hosts
                    .get(spec.host)
                    .map_or_else(String::new, |h| h.name.clone()),
                lines: parse.lines,
                calls: parse.calls,
                unparsed: parse.unparsed,
                skipped: parse.skipped,
                unfinished_at_end: parse.unfinished_at_end,
                sockets: fold.sockets,
                socket_events: fold.socket_events,
                non_socket_calls: fold.non_socket_calls,
                unknown_fd_calls: fold.unknown_fd_calls,
                clock: spec.clock,
            }
        })
        .collect()
}

fn direction(stream: &Stream) -> DirectionStats {
    DirectionStats {
        sent: stream.stats.sent,
        received: stream.stats.received.min(stream.stats.sent),
        lost: stream.unreceived(),
    }
}

fn sock_name(sock: Option<SockId>) -> String {
    sock.map_or_else(String::new, |s| s.to_string())
}

fn tcp_stats(c: &TcpConnection) -> TcpStats {
    TcpStats {
        client: c.client.to_string(),
        server: sock_name(c.server),
        server_address: addr_or_unknown(c.client_view.1),
        client_address: addr_or_unknown(c.server_view.1.or(c.client_view.0)),
        to_server: direction(&c.to_server),
        to_client: direction(&c.to_client),
    }
}

fn udp_stats(f: &UdpFlow) -> UdpStats {
    let mut stats = UdpStats {
        sender: f.sender.to_string(),
        sender_address: addr_or_unknown(f.sender_addr),
        receiver_address: f.receiver_addr.to_string(),
        receivers: f.receivers.iter().map(|r| r.to_string()).collect(),
        datagrams_sent: 0,
        datagrams_received: 0,
        datagrams_lost: 0,
        bytes_sent: 0,
        bytes_received: 0,
        bytes_lost: 0,
    };
    // Counts come from trace text: saturate rather than wrap on absurd values.
    for &(len, sent, received) in &f.by_size {
        let received = received.min(sent);
        stats.datagrams_sent = stats.datagrams_sent.saturating_add(sent);
        stats.datagrams_received = stats.datagrams_received.saturating_add(received);
        stats.bytes_sent = stats.bytes_sent.saturating_add(sent.saturating_mul(len));
        stats.bytes_received = stats
            .bytes_received
            .saturating_add(received.saturating_mul(len));
    }
    stats.datagrams_lost = stats.datagrams_sent - stats.datagrams_received;
    stats.bytes_lost = stats.bytes_sent - stats.bytes_received;
    stats
}

/// The traced hosts, in declaration order, a finding rests on: those whose traces hold its
/// evidence, and those whose addresses it names (a verdict about a peer address of a traced
/// host used that host's trace too: "no traced socket listened there", "never received").
fn seen_from(analysis: &Analysis, f: &Finding) -> Vec<String> {
    let topology = &analysis.topology;
    let named = addresses_in(&f.summary).into_iter().filter_map(|ip| {
        topology
            .hosts
            .iter()
            .position(|h| !h.traces.is_empty() && h.ips.contains(&ip))
    });
    let mut hosts: Vec<usize> = f
        .evidence
        .iter()
        .filter_map(|e| topology.traces.get(e.loc.trace.0 as usize))
        .map(|spec| spec.host)
        .chain(named)
        .collect();
    hosts.sort_unstable();
    hosts.dedup();
    hosts
        .into_iter()
        .filter_map(|h| topology.hosts.get(h))
        .map(|h| h.name.clone())
        .collect()
}

/// The IP addresses written in `text` (`10.0.0.1`, `10.0.0.1:80`, `[fd00::1]:80`, `fd00::1`).
fn addresses_in(text: &str) -> Vec<std::net::IpAddr> {
    text.split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '(' | ')' | '\''))
        .filter_map(|word| {
            let word = word.trim_end_matches(['.', ':']);
            word.parse::<std::net::SocketAddr>()
                .map(|a| a.ip())
                .or_else(|_| word.parse::<std::net::IpAddr>())
                .ok()
        })
        .collect()
}

fn finding(analysis: &Analysis, f: &Finding) -> ReportFinding {
    let evidence = f
        .evidence
        .iter()
        .map(|e| {
            let spec = analysis.topology.traces.get(e.loc.trace.0 as usize);
            ReportEvidence {
                trace: spec.map_or_else(|| e.loc.trace.to_string(), |s| s.name.clone()),
                trace_id: e.loc.trace.to_string(),
                file: file_of(&analysis.topology, &analysis.parse, e.loc)
                    .map_or_else(String::new, |p| p.display().to_string()),
                line: e.loc.line,
                call: e.call.clone(),
                note: e.note.clone(),
            }
        })
        .collect();
    ReportFinding {
        rule: f.rule,
        class: f.class,
        summary: f.summary.clone(),
        hint: f.hint.clone(),
        evidence,
        facts: f.facts.clone(),
        seen_from: seen_from(analysis, f),
    }
}

#[cfg(test)]
mod tests {
    use super::addresses_in;

    #[test]
    fn addresses_are_found_in_summaries_of_every_shape() {
        let found = addresses_in(
            "host client (10.77.2.21:49012) was refused connecting to 10.77.1.10:7401; \
             [fd77::10]:7000, fd77::21 and 10.0.0.1. not 7401 or host:80",
        );
        let shown: Vec<String> = found.iter().map(|ip| ip.to_string()).collect();
        assert_eq!(
            shown,
            [
                "10.77.2.21",
                "10.77.1.10",
                "fd77::10",
                "fd77::21",
                "10.0.0.1"
            ]
        );
    }
}

#[cfg(test)]
mod unexplained_tests {
    use crate::model::DeviationKind;

    #[test]
    fn deviations_are_described_in_words_not_variant_names() {
        for kind in [
            DeviationKind::PollMissedData,
            DeviationKind::UnexpectedSuccess,
            DeviationKind::Forced,
            DeviationKind::UnknownData,
        ] {
            let words = kind.plain_words();
            let name = format!("{kind:?}");
            assert!(!words.contains(&name), "{words}");
            assert!(
                words.contains(' ') && words.starts_with(char::is_lowercase),
                "{words}"
            );
        }
    }
}
