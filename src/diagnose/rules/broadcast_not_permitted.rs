//! `broadcast-not-permitted`: A broadcast was sent without SO_BROADCAST.

use super::per_socket_findings;
use crate::diagnose::rule::Rule;
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
A datagram sent to a broadcast address on a socket without the SO_BROADCAST option. The signal is
a UDP send or connect failing with EACCES on a socket that never set SO_BROADCAST: Linux gives
exactly that answer to a broadcast without the option. The destination adds weight: the limited
broadcast address 255.255.255.255 is certain (even a successful send to it counts), an address
ending in .255 inside the /24 of a declared host address is probably that network's broadcast
address (the prefix length is assumed, so this is weaker), and any other address leaves EACCES as
the only sign. The facts say which case applies. Broadcast destinations are never counted as
unknown peers by `no-peer-traffic` or `nat-undeclared`.

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

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::model::DeviationKind;
    use crate::testkit::rules::*;

    #[test]
    fn fires_alone_on_a_broadcast_not_permitted_pattern() {
        assert_fires_on(&RULE, with_deviation(DeviationKind::BroadcastNotPermitted));
    }

    #[test]
    fn fires_on_recorded_broadcast_not_permitted() {
        assert_recorded_scenarios_report(&RULE, &["broadcast-not-permitted"]);
    }
}
