//! `address-in-use`: A socket was bound to an address already in use.

use super::per_socket_findings;
use crate::diagnose::rule::Rule;
use crate::diagnose::{Claims, Class, Context, Finding};
use crate::model::DeviationKind;

pub const RULE: Rule = Rule {
    id: "address-in-use",
    class: Class::Application,
    title: "A socket was bound to an address already in use",
    explanation: EXPLANATION,
    detect,
};

const EXPLANATION: &str = "\
## What it detects
A bind that failed with EADDRINUSE because another traced socket held the address, or that
succeeded on an address in use only because SO_REUSEADDR (or SO_REUSEPORT) was set. An IPv4
bind refused only because the same program's dual-stack IPv6 wildcard socket holds the port is
not reported: that socket already serves IPv4 there, and programs bind both to find out.

## Why it matters
A server that cannot bind does not serve; one that binds next to another through SO_REUSEADDR
shares or steals its traffic, and the semantics of sharing differ between operating systems
(Windows lets SO_REUSEADDR take over a port in active use).

## Evidence
The bind call and the call of the socket that already held the address.

## What to do
Find the other user of the address (`ss -ltnup`), stop it or choose another port; set SO_REUSEADDR
only to rebind after a restart (TIME_WAIT), not to share a port by accident.
";

fn detect(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    per_socket_findings(
        cx,
        claims,
        &RULE,
        |k| matches!(k, DeviationKind::AddressInUse { .. }),
        |who, group| {
            (
                format!("{who} bound {} time(s) to an address another traced socket already used", group.len()),
                "stop the other user of the address (ss -ltnup), pick another port, or set SO_REUSEADDR only where both sockets are meant to share it".to_string(),
            )
        },
        "bind on an address in use",
    )
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::model::DeviationKind;
    use crate::testkit::rules::*;

    #[test]
    fn fires_alone_on_a_address_in_use_pattern() {
        assert_fires_on(
            &RULE,
            with_deviation(DeviationKind::AddressInUse { reuseaddr: false }),
        );
    }

    #[test]
    fn fires_on_recorded_address_in_use() {
        assert_recorded_scenarios_report(&RULE, &["address-in-use"]);
    }
}
