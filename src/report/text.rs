//! The human rendering: configuration, parse summary, replay, statistics, then problems last, so
//! the conclusion is what stays on screen.

use std::fmt::Write as _;

use super::{DirectionStats, Report, ReportFinding};
use crate::diagnose::Class;
use crate::model::endpoint_table::{ENDPOINTS_LISTED_PER_HOST, OTHER_ENDPOINTS};
use crate::model::summary::ByteCounts;
use crate::model::TcpAggregate;
use crate::source::TraceClock;

/// Should output be coloured? Only on a terminal, and never when `NO_COLOR` is set to a non-empty
/// value (<https://no-color.org>).
pub fn use_color(is_terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    is_terminal && no_color.is_none_or(|v| v.is_empty())
}

/// The colour decision for standard output in this process.
pub fn stdout_color() -> bool {
    use std::io::IsTerminal;
    use_color(
        std::io::stdout().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
    )
}

/// ANSI styling, or none.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
}

impl Style {
    fn paint(self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    pub fn heading(self, text: &str) -> String {
        self.paint("1", text)
    }
    pub fn class(self, class: Class) -> String {
        let code = match class {
            Class::Network => "1;31",
            Class::Application => "1;35",
            Class::Ambiguous => "1;33",
            Class::Portability => "1;36",
            Class::Info => "2",
        };
        self.paint(code, &format!("[{class}]"))
    }
    /// The caret line under an evidence call.
    pub fn marker(self, text: &str) -> String {
        self.paint("1;31", text)
    }
    pub fn dim(self, text: &str) -> String {
        self.paint("2", text)
    }
}

/// Renders the whole report.
pub fn render(report: &Report, style: Style) -> String {
    let mut out = String::new();
    configuration(&mut out, report, style);
    traces(&mut out, report, style);
    statistics(&mut out, report, style);
    problems(&mut out, report, style);
    out
}

/// The findings alone (`--quiet`): each finding, then the counts line; nothing when none.
pub fn render_findings(report: &Report, style: Style) -> String {
    let mut out = String::new();
    for f in &report.findings {
        finding(&mut out, f, report, style);
    }
    if !report.findings.is_empty() {
        counts(&mut out, report);
    }
    out.trim_start_matches('\n').to_string()
}

fn section(out: &mut String, title: &str, style: Style) {
    if !out.is_empty() {
        out.push('\n');
    }
    let _ = writeln!(out, "{}", style.heading(title));
    let _ = writeln!(out, "{}", "=".repeat(title.chars().count()));
}

fn configuration(out: &mut String, report: &Report, style: Style) {
    let config = &report.configuration;
    section(out, "Configuration", style);
    let _ = writeln!(out, "source: {}", config.origin);
    for host in &config.hosts {
        let ips = if host.ips.is_empty() {
            "no address".to_string()
        } else {
            host.ips.join(", ")
        };
        let traces = if host.traces.is_empty() {
            "none (unobserved)".to_string()
        } else {
            host.traces.join(", ")
        };
        let _ = writeln!(out, "host {}: {ips}; trace(s) {traces}", host.name);
        for nat in &host.nats {
            let marker = if nat.inferred { " (inferred)" } else { "" };
            let _ = writeln!(out, "  nat {} -> {}{marker}", nat.private, nat.public);
        }
    }
    if !config.ignores.is_empty() {
        let _ = writeln!(out, "ignored: {}", config.ignores.join(", "));
    }
    if !config.untraced_hosts.is_empty() {
        let _ = writeln!(
            out,
            "untraced: {} (declared without a trace: nothing they sent or received can be \
             checked; findings about them rest on the other side alone)",
            config.untraced_hosts.join(", ")
        );
    }
}

fn traces(out: &mut String, report: &Report, style: Style) {
    section(out, "Traces", style);
    for t in &report.traces {
        let _ = writeln!(
            out,
            "{} {} (host {}, {}): {} lines, {} calls, {} unparsed, {} skipped; {} sockets, {} \
             socket events",
            t.id,
            t.name,
            t.host,
            t.path,
            t.lines,
            t.calls,
            t.unparsed,
            t.skipped,
            t.sockets,
            t.socket_events
        );
        if t.clock == TraceClock::SinceStart {
            let _ = writeln!(
                out,
                "  {} counts time from its own first line (-r): its times are set against no \
                 other trace's",
                t.id
            );
        }
    }
    let r = &report.replay;
    let _ = writeln!(
        out,
        "replay: {} calls ordered{}, {} deviation(s), {} blocked point(s)",
        r.ordered_calls,
        if r.used_timestamps {
            " (timestamps broke ties)"
        } else {
            ""
        },
        r.deviations,
        r.blocked_points
    );
    for d in &r.unexplained_deviations {
        let _ = writeln!(
            out,
            "  not explained by any finding: {} at {}:{} ({})",
            d.description, d.file, d.line, d.detail
        );
    }
}

fn direction(d: &DirectionStats) -> String {
    let mut text = format!("{} sent, {} received, {} lost", d.sent, d.received, d.lost);
    if d.lost > 0 && d.sent > 0 {
        let _ = write!(text, " ({:.2}%)", 100.0 * d.lost as f64 / d.sent as f64);
    }
    text
}

fn statistics(out: &mut String, report: &Report, style: Style) {
    let stats = &report.statistics;
    if !stats.tcp.is_empty() {
        section(out, "TCP traffic", style);
        for a in &stats.tcp {
            tcp_aggregate(out, a);
        }
    }
    if !stats.cited_tcp.is_empty() {
        section(out, "TCP connections the findings cite", style);
        for c in &stats.cited_tcp {
            let server = if c.server.is_empty() {
                "never accepted".to_string()
            } else {
                c.server.clone()
            };
            let _ = writeln!(
                out,
                "{} ({}) -> {} ({})",
                c.client, c.client_address, server, c.server_address
            );
            let _ = writeln!(out, "  bytes to server: {}", direction(&c.to_server));
            let _ = writeln!(out, "  bytes to client: {}", direction(&c.to_client));
        }
    }
    if !stats.udp.is_empty() {
        section(out, "UDP traffic", style);
        for a in &stats.udp {
            let _ = writeln!(
                out,
                "{} -> {}: {}{}",
                a.sender_host,
                endpoint_words(&a.receiver_endpoint),
                plural(a.flows, "flow"),
                if a.flows_without_receiver > 0 {
                    format!(", {} with no traced receiver", a.flows_without_receiver)
                } else {
                    String::new()
                }
            );
            let _ = writeln!(out, "  datagrams: {}", counts_text(&a.datagrams));
            let _ = writeln!(out, "  bytes: {}", counts_text(&a.bytes));
        }
    }
    if !stats.cited_udp.is_empty() {
        section(out, "UDP flows the findings cite", style);
        for f in &stats.cited_udp {
            let receivers = if f.receivers.is_empty() {
                "no traced receiver".to_string()
            } else {
                f.receivers.join(", ")
            };
            let _ = writeln!(
                out,
                "{} ({}) -> {} ({receivers})",
                f.sender, f.sender_address, f.receiver_address
            );
            let datagrams = DirectionStats {
                sent: f.datagrams_sent,
                received: f.datagrams_received,
                lost: f.datagrams_lost,
            };
            let bytes = DirectionStats {
                sent: f.bytes_sent,
                received: f.bytes_received,
                lost: f.bytes_lost,
            };
            let _ = writeln!(out, "  datagrams: {}", direction(&datagrams));
            let _ = writeln!(out, "  bytes: {}", direction(&bytes));
        }
    }
}

/// `client -> server: 12 connections (10 established and closed normally, 2 refused)`.
fn tcp_aggregate(out: &mut String, a: &TcpAggregate) {
    let states: Vec<String> = a
        .states
        .iter()
        .map(|(state, n)| format!("{n} {}", state.words()))
        .collect();
    let _ = writeln!(
        out,
        "{} -> {}: {} ({})",
        a.client_host,
        endpoint_words(&a.server_endpoint),
        plural(a.connections, "connection"),
        states.join(", ")
    );
    if a.to_server.sent + a.to_client.sent > 0 {
        let _ = writeln!(out, "  bytes to server: {}", counts_text(&a.to_server));
        let _ = writeln!(out, "  bytes to client: {}", counts_text(&a.to_client));
    }
    if a.timed > 0 {
        let _ = writeln!(
            out,
            "  duration: {:.3} s on average, longest {:.3} s",
            a.total_seconds / a.timed as f64,
            a.longest_seconds
        );
    }
}

/// An aggregate's endpoint as the text report names it: the row that sums a host's traffic
/// beyond its listed endpoints says so.
fn endpoint_words(endpoint: &str) -> String {
    if endpoint == OTHER_ENDPOINTS {
        format!("other endpoints (beyond the first {ENDPOINTS_LISTED_PER_HOST}, summed)")
    } else {
        endpoint.to_string()
    }
}

fn plural(n: u64, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

fn counts_text(c: &ByteCounts) -> String {
    direction(&DirectionStats {
        sent: c.sent,
        received: c.received,
        lost: c.lost,
    })
}

fn problems(out: &mut String, report: &Report, style: Style) {
    section(out, "Problems", style);
    if report.findings.is_empty() {
        let _ = writeln!(out, "none found");
        return;
    }
    for f in &report.findings {
        finding(out, f, report, style);
    }
    counts(out, report);
}

fn counts(out: &mut String, report: &Report) {
    let s = &report.summary;
    let _ = writeln!(
        out,
        "\n{} network, {} application, {} ambiguous, {} portability, {} info. Run `netcheck \
         explain RULE` for details.",
        s.network, s.application, s.ambiguous, s.portability, s.info
    );
}

fn finding(out: &mut String, f: &ReportFinding, report: &Report, style: Style) {
    let _ = writeln!(out, "\n{} {}: {}", style.class(f.class), f.rule, f.summary);
    for e in &f.evidence {
        let _ = write!(out, "  at {}:{}", e.file, e.line);
        if !e.note.is_empty() {
            let _ = write!(out, " ({})", e.note);
        }
        out.push('\n');
        if !e.call.is_empty() {
            let _ = writeln!(out, "     {}", style.dim(&e.call));
            if let Some(carets) = super::caret::underline(&e.call, &[&e.note, &f.summary]) {
                let _ = writeln!(out, "     {}", style.marker(&carets));
            }
        }
    }
    for fact in &f.facts {
        let _ = writeln!(out, "  - {fact}");
    }
    // With one host there is no other side to have seen anything.
    if report.configuration.hosts.len() > 1 {
        if let [only] = f.seen_from.as_slice() {
            let _ = writeln!(out, "  seen from: {only} only");
        } else if f.seen_from.len() > 1 {
            let _ = writeln!(out, "  seen from: {}", f.seen_from.join(" and "));
        }
    }
    let _ = writeln!(out, "  hint: {}", f.hint);
}
