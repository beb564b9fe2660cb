//! `broadcast-not-permitted`: A broadcast was sent without SO_BROADCAST.

use super::per_socket_findings;
use crate::diagnose::registry::Rule;
use crate::diagnose::{Claims, Class, Context, Finding};
use crate::model::DeviationKind;

pub const RULE: Rule = Rule {
    id: "broadcast-not-permitted",
    class: Class::Application,
    title: "A broadcast was sent without SO_BROADCAST",
    explanation: EXPLANATION,
    detect,
};

const EXPLANATION: &str = "\
## What it detects
A datagram sent to a broadcast address on a socket without the SO_BROADCAST option.

## Why it matters
The kernel refuses the send (EACCES on Linux), so the broadcast never leaves the host; some systems
behave differently, which hides the bug during development.

## Evidence
The send to the broadcast address.

## What to do
Call `setsockopt(fd, SOL_SOCKET, SO_BROADCAST, 1)` before broadcasting.
";

fn detect(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    per_socket_findings(
        cx,
        claims,
        &RULE,
        |k| matches!(k, DeviationKind::BroadcastNotPermitted),
        |who, group| {
            (
                format!(
                    "{who} sent to a broadcast address without setting SO_BROADCAST ({} time(s))",
                    group.len()
                ),
                "set SO_BROADCAST on the socket before sending to a broadcast address".to_string(),
            )
        },
        "broadcast without SO_BROADCAST",
    )
}
