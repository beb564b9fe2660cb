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
use crate::source::SockId;

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
            statistics: Statistics {
                tcp: analysis.outcome.tcp.iter().map(tcp_stats).collect(),
                udp: analysis.outcome.udp.iter().map(udp_stats).collect(),
            },
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
            }
        })
        .collect()
}

fn direction(stream: &Stream) -> DirectionStats {
    DirectionStats {
        sent: stream.sent,
        received: stream.received.min(stream.sent),
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
    for &(len, sent, received) in &f.by_size {
        let received = received.min(sent);
        stats.datagrams_sent += sent;
        stats.datagrams_received += received;
        stats.bytes_sent += sent * len;
        stats.bytes_received += received * len;
    }
    stats.datagrams_lost = stats.datagrams_sent - stats.datagrams_received;
    stats.bytes_lost = stats.bytes_sent - stats.bytes_received;
    stats
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
    }
}
