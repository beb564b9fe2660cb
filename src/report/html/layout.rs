//! Laying out the diagram as inline SVG: lanes left to right, calls top to bottom in
//! reconstructed order (one row per drawn call, not clock time), arrows between rows.

use std::fmt::Write as _;

use super::diagram::{Aggregate, Arrow, ArrowKind, Diagram};
use super::escape::html;

/// Left margin holding the position numbers.
pub const GUTTER: f64 = 64.0;
/// Width of one lane (its dot column plus room for the call labels).
pub const LANE_WIDTH: f64 = 280.0;
/// Offset of a lane's line from the lane's left edge.
const LANE_INSET: f64 = 22.0;
/// Height of the lane headers.
pub const HEADER_HEIGHT: f64 = 58.0;
/// Vertical distance between two drawn calls.
pub const ROW_HEIGHT: f64 = 26.0;
const AGGREGATE_HEIGHT: f64 = 34.0;
const FOOTER_HEIGHT: f64 = 30.0;
/// Longest label drawn in full (the whole call is in the tooltip).
const LABEL_CHARS: usize = 46;
/// Room right of the last lane for its labels.
const RIGHT_MARGIN: f64 = 120.0;
/// How far an arrow goes when its target lane is its own lane.
const SELF_REACH: f64 = 90.0;

/// Where everything goes.
#[derive(Debug, Clone, PartialEq)]
pub struct Geometry {
    pub width: f64,
    pub height: f64,
    /// x of each lane's line.
    pub lane_x: Vec<f64>,
    /// y of each drawn call.
    pub row_y: Vec<f64>,
    /// y of each aggregate band.
    pub aggregate_y: Vec<f64>,
}

pub fn geometry(d: &Diagram) -> Geometry {
    let lane_x = (0..d.lanes.len())
        .map(|i| GUTTER + i as f64 * LANE_WIDTH + LANE_INSET)
        .collect();
    let first_row = HEADER_HEIGHT + ROW_HEIGHT / 2.0 + 6.0;
    let row_y: Vec<f64> = (0..d.rows.len())
        .map(|i| first_row + i as f64 * ROW_HEIGHT)
        .collect();
    let rows_end = first_row + d.rows.len() as f64 * ROW_HEIGHT;
    let aggregate_y: Vec<f64> = (0..d.aggregates.len())
        .map(|i| rows_end + AGGREGATE_HEIGHT * (i as f64 + 0.75))
        .collect();
    let height = rows_end + AGGREGATE_HEIGHT * d.aggregates.len() as f64 + FOOTER_HEIGHT;
    Geometry {
        width: GUTTER + d.lanes.len().max(1) as f64 * LANE_WIDTH + RIGHT_MARGIN,
        height,
        lane_x,
        row_y,
        aggregate_y,
    }
}

