//! `ip-version-mismatch`: IPv4 and IPv6 endpoints are mixed.

use super::{classify_refusal, failed_connect_findings, per_socket_findings, Refusal};
use crate::diagnose::rule::Rule;
use crate::diagnose::{Claims, Class, Context, Finding};
use crate::model::DeviationKind;
use crate::parse::Errno;

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
IPv6 addresses (::ffff:a.b.c.d) in use between the traced sockets. A refused IPv4 connect counts
when the only traced listener that would otherwise match its target is IPv6-only (and the
timestamps, where present, do not put that listener clearly at another time).

## Why it matters
Whether an IPv6 socket also serves IPv4 depends on the system default (`net.ipv6.bindv6only`, and
Windows and the BSDs default differently). A server that works on one host refuses IPv4 clients on
another, and names resolved to IPv6 first miss IPv4-only servers.

## Evidence
The call where the families met; the facts give the addresses.

Precedence: such refusals are not reported as `connect-refused`.

## What to do
Listen on both families explicitly (two sockets, or one with IPV6_V6ONLY set to 0 deliberately),
and make clients try every address getaddrinfo returns.
";

fn detect(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    let mut findings = refused_by_v6only_listener(cx, claims);
    findings.extend(per_socket_findings(
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
    ));
    findings
}

/// Refused IPv4 connects whose only would-be listener is IPv6-only.
fn refused_by_v6only_listener(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    let v6only_listener = |f: &super::FailedConnect| match classify_refusal(cx, f) {
        Refusal::V6OnlyListener { listener } => Some(listener),
        _ => None,
    };
    failed_connect_findings(
        cx,
        claims,
        &RULE,
        |f| f.errno == Errno::ECONNREFUSED && v6only_listener(f).is_some(),
        |who, target, _, count| {
            (
                format!(
                    "{who} was refused connecting over IPv4 to {target} ({count} time(s)): the \
                     only traced socket listening on that port is IPv6-only"
                ),
                "clear IPV6_V6ONLY on the server's socket, add an IPv4 listener, or connect over \
                 IPv6"
                    .to_string(),
            )
        },
        |f| {
            v6only_listener(f)
                .map(|l| format!("{} listens with IPV6_V6ONLY set", cx.sock(l)))
                .into_iter()
                .collect()
        },
    )
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::model::DeviationKind;
    use crate::testkit::rules::*;

    #[test]
    fn fires_alone_on_a_ip_version_mismatch_pattern() {
        assert_fires_on(&RULE, with_deviation(DeviationKind::IpVersionMismatch));
    }

    #[test]
    fn fires_on_recorded_ipv6_only_server() {
        assert_recorded_scenarios_report(&RULE, &["ipv6-only-server"]);
    }
}
