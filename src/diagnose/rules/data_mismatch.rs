//! `data-mismatch`: bytes received differ from the bytes sent.

use super::per_socket_findings;
use crate::diagnose::rule::Rule;
use crate::diagnose::{Claims, Class, Context, Finding};
use crate::model::DeviationKind;

pub const RULE: Rule = Rule {
    id: "data-mismatch",
    class: Class::Network,
    title: "Received bytes differ from the bytes the peer sent",
    explanation: EXPLANATION,
    detect,
};

const EXPLANATION: &str = "\
## What it detects
A receive on a modelled connection or flow returned bytes that differ from what the traced peer
sent at that point, or bytes that no traced call sent at all.

## Why it matters
An ideal network delivers exactly what was sent. Different bytes mean something rewrote the data
(a transparent proxy, an application-level gateway, antivirus or TLS inspection), or another,
untraced party wrote into the connection.

## Evidence
The receive that returned the unexpected bytes and, when known, the send it was matched with.

## What to do
Look for proxies and inspection devices on the path; compare with a capture (`tcpdump`) at both
ends; check that no other process shares the socket.
";

fn detect(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    per_socket_findings(
        cx,
        claims,
        &RULE,
        |k| matches!(k, DeviationKind::DataMismatch | DeviationKind::UnknownData),
        |who, group| {
            (
                format!(
                    "{who} received {} time(s) bytes that differ from what its traced peer sent",
                    group.len()
                ),
                "look for proxies or inspection devices rewriting the data; compare captures at \
                 both ends"
                    .to_string(),
            )
        },
        "received bytes differ from the bytes sent",
    )
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::model::DeviationKind;
    use crate::testkit::rules::*;

    #[test]
    fn fires_alone_on_a_data_mismatch_pattern() {
        assert_fires_on(&RULE, with_deviation(DeviationKind::DataMismatch));
    }
}
