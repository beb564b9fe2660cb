//! `loopback-bound-external-peer`: A socket bound to loopback talks to a non-loopback address.

use super::per_socket_findings;
use crate::diagnose::registry::Rule;
use crate::diagnose::{Claims, Class, Context, Finding};
use crate::model::DeviationKind;

pub const RULE: Rule = Rule {
    id: "loopback-bound-external-peer",
    class: Class::Portability,
    title: "A socket bound to loopback talks to a non-loopback address",
    explanation: EXPLANATION,
    detect,
};

const EXPLANATION: &str = "\
## What it detects
A socket bound to a loopback address (127.0.0.0/8, ::1) that connects or sends to, or accepts
from, an address outside loopback.

## Why it matters
Operating systems disagree: Linux refuses such traffic (EINVAL, or it never arrives), others route
it. Code tested on one system fails on another, and a server bound to 127.0.0.1 is unreachable from
other hosts anywhere.

## Evidence
The call that used the external peer; the facts give the local and peer addresses.

## What to do
Bind to the host address or the wildcard (0.0.0.0 / ::) when the peer is remote; keep loopback
binds for purely local services.
";

fn detect(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    per_socket_findings(
        cx,
        claims,
        &RULE,
        |k| matches!(k, DeviationKind::LoopbackBoundExternalPeer { .. }),
        |who, group| {
            (
                format!("{who} is bound to a loopback address but talks to a non-loopback peer ({} call(s))", group.len()),
                "bind to the host's address (or 0.0.0.0 / ::) when the peer is on another host".to_string(),
            )
        },
        "loopback-bound socket with an external peer",
    )
}
