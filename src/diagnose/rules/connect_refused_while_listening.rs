//! `connect-refused-while-listening`: refused although a traced socket listened there.

use super::connect_failure_findings;
use crate::diagnose::registry::Rule;
use crate::diagnose::{Claims, Class, Context, Finding};
use crate::parse::Errno;

pub const RULE: Rule = Rule {
    id: "connect-refused-while-listening",
    class: Class::Ambiguous,
    title: "A connect was refused although a traced socket listened at a matching address",
    explanation: EXPLANATION,
    detect,
};

const EXPLANATION: &str = "\
## What it detects
A connect that failed with ECONNREFUSED while, in the replay, a traced socket was listening at an
address that matches the target.

## Why it matters
Either the order of events was different from the one netcheck reconstructed (the connect really
came before the listen, or after the listener closed), the listen backlog was full, or something
on the path answered with a reset on the server's behalf (a firewall REJECT rule, a NAT without a
mapping). The traces alone cannot tell these apart.

## Evidence
Each refused connect, with the listening socket named in the facts.

## What to do
Check whether the client can start before the server (add a retry or readiness check), the listen
backlog under load, and firewall rules that reject rather than drop.

Precedence: refusals with no matching listener are `connect-refused`.
";

fn detect(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    connect_failure_findings(
        cx,
        claims,
        &RULE,
        |errno, listener| errno == Errno::ECONNREFUSED && listener.is_some(),
        |who, target, _, count| {
            (
                format!(
                    "{who} was refused connecting to {target} ({count} time(s)) although a \
                     traced socket listened at a matching address"
                ),
                "check start-up order (did the client connect before the server listened?), the \
                 listen backlog, and firewall REJECT rules"
                    .to_string(),
            )
        },
    )
}
