//! The HTML document: findings linked to the diagram, configuration, traces and statistics, the
//! report data as JSON, and the page's own style and script, all inline.

use std::collections::BTreeSet;

use std::fmt::Write as _;
use std::hash::{Hash, Hasher};

use super::diagram::Diagram;
use super::escape::{html, script_json};
use super::layout;
use crate::model::endpoint_table::OTHER_ENDPOINTS;
use crate::model::summary::{ByteCounts, ConnState};
use crate::report::{caret, DirectionStats, Report, ReportFinding};

const STYLE: &str = include_str!("assets/report.css");
const SCRIPT: &str = include_str!("assets/report.js");

/// Most statistics rows listed (the embedded JSON has them all).
const TABLE_ROW_LIMIT: usize = 500;

/// The whole page.
pub fn render(report: &Report, diagram: &Diagram) -> String {
    let data = serde_json::json!({ "report": report, "diagram": diagram });
    let data = script_json(&serde_json::to_string(&data).unwrap_or_else(|_| "{}".into()));
    let nonce = nonce(&data);
    let mut out = String::with_capacity(data.len() * 2 + 64 * 1024);
    let _ = write!(
        out,
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'nonce-{nonce}'">
<title>netcheck report</title>
<style>{STYLE}</style>
</head>
<body>
"#
    );
    header(&mut out, report);
    filters(&mut out, report, diagram);
    out.push_str("<main>\n<div class=\"columns\">\n");
    findings(&mut out, report, diagram);
    picture(&mut out, diagram);
    out.push_str("</div>\n");
    configuration(&mut out, report);
    traces(&mut out, report);
    statistics(&mut out, report);
    let _ = write!(
        out,
        r#"</main>
<pre id="netcheck-summary" hidden></pre>
<script type="application/json" id="netcheck-data">{data}</script>
<script nonce="{nonce}">{SCRIPT}</script>
</body>
</html>
"#
    );
    out
}

/// The script nonce: derived from the page's data, so the same input gives the same page while
/// text inside the data cannot know it in advance.
fn nonce(data: &str) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    data.hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

fn header(out: &mut String, report: &Report) {
    let s = &report.summary;
    let _ = writeln!(
        out,
        r#"<header><h1>netcheck report</h1><p class="counts"><span class="badge class-network">{} network</span> <span class="badge class-application">{} application</span> <span class="badge class-ambiguous">{} ambiguous</span> <span class="badge class-portability">{} portability</span> <span class="badge class-info">{} info</span> <span class="exit">exit status {}</span></p></header>"#,
        s.network, s.application, s.ambiguous, s.portability, s.info, s.exit_status
    );
}