fn short(text: &str) -> String {
    match text.char_indices().nth(LABEL_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

fn kind_name(kind: ArrowKind) -> &'static str {
    match kind {
        ArrowKind::Connect => "connect",
        ArrowKind::Data => "data",
        ArrowKind::Datagram => "datagram",
        ArrowKind::Lost => "lost",
        ArrowKind::Refused => "refused",
    }
}

const MARKERS: &str = r##"<defs><marker id="head-connect" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="10" markerHeight="10" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="#2563eb"/></marker><marker id="head-data" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="10" markerHeight="10" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="#15803d"/></marker><marker id="head-datagram" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="10" markerHeight="10" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="#7c3aed"/></marker><marker id="head-refused" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="10" markerHeight="10" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="#ea580c"/></marker></defs>"##;

/// The diagram: the lane headers in their own `<svg>` (the page keeps them in view while the
/// drawing scrolls), then the drawing, an `<svg>` in the same coordinates below the headers.
pub fn svg(d: &Diagram) -> String {
    let g = geometry(d);
    let mut out = String::with_capacity(256 * (d.rows.len() + d.arrows.len()) + 4096);
    lane_heads(&mut out, d, &g);
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" id="diagram" class="diagram" width="{w}" height="{h}" viewBox="0 {top} {w} {h}" role="img" aria-label="time-space diagram">"#,
        w = g.width,
        h = g.height - HEADER_HEIGHT,
        top = HEADER_HEIGHT,
    );
    out.push_str(MARKERS);
    lanes(&mut out, d, &g);
    out.push_str(r#"<g class="arrows">"#);
    for arrow in &d.arrows {
        draw_arrow(&mut out, d, &g, arrow);
    }
    out.push_str("</g>");
    rows(&mut out, d, &g);
    for (a, y) in d.aggregates.iter().zip(&g.aggregate_y) {
        draw_aggregate(&mut out, &g, a, *y);
    }
    let footer = format!(
        "{} of {} calls drawn{}",
        d.rows.len(),
        d.total_steps,
        if d.omitted_steps > 0 {
            format!(
                "; {} calls of the drawn connections left out",
                d.omitted_steps
            )
        } else {
            String::new()
        }
    );
    let _ = write!(
        out,
        r#"<text class="footer" x="8" y="{}">{}</text></svg>"#,
        g.height - 10.0,
        html(&footer)
    );
    out
}

fn host_attr(lane: &super::diagram::Lane) -> String {
    lane.host_index
        .map_or_else(|| "x".into(), |h| h.to_string())
}

fn lane_heads(out: &mut String, d: &Diagram, g: &Geometry) {
    let _ = write!(
        out,
        r#"<div class="lane-heads"><svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}">"#,
        w = g.width,
        h = HEADER_HEIGHT,
    );
    for (i, (lane, x)) in d.lanes.iter().zip(&g.lane_x).enumerate() {
        let trace = match (lane.trace_id.is_empty(), lane.pid) {
            (true, _) => lane.trace.clone(),
            (false, Some(pid)) => format!("{} · {} · pid {pid}", lane.trace_id, lane.trace),
            (false, None) => format!("{} · {}", lane.trace_id, lane.trace),
        };
        let _ = write!(
            out,
            r#"<g class="lane-head" data-lane="{i}" data-host="{host}"><rect class="lane-band" x="{bx}" y="0" width="{bw}" height="{h}"/><text class="lane-host" x="{tx}" y="20">{hn}</text><text class="lane-trace" x="{tx}" y="38">{tn}</text></g>"#,
            host = host_attr(lane),
            bx = x - LANE_INSET + 2.0,
            bw = LANE_WIDTH - 4.0,
            h = HEADER_HEIGHT,
            tx = x - 12.0,
            hn = html(&short(&lane.host)),
            tn = html(&short(&trace)),
        );
    }
    out.push_str("</svg></div>");
}

fn lanes(out: &mut String, d: &Diagram, g: &Geometry) {
    for (i, (lane, x)) in d.lanes.iter().zip(&g.lane_x).enumerate() {
        let _ = write!(
            out,
            r#"<g class="lane{}" data-lane="{i}" data-host="{host}"><rect class="lane-band" x="{bx}" y="{top}" width="{bw}" height="{h}"/><line x1="{x}" y1="{top}" x2="{x}" y2="{bottom}"/></g>"#,
            if lane.host_index.is_none() {
                " outside"
            } else {
                ""
            },
            host = host_attr(lane),
            bx = x - LANE_INSET + 2.0,
            bw = LANE_WIDTH - 4.0,
            h = g.height - FOOTER_HEIGHT - HEADER_HEIGHT,
            top = HEADER_HEIGHT,
            bottom = g.height - FOOTER_HEIGHT,
        );
    }
}

fn rows(out: &mut String, d: &Diagram, g: &Geometry) {
    for (row, y) in d.rows.iter().zip(&g.row_y) {
        let Some(x) = g.lane_x.get(row.lane) else {
            continue;
        };
        let host = d
            .lanes
            .get(row.lane)
            .and_then(|l| l.host_index)
            .map_or_else(String::new, |h| h.to_string());
        let mut class = format!("step kind-{}", super::kind_name(row.kind));
        if row.deviation.is_some() {
            class.push_str(" deviation");
        }
        if !row.findings.is_empty() {
            class.push_str(" cited");
        }
        let mut tooltip = format!("#{} {}", row.position, row.call);
        if let Some(dev) = &row.deviation {
            let _ = write!(tooltip, "\nmodel: {dev}");
        }
        let _ = write!(
            out,
            r#"<g class="{class}" data-key="{key}" data-lane="{lane}" data-host="{host}" data-conn="{conn}" data-pos="{pos}"><title>{tip}</title><text class="pos" x="{px}" y="{ty}">{pos}</text>"#,
            key = html(&row.key),
            lane = row.lane,
            conn = html(row.conn.as_deref().unwrap_or("")),
            pos = row.position,
            tip = html(&tooltip),
            px = GUTTER - 8.0,
            ty = y + 4.0,
        );
        if row.deviation.is_some() {
            let _ = write!(
                out,
                r#"<path class="dev-mark" d="M{a},{y}l7,-7l7,7l-7,7z"/>"#,
                a = x - 7.0,
            );
        } else {
            let _ = write!(out, r#"<circle cx="{x}" cy="{y}" r="4"/>"#);
        }
        let _ = write!(
            out,
            r#"<text class="label" x="{lx}" y="{ty}">{label}</text></g>"#,
            lx = x + 11.0,
            ty = y + 4.0,
            label = html(&short(&row.label)),
        );
    }
}

/// The point an arrow without a receiving call points at.
fn open_end(g: &Geometry, from_x: f64, to_lane: usize) -> f64 {
    match g.lane_x.get(to_lane) {
        Some(&x) if (x - from_x).abs() > 1.0 => x,
        _ => from_x + SELF_REACH,
    }
}

/// Where an arrow's label goes: above its middle, or further along when the arrow leaves to the
/// right, where the sending call's own label would be under it.
fn label_point(from: (f64, f64), to: (f64, f64)) -> (f64, f64) {
    let along = if to.0 > from.0 { 0.72 } else { 0.5 };
    (
        from.0 + (to.0 - from.0) * along,
        from.1 + (to.1 - from.1) * along - 3.0,
    )
}

fn draw_arrow(out: &mut String, d: &Diagram, g: &Geometry, arrow: &Arrow) {
    let Some(from_row) = d.rows.get(arrow.from) else {
        return;
    };
    let (Some(&x1), Some(&y1)) = (g.lane_x.get(from_row.lane), g.row_y.get(arrow.from)) else {
        return;
    };
    let kind = kind_name(arrow.kind);
    let to_key = arrow
        .to
        .and_then(|t| d.rows.get(t))
        .map_or_else(String::new, |r| r.key.clone());
    let _ = write!(
        out,
        r#"<g class="arrow arrow-{kind}" data-kind="{kind}" data-conn="{conn}" data-from="{from}" data-to="{to}">"#,
        conn = html(arrow.conn.as_deref().unwrap_or("")),
        from = html(&from_row.key),
        to = html(&to_key),
    );
    let (path, label_x, label_y) = match (arrow.kind, arrow.to) {
        (ArrowKind::Refused, _) => {
            let x2 = open_end(g, x1, arrow.to_lane);
            let wall = if x2 > x1 { x2 - 8.0 } else { x2 + 8.0 };
            let path = format!(
                r#"<path d="M{x1},{y1}L{wall},{ym}L{x1},{yb}" marker-end="url(#head-refused)"/><path class="wall" d="M{wall},{wt}v14"/>"#,
                ym = y1 + 7.0,
                yb = y1 + 14.0,
                wt = y1,
            );
            (path, (x1 + wall) / 2.0, y1 - 2.0)
        }
        (ArrowKind::Lost, _) | (_, None) => {
            let x2 = open_end(g, x1, arrow.to_lane);
            let end = x1 + (x2 - x1) * 0.8;
            let y2 = y1 + ROW_HEIGHT * 0.6;
            let path = format!(
                r#"<path d="M{x1},{y1}L{end},{y2}"/><path class="cross" d="M{a},{b}l10,10M{a},{c}l10,-10"/>"#,
                a = end - 5.0,
                b = y2 - 5.0,
                c = y2 + 5.0,
            );
            {
                let (x, y) = label_point((x1, y1), (end, y2));
                (path, x, y)
            }
        }
        (_, Some(to)) => {
            let Some(to_row) = d.rows.get(to) else {
                out.push_str("</g>");
                return;
            };
            let (Some(&x2), Some(&y2)) = (g.lane_x.get(to_row.lane), g.row_y.get(to)) else {
                out.push_str("</g>");
                return;
            };
            let path = if (x2 - x1).abs() < 1.0 {
                format!(
                    r#"<path d="M{x1},{y1}C{c},{y1} {c},{y2} {x2},{y2}" marker-end="url(#head-{kind})"/>"#,
                    c = x1 + SELF_REACH,
                )
            } else {
                let inset = if x2 > x1 { -5.0 } else { 5.0 };
                format!(
                    r#"<path d="M{x1},{y1}L{e},{y2}" marker-end="url(#head-{kind})"/>"#,
                    e = x2 + inset,
                )
            };
            {
                let (x, y) = label_point((x1, y1), (x2, y2));
                (path, x, y)
            }
        }
    };
    out.push_str(&path);
    if !arrow.label.is_empty() {
        let _ = write!(
            out,
            r#"<text x="{label_x}" y="{label_y}">{}</text>"#,
            html(&short(&arrow.label))
        );
    }
    out.push_str("</g>");
}

fn human_bytes(n: u64) -> String {
    match n {
        0..=9_999 => format!("{n} B"),
        10_000..=9_999_999 => format!("{:.1} kB", n as f64 / 1e3),
        _ => format!("{:.1} MB", n as f64 / 1e6),
    }
}

fn draw_aggregate(out: &mut String, g: &Geometry, a: &Aggregate, y: f64) {
    let (Some(&x1), Some(&x2)) = (g.lane_x.get(a.from_lane), g.lane_x.get(a.to_lane)) else {
        return;
    };
    let width = (1.0 + (a.count as f64).log10() * 2.0).min(8.0);
    let text = match a.protocol {
        "tcp" => format!(
            "{} TCP connection(s): {} → {} ←, {} lost",
            a.count,
            human_bytes(a.forward),
            human_bytes(a.back),
            human_bytes(a.lost)
        ),
        _ => format!(
            "{} UDP flow(s): {} datagrams sent, {} received",
            a.count, a.forward, a.back
        ),
    };
    let lost = if a.lost > 0 { " with-loss" } else { "" };
    let _ = write!(
        out,
        r#"<g class="aggregate{lost}" data-from-lane="{}" data-to-lane="{}"><path d="M{x1},{y}L{x2},{y}" stroke-width="{width:.1}"/><text x="{tx}" y="{ty}">{}</text></g>"#,
        a.from_lane,
        a.to_lane,
        html(&text),
        tx = x1.min(x2) + 8.0,
        ty = y - 7.0,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::html::capture::CallKind;
    use crate::report::html::diagram::{Lane, Row};

    fn lane(host: &str, id: &str) -> Lane {
        Lane {
            trace_id: id.into(),
            trace: format!("{host}.trace"),
            host: host.into(),
            host_index: Some(0),
            pid: None,
        }
    }

    fn row(position: u64, lane: usize, label: &str) -> Row {
        Row {
            position,
            lane,
            key: format!("A:0:{position}"),
            kind: CallKind::Send,
            sock: "A0".into(),
            label: label.into(),
            call: label.into(),
            deviation: None,
            conn: Some("t0".into()),
            findings: Vec::new(),
        }
    }

    fn diagram() -> Diagram {
        Diagram {
            lanes: vec![lane("client", "A"), lane("server", "B")],
            rows: vec![row(1, 0, "send A0 5 B"), row(4, 1, "recv B1 5 B")],
            arrows: vec![Arrow {
                from: 0,
                to: Some(1),
                to_lane: 1,
                kind: ArrowKind::Data,
                label: "5 B".into(),
                conn: Some("t0".into()),
            }],
            aggregates: vec![Aggregate {
                from_lane: 0,
                to_lane: 1,
                protocol: "tcp",
                count: 10,
                forward: 100,
                back: 2000,
                lost: 0,
            }],
            connections: Vec::new(),
            evidence_keys: Vec::new(),
            total_steps: 9,
            omitted_steps: 0,
        }
    }

    #[test]
    fn lanes_go_left_to_right_and_rows_go_down_in_order() {
        let g = geometry(&diagram());
        assert_eq!(g.lane_x, vec![GUTTER + 22.0, GUTTER + LANE_WIDTH + 22.0]);
        assert_eq!(g.row_y[1] - g.row_y[0], ROW_HEIGHT);
        assert!(g.row_y[0] > HEADER_HEIGHT);
        assert!(g.aggregate_y[0] > g.row_y[1]);
        assert!(g.height > g.aggregate_y[0]);
        assert!(g.width >= g.lane_x[1] + LANE_WIDTH - 22.0);
    }

    #[test]
    fn an_arrow_joins_the_two_calls_it_links() {
        let d = diagram();
        let g = geometry(&d);
        let svg = svg(&d);
        let expected = format!(
            "M{},{}L{},{}",
            g.lane_x[0],
            g.row_y[0],
            g.lane_x[1] - 5.0,
            g.row_y[1]
        );
        assert!(svg.contains(&expected), "{svg}");
        assert!(svg.contains(r#"data-from="A:0:1" data-to="A:0:4""#));
        assert!(svg.contains("10 TCP connection(s): 100 B → 2000 B ←, 0 B lost"));
    }

    #[test]
    fn lane_names_are_in_a_header_above_the_drawing() {
        let svg = svg(&diagram());
        let drawing = svg.find(r#"id="diagram""#).unwrap();
        let head = svg.find(r#"class="lane-host""#).unwrap();
        assert!(svg.starts_with(r#"<div class="lane-heads">"#));
        assert!(head < drawing, "{svg}");
        assert!(svg.contains(r#"A · client.trace</text>"#));
        // The drawing starts where the header ends, in the same coordinates.
        assert!(svg.contains(&format!(r#"viewBox="0 {HEADER_HEIGHT} "#)));
    }

    #[test]
    fn lost_and_refused_arrows_end_in_a_cross_or_bounce_back() {
        let mut d = diagram();
        d.arrows = vec![
            Arrow {
                from: 0,
                to: None,
                to_lane: 1,
                kind: ArrowKind::Lost,
                label: "5 B lost".into(),
                conn: None,
            },
            Arrow {
                from: 0,
                to: None,
                to_lane: 0,
                kind: ArrowKind::Refused,
                label: "ECONNREFUSED".into(),
                conn: None,
            },
        ];
        let g = geometry(&d);
        let svg = svg(&d);
        assert!(svg.contains(r#"class="cross""#));
        // The bounce returns to the sending lane, below where it left.
        let back = format!("L{},{}\"", g.lane_x[0], g.row_y[0] + 14.0);
        assert!(svg.contains(&back), "{svg}");
        assert!(svg.contains("head-refused"));
    }

    #[test]
    fn names_from_traces_are_text_in_the_drawing() {
        let mut d = diagram();
        d.lanes[0].host = "<script>alert(1)</script>".into();
        d.rows[0].label = "send A0 \"</script><img src=x onerror=alert(1)>".into();
        d.rows[0].key = "A:0:1\"onclick=\"x".into();
        let svg = svg(&d);
        assert!(!svg.contains("<script") && !svg.contains("<img"), "{svg}");
        assert!(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(svg.contains(r#"data-key="A:0:1&quot;onclick=&quot;x""#));
    }

    #[test]
    fn long_labels_are_cut() {
        assert_eq!(short("abc"), "abc");
        let long = "x".repeat(LABEL_CHARS + 5);
        assert_eq!(short(&long).chars().count(), LABEL_CHARS + 1);
    }
}
