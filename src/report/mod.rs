//! The *report* stage: findings, statistics and configuration → human text or JSON.
//!
//! [`Report`] is built once from an [`Analysis`](crate::diagnose::Analysis) and rendered by
//! [`text`] and [`json`]; neither renderer looks further upstream. The JSON schema is documented
//! in `docs/report-schema.md`.

pub mod json;
pub mod text;

use serde::Serialize;

use crate::diagnose::context::{addr_or_unknown, file_of};
use crate::diagnose::{Analysis, Class, Finding};
use crate::model::{Stream, TcpConnection, UdpFlow};
use crate::source::SockId;

/// Version of the JSON document; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// Everything a rendered report shows, in the order it shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema_version: u32,
    pub configuration: Configuration,
    pub traces: Vec<TraceSummary>,
    pub replay: ReplaySummary,
    pub statistics: Statistics,
    pub findings: Vec<ReportFinding>,
    pub summary: Summary,
}

#[derive(Debug, Clone, Serialize)]
pub struct Configuration {
    /// `config-file`, `inferred` or `one-host`.
    pub origin: &'static str,
    pub hosts: Vec<HostEcho>,
    /// Ignored endpoints (`IP` or `IP:PORT`).
    pub ignores: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HostEcho {
    pub name: String,
    pub ips: Vec<String>,
    pub nats: Vec<NatEcho>,
    /// Trace IDs (`A`, `B`...).
    pub traces: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NatEcho {
    pub private: String,
    pub public: String,
    pub inferred: bool,
}

/// Parse and fold counters of one trace.
#[derive(Debug, Clone, Serialize)]
pub struct TraceSummary {
    pub id: String,
    pub name: String,
    pub path: String,
    pub host: String,
    pub lines: u64,
    pub calls: u64,
    pub unparsed: u64,
    pub skipped: u64,
    pub unfinished_at_end: u64,
    pub sockets: u64,
    pub socket_events: u64,
    pub non_socket_calls: u64,
    pub unknown_fd_calls: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReplaySummary {
    pub ordered_calls: u64,
    pub used_timestamps: bool,
    pub blocked_points: usize,
    pub deviations: usize,
    /// Deviations no finding explains (no rule covers their kind, or the context did not fit).
    pub unexplained_deviations: Vec<UnexplainedDeviation>,
}

#[derive(Debug, Clone, Serialize)]
pub struct UnexplainedDeviation {
    /// The deviation kind's name (`UnexpectedFailure`, ...).
    pub kind: String,
    pub trace_id: String,
    pub file: String,
    pub line: u64,
    pub detail: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Statistics {
    pub tcp: Vec<TcpStats>,
    pub udp: Vec<UdpStats>,
}

/// One TCP connection.
#[derive(Debug, Clone, Serialize)]
pub struct TcpStats {
    pub client: String,
    /// Empty when the connection was never accepted.
    pub server: String,
    /// The address the client dialled.
    pub server_address: String,
    /// The client's address as the server saw it.
    pub client_address: String,
    pub to_server: DirectionStats,
    pub to_client: DirectionStats,
}

#[derive(Debug, Clone, Serialize)]
pub struct DirectionStats {
    pub sent: u64,
    pub received: u64,
    pub lost: u64,
}

/// One UDP flow.
#[derive(Debug, Clone, Serialize)]
pub struct UdpStats {
    pub sender: String,
    pub sender_address: String,
    pub receiver_address: String,
    pub receivers: Vec<String>,
    pub datagrams_sent: u64,
    pub datagrams_received: u64,
    pub datagrams_lost: u64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    pub bytes_lost: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReportFinding {
    pub rule: &'static str,
    pub class: Class,
    pub summary: String,
    pub hint: String,
    pub evidence: Vec<ReportEvidence>,
    pub facts: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReportEvidence {
    /// The trace's display name.
    pub trace: String,
    /// The trace's ID (`A`, `B`...).
    pub trace_id: String,
    /// The trace file the line is in.
    pub file: String,
    pub line: u64,
    pub call: String,
    pub note: String,
}

/// Finding counts by class, and the exit status they imply.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub network: usize,
    pub application: usize,
    pub ambiguous: usize,
    pub portability: usize,
    pub info: usize,
    /// 1 when a finding of a problem class exists, else 0.
    pub exit_status: u8,
}

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