fn filters(out: &mut String, report: &Report, diagram: &Diagram) {
    out.push_str(r#"<nav class="filters"><span class="group">Hosts:"#);
    for (i, host) in report.configuration.hosts.iter().enumerate() {
        let _ = write!(
            out,
            r#" <label><input type="checkbox" class="host-filter" value="{i}" checked> {}</label>"#,
            html(&host.name)
        );
    }
    out.push_str(r#"</span> <span class="group"><label>Connection: <select id="conn-filter"><option value="">all</option>"#);
    for c in &diagram.connections {
        let _ = write!(
            out,
            r#"<option value="{}">{}</option>"#,
            html(&c.id),
            html(&c.label)
        );
    }
    out.push_str(r#"</select></label></span> <span class="group">Findings:"#);
    for class in ["network", "application", "ambiguous", "portability", "info"] {
        let _ = write!(
            out,
            r#" <label><input type="checkbox" class="class-filter" value="{class}" checked> {class}</label>"#
        );
    }
    out.push_str(
        r#" <input type="search" id="finding-filter" placeholder="rule or text"></span></nav>
"#,
    );
}

/// Host indices of the lanes that hold these evidence keys.
fn hosts_of(keys: &[String], diagram: &Diagram) -> String {
    let hosts: BTreeSet<usize> = keys
        .iter()
        .filter_map(|k| k.split(':').next())
        .filter_map(|trace| diagram.lanes.iter().find(|l| l.trace_id == trace))
        .filter_map(|l| l.host_index)
        .collect();
    hosts
        .iter()
        .map(|h| h.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

fn findings(out: &mut String, report: &Report, diagram: &Diagram) {
    out.push_str(r#"<section id="findings"><h2>Findings</h2>"#);
    if report.findings.is_empty() {
        out.push_str(r#"<p class="none">No problem found.</p>"#);
    }
    out.push_str("<ol>\n");
    for (i, f) in report.findings.iter().enumerate() {
        let keys = diagram.evidence_keys.get(i).cloned().unwrap_or_default();
        finding(out, i, f, &keys, &hosts_of(&keys, diagram));
    }
    out.push_str("</ol></section>\n");
}

fn finding(out: &mut String, index: usize, f: &ReportFinding, keys: &[String], hosts: &str) {
    let class = f.class.as_str();
    let _ = write!(
        out,
        r#"<li class="finding class-{class}" id="finding-item-{index}" data-index="{index}" data-class="{class}" data-rule="{rule}" data-evidence="{ev}" data-hosts="{hosts}" tabindex="0"><div class="head"><span class="badge class-{class}">{class}</span> <code class="rule">{rule}</code> <span class="summary">{summary}</span></div><div class="hint">{hint}</div><div class="details"><ul class="evidence">"#,
        rule = html(f.rule),
        ev = html(&keys.join(" ")),
        summary = html(&f.summary),
        hint = html(&f.hint),
    );
    for (e, key) in f.evidence.iter().zip(keys) {
        let _ = write!(
            out,
            r#"<li data-key="{}"><span class="where">{}:{}</span>"#,
            html(key),
            html(&e.file),
            e.line
        );
        if !e.note.is_empty() {
            let _ = write!(out, r#" <span class="note">{}</span>"#, html(&e.note));
        }
        if !e.call.is_empty() {
            let _ = write!(
                out,
                "<pre>{}</pre>",
                marked_call(&e.call, &[&e.note, &f.summary])
            );
        }
        out.push_str("</li>");
    }
    out.push_str("</ul>");
    if !f.facts.is_empty() {
        out.push_str(r#"<ul class="facts">"#);
        for fact in &f.facts {
            let _ = write!(out, "<li>{}</li>", html(fact));
        }
        out.push_str("</ul>");
    }
    out.push_str("</div></li>\n");
}

/// The evidence call, escaped, with the part that matters (errno, address) in `<mark>`.
fn marked_call(call: &str, context: &[&str]) -> String {
    let Some((start, width)) = caret::focus(call, context) else {
        return html(call);
    };
    let byte = |chars: usize| {
        call.char_indices()
            .nth(chars)
            .map_or(call.len(), |(i, _)| i)
    };
    let (from, to) = (byte(start), byte(start + width));
    format!(
        "{}<mark>{}</mark>{}",
        html(&call[..from]),
        html(&call[from..to]),
        html(&call[to..])
    )
}

fn picture(out: &mut String, diagram: &Diagram) {
    out.push_str(
        r#"<section id="picture"><h2>What happened</h2><p class="legend"><span class="key-connect">→ connect/accept</span> <span class="key-data">→ data</span> <span class="key-datagram">→ datagram</span> <span class="key-lost">✕ lost</span> <span class="key-refused">↩ refused</span> <span class="key-deviation">◆ deviation</span> · time flows down in the reconstructed order (numbers: position)</p><div class="diagram-wrap">"#,
    );
    out.push_str(&layout::svg(diagram));
    out.push_str("</div></section>\n");
}

fn configuration(out: &mut String, report: &Report) {
    let config = &report.configuration;
    let origin = match config.origin {
        "inferred" => "inferred from the traces (one host per trace)",
        "one-host" => "one host, all traces over loopback",
        _ => "config file",
    };
    let _ = write!(
        out,
        r#"<section id="configuration"><h2>Configuration</h2><p>Source: {}</p><table><thead><tr><th>host</th><th>addresses</th><th>NATs</th><th>traces</th></tr></thead><tbody>"#,
        html(origin)
    );
    for (i, host) in config.hosts.iter().enumerate() {
        let nats: Vec<String> = host
            .nats
            .iter()
            .map(|n| {
                let inferred = if n.inferred { " (inferred)" } else { "" };
                format!("{} → {}{inferred}", n.private, n.public)
            })
            .collect();
        let traces = if host.traces.is_empty() {
            "not traced".to_string()
        } else {
            host.traces.join(", ")
        };
        let _ = write!(
            out,
            r#"<tr data-host="{i}"><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"#,
            html(&host.name),
            html(&host.ips.join(", ")),
            html(&nats.join("; ")),
            html(&traces)
        );
    }
    out.push_str("</tbody></table>");
    if !config.ignores.is_empty() {
        let _ = write!(
            out,
            "<p>Ignored endpoints: {}</p>",
            html(&config.ignores.join(", "))
        );
    }
    let untraced = untraced_peers(report);
    if !untraced.is_empty() {
        let list: Vec<&str> = untraced.iter().map(String::as_str).collect();
        let _ = write!(
            out,
            "<p>Reached but not traced: {}</p>",
            html(&list.join(", "))
        );
    }
    out.push_str("</section>\n");
}

/// Addresses the traced programs talked to that no trace answered.
fn untraced_peers(report: &Report) -> BTreeSet<String> {
    let unanswered = [
        ConnState::NotAccepted,
        ConnState::ToUntracedPeer,
        ConnState::Reset,
    ];
    let tcp = report
        .statistics
        .tcp
        .iter()
        .filter(|a| unanswered.iter().any(|s| a.states.contains_key(s)))
        .map(|a| a.server_endpoint.clone());
    let udp = report
        .statistics
        .udp
        .iter()
        .filter(|a| a.flows_without_receiver > 0)
        .map(|a| a.receiver_endpoint.clone());
    // The row summing a host's traffic beyond its listed endpoints is no address.
    tcp.chain(udp).filter(|e| e != OTHER_ENDPOINTS).collect()
}

fn traces(out: &mut String, report: &Report) {
    out.push_str(r#"<section id="traces"><h2>Traces</h2><table><thead><tr><th>ID</th><th>name</th><th>host</th><th>file</th><th>lines</th><th>calls</th><th>unparsed</th><th>sockets</th><th>socket events</th></tr></thead><tbody>"#);
    for t in &report.traces {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            html(&t.id),
            html(&t.name),
            html(&t.host),
            html(&t.path),
            t.lines,
            t.calls,
            t.unparsed,
            t.sockets,
            t.socket_events
        );
    }
    let r = &report.replay;
    let _ = write!(
        out,
        "</tbody></table><p>Replay: {} calls ordered{}, {} deviation(s), {} blocked point(s).</p>",
        r.ordered_calls,
        if r.used_timestamps {
            " (timestamps broke ties)"
        } else {
            ""
        },
        r.deviations,
        r.blocked_points
    );
    if !r.unexplained_deviations.is_empty() {
        out.push_str("<ul>");
        for d in &r.unexplained_deviations {
            let _ = write!(
                out,
                "<li>not explained by any finding: {} at {}:{} ({})</li>",
                html(&d.description),
                html(&d.file),
                d.line,
                html(&d.detail)
            );
        }
        out.push_str("</ul>");
    }
    out.push_str("</section>\n");
}

fn direction(d: &DirectionStats) -> String {
    format!("{} / {} / {}", d.sent, d.received, d.lost)
}

fn counts(c: &ByteCounts) -> String {
    format!("{} / {} / {}", c.sent, c.received, c.lost)
}

fn statistics(out: &mut String, report: &Report) {
    let stats = &report.statistics;
    out.push_str(r#"<section id="statistics"><h2>Statistics</h2>"#);
    if !stats.tcp.is_empty() {
        out.push_str(r#"<h3>TCP traffic</h3><table><thead><tr><th>client host</th><th>server endpoint</th><th>connections</th><th>how they ended</th><th>to server: sent / received / lost</th><th>to client: sent / received / lost</th></tr></thead><tbody>"#);
        for a in stats.tcp.iter().take(TABLE_ROW_LIMIT) {
            let lossy = if a.to_server.lost + a.to_client.lost > 0 {
                r#" class="lossy""#
            } else {
                ""
            };
            let states: Vec<String> = a
                .states
                .iter()
                .map(|(state, n)| format!("{n} {}", state.words()))
                .collect();
            let _ = write!(
                out,
                "<tr{lossy}><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                html(&a.client_host),
                html(&a.server_endpoint),
                a.connections,
                html(&states.join(", ")),
                counts(&a.to_server),
                counts(&a.to_client)
            );
        }
        out.push_str("</tbody></table>");
        more(out, stats.tcp.len());
    }
    if !stats.cited_tcp.is_empty() {
        out.push_str(r#"<h3>TCP connections the findings cite</h3><table><thead><tr><th>client</th><th>client address</th><th>server</th><th>server address</th><th>to server: sent / received / lost</th><th>to client: sent / received / lost</th></tr></thead><tbody>"#);
        for c in &stats.cited_tcp {
            let lossy = if c.to_server.lost + c.to_client.lost > 0 {
                r#" class="lossy""#
            } else {
                ""
            };
            let _ = write!(
                out,
                "<tr{lossy}><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                html(&c.client),
                html(&c.client_address),
                html(if c.server.is_empty() { "never accepted" } else { &c.server }),
                html(&c.server_address),
                direction(&c.to_server),
                direction(&c.to_client)
            );
        }
        out.push_str("</tbody></table>");
    }
    if !stats.udp.is_empty() {
        out.push_str(r#"<h3>UDP traffic</h3><table><thead><tr><th>sender host</th><th>receiver endpoint</th><th>flows</th><th>with no traced receiver</th><th>datagrams: sent / received / lost</th><th>bytes: sent / received / lost</th></tr></thead><tbody>"#);
        for a in stats.udp.iter().take(TABLE_ROW_LIMIT) {
            let lossy = if a.datagrams.lost > 0 {
                r#" class="lossy""#
            } else {
                ""
            };
            let _ = write!(
                out,
                "<tr{lossy}><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                html(&a.sender_host),
                html(&a.receiver_endpoint),
                a.flows,
                a.flows_without_receiver,
                counts(&a.datagrams),
                counts(&a.bytes)
            );
        }
        out.push_str("</tbody></table>");
        more(out, stats.udp.len());
    }
    if !stats.cited_udp.is_empty() {
        out.push_str(r#"<h3>UDP flows the findings cite</h3><table><thead><tr><th>sender</th><th>sender address</th><th>receiver address</th><th>receivers</th><th>datagrams: sent / received / lost</th><th>bytes: sent / received / lost</th></tr></thead><tbody>"#);
        for f in &stats.cited_udp {
            let lossy = if f.datagrams_lost > 0 {
                r#" class="lossy""#
            } else {
                ""
            };
            let _ = write!(
                out,
                "<tr{lossy}><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} / {} / {}</td><td>{} / {} / {}</td></tr>",
                html(&f.sender),
                html(&f.sender_address),
                html(&f.receiver_address),
                html(&f.receivers.join(", ")),
                f.datagrams_sent,
                f.datagrams_received,
                f.datagrams_lost,
                f.bytes_sent,
                f.bytes_received,
                f.bytes_lost
            );
        }
        out.push_str("</tbody></table>");
    }
    out.push_str("</section>\n");
}

fn more(out: &mut String, total: usize) {
    if total > TABLE_ROW_LIMIT {
        let _ = write!(
            out,
            "<p>{} more not listed (the embedded JSON data has them all).</p>",
            total - TABLE_ROW_LIMIT
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_marked_part_of_a_call_is_escaped_like_the_rest() {
        let call = r#"sendto(3, "</script><img src=x>", 21, 0, {sin_addr=inet_addr("10.0.0.9")}, 16) = -1 ECONNREFUSED"#;
        let marked = marked_call(call, &[]);
        assert!(marked.starts_with("sendto(3, &quot;&lt;/script&gt;&lt;img src=x&gt;&quot;"));
        assert!(
            marked.ends_with("= -1 <mark>ECONNREFUSED</mark>"),
            "{marked}"
        );
        let by_address = marked_call(
            &call.replace(" = -1 ECONNREFUSED", " = 21"),
            &["to 10.0.0.9:53"],
        );
        assert!(
            by_address.contains("inet_addr(&quot;<mark>10.0.0.9</mark>&quot;)"),
            "{by_address}"
        );
        assert_eq!(marked_call("close(3) = 0", &[]), "close(3) = 0");
    }

    #[test]
    fn the_nonce_follows_the_data() {
        assert_eq!(nonce("{}"), nonce("{}"));
        assert_ne!(nonce("{}"), nonce("{\"a\":1}"));
        assert_eq!(nonce("{}").len(), 16);
    }
}
