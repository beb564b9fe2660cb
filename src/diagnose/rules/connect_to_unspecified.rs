//! `connect-to-unspecified`: a connect to 0.0.0.0 or ::, which only some systems take as "this
//! host".

use std::net::SocketAddr;

use super::group_by;
use crate::diagnose::context::plural;
use crate::diagnose::rule::Rule;
use crate::diagnose::{Claims, Class, Context, Evidence, Finding};
use crate::model::DeviationKind;
use crate::source::Loc;

pub const RULE: Rule = Rule {
    id: "connect-to-unspecified",
    class: Class::Portability,
    title: "A connect went to the unspecified address 0.0.0.0 or ::",
    explanation: EXPLANATION,
    detect,
};

const EXPLANATION: &str = "\
## What it detects
A connect whose target is the unspecified address, 0.0.0.0 or :: (usually a server's bind
address, \"listen on every address\", copied into a client's configuration). It fires whether the
connect succeeded or failed.

## Why it matters
Linux takes a connect to the unspecified address as a connect to the local host, so it works
there when the server runs on the same machine; other systems (Windows, some BSDs) reject it
(EADDRNOTAVAIL / WSAEADDRNOTAVAIL), and on another host it reaches the client's own machine, not
the server. The NetCheck paper lists this as a portability trap.

## Evidence
Each such connect, with its target.

## What to do
Give the client the server's real address or name (127.0.0.1 / ::1 for the local host); keep
0.0.0.0 and :: for binding only.
";

fn unspecified(addr: SocketAddr) -> bool {
    addr.ip().is_unspecified() && addr.port() != 0
}

/// Every connect towards an unspecified address: failed, completed or never seen to complete.
fn connects(cx: &Context) -> Vec<(Loc, SocketAddr, &'static str)> {
    let outcome = cx.outcome;
    let failed = outcome.deviations.iter().filter_map(|d| match d.kind {
        DeviationKind::ConnectFailed { target, errno, .. } if unspecified(target) => {
            Some((d.loc, target, errno.as_str()))
        }
        _ => None,
    });
    let completed = outcome.tcp.iter().filter_map(|c| {
        let target = c.client_view.1?;
        unspecified(target).then_some((c.connect_loc, target, "connected"))
    });
    let pending = outcome
        .pending_connects
        .iter()
        .filter(|p| unspecified(p.target))
        .map(|p| (p.loc, p.target, "never seen to complete"));
    let mut all: Vec<_> = failed.chain(completed).chain(pending).collect();
    all.sort_by_key(|(loc, ..)| *loc);
    all.dedup_by_key(|(loc, ..)| *loc);
    all
}

fn detect(cx: &Context, _claims: &mut Claims) -> Vec<Finding> {
    // Nothing is claimed: whatever happened to the connect (refused, accepted by a local server)
    // is still reported by the rule that explains it.
    let groups = group_by(connects(cx), |(loc, ..)| loc.trace);
    groups
        .into_iter()
        .map(|(trace, group)| {
            let mut targets: Vec<String> = group.iter().map(|(_, t, _)| t.to_string()).collect();
            targets.sort();
            targets.dedup();
            let summary = format!(
                "{} called connect {} with the unspecified address {}; only Linux takes it as the local host",
                cx.who(trace),
                plural(group.len() as u64, "time", "times"),
                targets.join(", "),
            );
            let evidence = group
                .iter()
                .map(|(loc, target, result)| Evidence::new(*loc, format!("connect to {target} ({result})")));
            RULE.finding(
                summary,
                "connect to the server's real address or name (127.0.0.1 / ::1 for this host); keep 0.0.0.0 / :: for bind",
            )
            .with_evidence(evidence)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::model::DeviationKind;
    use crate::parse::Errno;
    use crate::testkit::fixtures::*;
    use crate::testkit::rules::*;

    #[test]
    fn fires_alone_on_a_connect_to_unspecified_pattern() {
        let mut outcome = tcp(vec![accepted(5, 5, 5)]);
        outcome.tcp[0].client_view.1 = Some(addr("0.0.0.0:80"));
        let found = assert_fires_on(&RULE, outcome);
        assert!(found[0].summary.contains("0.0.0.0:80"));
    }

    #[test]
    fn a_failed_connect_to_the_ipv6_unspecified_address_fires_too() {
        let outcome = with_deviation(DeviationKind::ConnectFailed {
            errno: Errno::ECONNREFUSED,
            target: addr("[::]:5432"),
            listener: None,
        });
        let found = findings(two_hosts(), outcome);
        assert!(found
            .iter()
            .any(|f| f.rule == RULE.id && f.summary.contains("[::]:5432")));
    }

    #[test]
    fn a_connect_to_a_real_address_is_silent() {
        assert!(!fired(two_hosts(), tcp(vec![accepted(5, 5, 5)])).contains(&RULE.id));
    }

    #[test]
    fn fires_on_recorded_connect_to_unspecified() {
        assert_recorded_scenarios_report(
            &RULE,
            &[
                "connect-unspecified--python--socat--record",
                "connect-unspecified--nc--socat--plain",
                "connect-unspecified--socat--socat--record",
            ],
        );
    }
}
