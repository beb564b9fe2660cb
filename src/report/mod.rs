//! The *report* stage: findings, statistics and configuration → human text, JSON or HTML.
//!
//! [`Report`] is built once from an [`Analysis`](crate::pipeline::Analysis) and rendered by
//! [`text`], [`json`] and [`html`]; no renderer looks further upstream (the HTML diagram is
//! drawn from the steps captured during the replay). The JSON schema is documented in
//! `docs/report-schema.md`.

mod build;
pub mod caret;
pub mod connections;
pub mod html;
pub mod json;
pub mod terminal;
pub mod text;

use serde::Serialize;

use crate::diagnose::Class;
use crate::model::{TcpAggregate, UdpAggregate};
use crate::source::TraceClock;

/// Version of the JSON document; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 2;

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
    /// Hosts declared without a trace: unobserved, so nothing they sent or received can be
    /// checked.
    pub untraced_hosts: Vec<String>,
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
    /// What its timestamps count from (`untimed`, `time-of-day`, `epoch`, `since-start`).
    pub clock: TraceClock,
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
    /// The deviation kind's stable name (`UnexpectedFailure`, ...), for machines.
    pub kind: String,
    /// What it means, in words.
    pub description: String,
    pub trace_id: String,
    pub file: String,
    pub line: u64,
    pub detail: String,
}

/// Traffic in aggregate, and one by one only where a finding points.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Statistics {
    /// Every TCP connection and connect attempt, per (client host, server endpoint).
    pub tcp: Vec<TcpAggregate>,
    /// Every UDP flow, per (sender host, receiver endpoint).
    pub udp: Vec<UdpAggregate>,
    /// The connections a finding cites.
    pub cited_tcp: Vec<TcpStats>,
    /// The flows a finding cites.
    pub cited_udp: Vec<UdpStats>,
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
    /// The hosts whose traces the evidence comes from: one host (a one-sided view: what the
    /// other end did is not in any trace) or both ends.
    pub seen_from: Vec<String>,
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
