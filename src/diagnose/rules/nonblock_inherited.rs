//! `nonblock-inherited`: An accepted socket relied on O_NONBLOCK inherited from its listener.

use super::per_socket_findings;
use crate::diagnose::registry::Rule;
use crate::diagnose::{Claims, Class, Context, Finding};
use crate::model::DeviationKind;

pub const RULE: Rule = Rule {
    id: "nonblock-inherited",
    class: Class::Portability,
    title: "An accepted socket relied on O_NONBLOCK inherited from its listener",
    explanation: EXPLANATION,
    detect,
};

const EXPLANATION: &str = "\
## What it detects
A call on an accepted socket returned EAGAIN/EWOULDBLOCK although the program never made that
socket nonblocking: the mode came from the listening socket.

## Why it matters
Whether accept passes O_NONBLOCK from the listener to the new socket differs: Linux does not, the
BSDs and macOS do. A program that relies on either behaviour blocks, or spins on EAGAIN, on the
other systems.

## Evidence
The call that returned EAGAIN and the accept that created the socket.

## What to do
Set the mode explicitly on each accepted socket (`fcntl(fd, F_SETFL, O_NONBLOCK)` or
`accept4(..., SOCK_NONBLOCK)`).
";

fn detect(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    per_socket_findings(
        cx,
        claims,
        &RULE,
        |k| matches!(k, DeviationKind::NonblockInherited),
        |who, group| {
            (
                format!("{who} would have blocked ({} time(s)) but behaved as nonblocking, a mode only inherited from its listener on some systems", group.len()),
                "set O_NONBLOCK explicitly on every accepted socket (or use accept4 with SOCK_NONBLOCK)".to_string(),
            )
        },
        "nonblocking mode inherited from the listener",
    )
}
