//! `datagram-truncated`: datagram sizes that do not fit the socket buffers.

use super::per_socket_findings;
use crate::diagnose::registry::Rule;
use crate::diagnose::{Claims, Class, Context, Finding};
use crate::model::DeviationKind;

pub const RULE: Rule = Rule {
    id: "datagram-truncated",
    class: Class::Portability,
    title: "A datagram was cut to the receive buffer, or is larger than the socket buffer",
    explanation: EXPLANATION,
    detect,
};

const EXPLANATION: &str = "\
## What it detects
A receive returned a datagram cut to the buffer the program passed (MSG_TRUNC, or a return value
smaller than the datagram sent), or a datagram larger than the socket's buffer was sent.

## Why it matters
What happens to the rest of a datagram, and to datagrams larger than the socket buffer, differs
between operating systems: Linux silently discards the tail, others report an error or drop the
whole datagram. Code that works on one system loses data on another.

## Evidence
The receive (or send) and the matching send on the other side; the facts give both sizes.

## What to do
Receive into a buffer as large as the largest datagram the protocol allows (up to 65,507 bytes for
UDP over IPv4), or use MSG_PEEK|MSG_TRUNC to learn the size first; keep datagrams below the socket
buffer sizes, or raise SO_SNDBUF/SO_RCVBUF.
";

fn detect(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    per_socket_findings(
        cx,
        claims,
        &RULE,
        |k| {
            matches!(
                k,
                DeviationKind::DatagramTruncated { .. } | DeviationKind::DatagramTooLarge { .. }
            )
        },
        |who, group| {
            let sizes: Vec<String> = group
                .iter()
                .filter_map(|(_, d)| match d.kind {
                    DeviationKind::DatagramTruncated { len, buffer } => {
                        Some(format!("{len}-byte datagram cut to {buffer}"))
                    }
                    DeviationKind::DatagramTooLarge { len, buffer } => {
                        Some(format!("{len}-byte datagram over a {buffer}-byte buffer"))
                    }
                    _ => None,
                })
                .collect();
            (
                format!(
                    "{who}: {} datagram(s) did not fit the buffers ({})",
                    group.len(),
                    sizes.first().map_or("", String::as_str)
                ),
                "receive into a buffer as large as the largest datagram (or MSG_PEEK|MSG_TRUNC \
                 first) and keep datagrams below the socket buffer sizes"
                    .to_string(),
            )
        },
        "datagram and buffer sizes disagree",
    )
}
