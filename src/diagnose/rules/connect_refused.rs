//! `connect-refused`: a connect was refused and no traced socket listened there.

use super::connect_failure_findings;
use crate::diagnose::registry::Rule;
use crate::diagnose::{Claims, Class, Context, Finding};
use crate::parse::Errno;

pub const RULE: Rule = Rule {
    id: "connect-refused",
    class: Class::Application,
    title: "A connect was refused and no traced socket listened at that address",
    explanation: EXPLANATION,
    detect,
};

const EXPLANATION: &str = "\
## What it detects
A connect that failed with ECONNREFUSED while, in the replay, no traced socket was listening at an
address matching the target.

## Why it matters
Nothing was there to accept: the server was not started, listened on another port or address
(for instance only on 127.0.0.1 or only on IPv6), or had already closed its listening socket. This
is usually an application or deployment error, not a network one.

## Evidence
Each refused connect and its target.

## What to do
Check that the server runs and listens where the client connects (`ss -ltnp`), the port numbers
on both sides, and the address the server binds (0.0.0.0 / :: versus 127.0.0.1).

Precedence: when a traced socket did listen at a matching address, the connect is reported as
`connect-refused-while-listening` instead.
";

fn detect(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    connect_failure_findings(
        cx,
        claims,
        &RULE,
        |errno, listener| errno == Errno::ECONNREFUSED && listener.is_none(),
        |who, target, _, count| {
            (
                format!(
                    "{who} was refused connecting to {target} ({count} time(s)); no traced socket \
                     listened at that address"
                ),
                format!(
                    "check that the server is running and listening at {target} (ss -ltnp), and \
                     the port and bind address on both sides"
                ),
            )
        },
    )
}
