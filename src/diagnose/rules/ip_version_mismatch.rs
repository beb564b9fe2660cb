//! `ip-version-mismatch`: IPv4 and IPv6 endpoints are mixed.

use super::per_socket_findings;
use crate::diagnose::registry::Rule;
use crate::diagnose::{Claims, Class, Context, Finding};
use crate::model::DeviationKind;

pub const RULE: Rule = Rule {
    id: "ip-version-mismatch",
    class: Class::Portability,
    title: "IPv4 and IPv6 endpoints are mixed",
    explanation: EXPLANATION,
    detect,
};

const EXPLANATION: &str = "\
## What it detects
An IPv4 client facing a listener bound to an IPv6 address (or with IPV6_V6ONLY), or IPv4-mapped
IPv6 addresses (::ffff:a.b.c.d) in use between the traced sockets.

## Why it matters
Whether an IPv6 socket also serves IPv4 depends on the system default (`net.ipv6.bindv6only`, and
Windows and the BSDs default differently). A server that works on one host refuses IPv4 clients on
another, and names resolved to IPv6 first miss IPv4-only servers.

## Evidence
The call where the families met; the facts give the addresses.

## What to do
Listen on both families explicitly (two sockets, or one with IPV6_V6ONLY set to 0 deliberately),
and make clients try every address getaddrinfo returns.
";

fn detect(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    per_socket_findings(
        cx,
        claims,
        &RULE,
        |k| matches!(k, DeviationKind::IpVersionMismatch),
        |who, group| {
            (
                format!("{who} mixes IPv4 and IPv6 endpoints ({} call(s)): an IPv4 peer against an IPv6-only socket, or an IPv4-mapped address", group.len()),
                "bind dual-stack (IPV6_V6ONLY off) or listen on both families; do not rely on IPv4-mapped addresses".to_string(),
            )
        },
        "IPv4/IPv6 mismatch",
    )
}
