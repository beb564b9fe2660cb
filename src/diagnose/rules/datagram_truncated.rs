//! `datagram-truncated`: a datagram cut to the receive buffer a call passed.

use super::per_socket_findings;
use crate::diagnose::rule::Rule;
use crate::diagnose::{Claims, Class, Context, Finding};
use crate::model::DeviationKind;

pub const RULE: Rule = Rule {
    id: "datagram-truncated",
    class: Class::Portability,
    title: "A datagram was larger than the receive buffer the program passed, and was cut",
    explanation: EXPLANATION,
    detect,
};

const EXPLANATION: &str = "\
## What it detects
A receive returned a datagram cut to the buffer the program passed (MSG_TRUNC, or a return value
smaller than the datagram sent). A datagram larger than the socket's own send or receive buffer
(SO_SNDBUF / SO_RCVBUF) is `buffer-overrun` instead.

## Why it matters
What happens to the rest of a datagram differs between operating systems and APIs: Linux silently
discards the tail, others report an error or drop the whole datagram. Code that works on one
system loses data on another.

## Evidence
The receive and the matching send on the other side; the facts give both sizes.

## What to do
Receive into a buffer as large as the largest datagram the protocol allows (up to 65,507 bytes for
UDP over IPv4), or use MSG_PEEK|MSG_TRUNC to learn the size first.
";

fn detect(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    per_socket_findings(
        cx,
        claims,
        &RULE,
        |k| matches!(k, DeviationKind::DatagramTruncated { .. }),
        |who, group| {
            let sizes: Vec<String> = group
                .iter()
                .filter_map(|(_, d)| match d.kind {
                    DeviationKind::DatagramTruncated { len, buffer } => {
                        Some(format!("{len}-byte datagram cut to {buffer}"))
                    }
                    _ => None,
                })
                .collect();
            (
                format!(
                    "{who}: {} datagram(s) were cut to the receive buffer ({})",
                    group.len(),
                    sizes.first().map_or("", String::as_str)
                ),
                "receive into a buffer as large as the largest datagram (or MSG_PEEK|MSG_TRUNC \
                 first)"
                    .to_string(),
            )
        },
        "datagram cut to the receive buffer",
    )
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::model::DeviationKind;
    use crate::testkit::rules::*;

    #[test]
    fn fires_alone_on_a_datagram_truncated_pattern() {
        assert_fires_on(
            &RULE,
            with_deviation(DeviationKind::DatagramTruncated {
                len: 2000,
                buffer: 1024,
            }),
        );
    }

    #[test]
    fn fires_on_recorded_udp_truncated_and_udp_truncated_msg_trunc() {
        assert_recorded_scenarios_report(&RULE, &["udp-truncated", "udp-truncated-msg-trunc"]);
    }
}
