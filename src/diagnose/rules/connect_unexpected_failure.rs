//! `connect-unexpected-failure`: a connect the model expected to succeed failed otherwise.

use super::connect_failure_findings;
use crate::diagnose::rule::Rule;
use crate::diagnose::{Claims, Class, Context, Finding};
use crate::parse::Errno;

pub const RULE: Rule = Rule {
    id: "connect-unexpected-failure",
    class: Class::Network,
    title: "A connect the model expected to succeed failed with an unexpected error",
    explanation: EXPLANATION,
    detect,
};

const EXPLANATION: &str = "\
## What it detects
A connect the model expected to succeed failed with an error that neither a refusal nor a filtered
path explains (for example ECONNRESET, ENETDOWN, EADDRNOTAVAIL).

## Why it matters
The ideal network would have completed the connection. Something between the hosts, or the
client's own network configuration, made it fail.

## Evidence
Each failing connect, with its errno and target, and the listener that was expected to take it.

## What to do
Look the errno up in connect(2) for the exact cause; check the client's interfaces and addresses
(`ip addr`), the routes, and middleboxes resetting connections.

Precedence: ETIMEDOUT, EHOSTUNREACH, ENETUNREACH, EACCES and EPERM are reported as
`connect-filtered`, ECONNREFUSED as `connect-refused` or `connect-refused-while-listening`;
only the remaining errors reach this rule.
";

fn detect(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    // Runs after connect-filtered and the refusal rules, which claimed their errnos.
    connect_failure_findings(
        cx,
        claims,
        &RULE,
        // Refusals are never unexpected here: those the refusal rules leave are near misses
        // that `ip-version-mismatch` or `loopback-bound-external-peer` explain.
        |errno, _| errno != Errno::ECONNREFUSED,
        |who, target, errno, count| {
            (
                format!(
                    "{who} failed to connect to {target} with {errno} ({count} time(s)), where \
                     the model expected the connection to succeed"
                ),
                format!(
                    "see connect(2) for {errno}; check the client's interfaces, routes and any \
                     middlebox towards {target}"
                ),
            )
        },
    )
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::parse::Errno;
    use crate::testkit::rules::*;

    #[test]
    fn fires_alone_on_a_connect_unexpected_failure_pattern() {
        assert_fires_on(&RULE, connect_failed(Errno::ENETDOWN, true));
    }
}
