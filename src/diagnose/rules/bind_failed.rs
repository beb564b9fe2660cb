//! `bind-failed`: a bind was denied (privileged port) or named an address the host does not have.

use super::{deviation_evidence, deviations, group_by};
use crate::diagnose::context::plural;
use crate::diagnose::rule::Rule;
use crate::diagnose::{Claims, Class, Context, Finding};
use crate::model::DeviationKind;
use crate::parse::{Errno, SyscallName};

pub const RULE: Rule = Rule {
    id: "bind-failed",
    class: Class::Application,
    title: "A bind was denied a privileged port or named an address the host does not have",
    explanation: EXPLANATION,
    detect,
};

const EXPLANATION: &str = "\
## What it detects
A bind that failed with EACCES (a port below 1024 without CAP_NET_BIND_SERVICE) or with
EADDRNOTAVAIL (an address that is none of the host's own, such as a mistyped or moved
`listen_addresses`).

## Why it matters
A server that cannot bind does not serve: it exits, or runs without the listener it was
configured for, and every client is refused or times out. The client's error points at the
network; the cause is the server's own configuration.

## Evidence
Each failing bind, with its errno.

## What to do
For EACCES: grant the capability (`setcap cap_net_bind_service=+ep PROGRAM`, or
`AmbientCapabilities=CAP_NET_BIND_SERVICE` in a systemd unit), or use a port ≥ 1024. For
EADDRNOTAVAIL: bind an address the host has (`ip -br addr`), or the wildcard 0.0.0.0 / ::.

Precedence: a bind that failed with EADDRINUSE is reported as `address-in-use`.
";

/// The errnos this rule explains, with what each means for the bind.
fn meaning(errno: Errno) -> Option<&'static str> {
    match errno {
        Errno::EACCES => Some("a privileged port without CAP_NET_BIND_SERVICE"),
        Errno::EADDRNOTAVAIL => Some("an address the host does not have"),
        _ => None,
    }
}

fn failed_bind(kind: &DeviationKind) -> Option<Errno> {
    match kind {
        DeviationKind::UnexpectedFailure {
            errno,
            call: SyscallName::Bind,
            ..
        } if meaning(*errno).is_some() => Some(*errno),
        _ => None,
    }
}

fn detect(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    let selected = deviations(cx, claims, |k| failed_bind(k).is_some());
    let groups = group_by(selected, |(_, d)| {
        (d.loc.trace, failed_bind(&d.kind).unwrap_or(Errno::EACCES))
    });
    let mut findings = Vec::new();
    for ((trace, errno), group) in groups {
        let what = meaning(errno).unwrap_or("a denied address");
        let hint = if errno == Errno::EACCES {
            "setcap cap_net_bind_service=+ep on the program, or use a port ≥ 1024"
        } else {
            "bind an address the host has (ip -br addr), or the wildcard 0.0.0.0 / ::"
        };
        let summary = format!(
            "{} failed to bind {} with {errno}: {what}",
            cx.who(trace),
            plural(group.len() as u64, "time", "times"),
        );
        let evidence = group
            .iter()
            .flat_map(|(_, d)| deviation_evidence(d, &format!("bind failed ({errno})")));
        findings.push(RULE.finding(summary, hint).with_evidence(evidence));
        for (i, _) in &group {
            claims.claim_deviation(*i);
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::model::DeviationKind;
    use crate::parse::{Errno, SyscallName};
    use crate::testkit::rules::*;

    fn failed(call: SyscallName, errno: Errno) -> DeviationKind {
        DeviationKind::UnexpectedFailure {
            errno,
            call,
            time: Some(1.0),
        }
    }

    #[test]
    fn fires_alone_on_a_bind_failed_pattern() {
        let found = assert_fires_on(
            &RULE,
            with_deviation(failed(SyscallName::Bind, Errno::EACCES)),
        );
        assert!(found[0].hint.contains("cap_net_bind_service"));
    }

    #[test]
    fn an_address_the_host_lacks_points_at_its_addresses() {
        let found = assert_fires_on(
            &RULE,
            with_deviation(failed(SyscallName::Bind, Errno::EADDRNOTAVAIL)),
        );
        assert!(found[0].hint.contains("ip -br addr"));
    }

    #[test]
    fn other_calls_and_errnos_are_not_bind_failures() {
        for kind in [
            failed(SyscallName::Bind, Errno::EINVAL),
            failed(SyscallName::Listen, Errno::EACCES),
        ] {
            assert!(!fired(two_hosts(), with_deviation(kind)).contains(&RULE.id));
        }
    }

    #[test]
    fn fires_on_recorded_bind_failed() {
        assert_recorded_scenarios_report(
            &RULE,
            &[
                "bind-failed-privileged--python--none--record",
                "bind-failed-privileged--socat--none--plain",
                "bind-failed-foreign--python--none--plain",
                "bind-failed-foreign--socat--none--record",
            ],
        );
    }
}
