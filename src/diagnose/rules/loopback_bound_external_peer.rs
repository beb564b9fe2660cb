//! `loopback-bound-external-peer`: A socket bound to loopback talks to a non-loopback address.

use super::{classify_refusal, failed_connect_findings, per_socket_findings, Refusal};
use crate::diagnose::rule::Rule;
use crate::diagnose::{Claims, Class, Context, Finding};
use crate::model::DeviationKind;
use crate::parse::Errno;

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
from, an address outside loopback; and a refused connect to a host's external address when the
only traced listener on that host and port is bound to loopback (and the timestamps, where
present, do not put that listener clearly at another time).

## Why it matters
Operating systems disagree: Linux refuses such traffic (EINVAL, or it never arrives), others route
it. Code tested on one system fails on another, and a server bound to 127.0.0.1 is unreachable from
other hosts anywhere.

## Evidence
The call that used the external peer; the facts give the local and peer addresses.

Precedence: such refusals are not reported as `connect-refused`.

## What to do
Bind to the host address or the wildcard (0.0.0.0 / ::) when the peer is remote; keep loopback
binds for purely local services.
";

fn detect(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    let mut findings = refused_by_loopback_listener(cx, claims);
    findings.extend(per_socket_findings(
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
    ));
    findings
}

/// Refused connects to a host's external address whose only would-be listener there is bound
/// to loopback.
fn refused_by_loopback_listener(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    let loopback_listener = |f: &super::FailedConnect| match classify_refusal(cx, f) {
        Refusal::LoopbackListener { listener, local } => Some((listener, local)),
        _ => None,
    };
    failed_connect_findings(
        cx,
        claims,
        &RULE,
        |f| f.errno == Errno::ECONNREFUSED && loopback_listener(f).is_some(),
        |who, target, _, count| {
            (
                format!(
                    "{who} was refused connecting to {target} ({count} time(s)): the traced \
                     socket listening on that host and port is bound to loopback"
                ),
                "bind the server to the host's address (or 0.0.0.0 / ::) when clients are on \
                 other hosts"
                    .to_string(),
            )
        },
        |f| {
            loopback_listener(f)
                .map(|(l, local)| format!("{} listens on {local} only", cx.sock(l)))
                .into_iter()
                .collect()
        },
    )
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::model::DeviationKind;
    use crate::testkit::fixtures::*;
    use crate::testkit::rules::*;

    #[test]
    fn fires_alone_on_a_loopback_bound_external_peer_pattern() {
        assert_fires_on(
            &RULE,
            with_deviation(DeviationKind::LoopbackBoundExternalPeer {
                local: addr("127.0.0.1:4000"),
                peer: addr("10.0.0.2:80"),
            }),
        );
    }

    #[test]
    fn fires_on_recorded_loopback_bound_server() {
        assert_recorded_scenarios_report(&RULE, &["loopback-bound-server"]);
    }
}
