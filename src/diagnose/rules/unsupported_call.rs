//! `unsupported-call`: calls or options the model does not handle.

use super::IO_URING_SETUP;
use crate::diagnose::rule::Rule;
use crate::diagnose::{Claims, Class, Context, Evidence, Finding};
use crate::model::DeviationKind;

pub const RULE: Rule = Rule {
    id: "unsupported-call",
    class: Class::Info,
    title: "Calls or options that the model does not handle",
    explanation: EXPLANATION,
    detect,
};

const EXPLANATION: &str = "\
## What it detects
System calls, socket options, fcntl or ioctl requests that appear in the traces on modelled sockets
but that the model does not simulate. They are counted and skipped.

Also counted: the io_uring rings programs set up (`io_uring_setup`). A program that hands socket
operations to a ring (connect, send, receive, accept) makes them without a system call of their
own, so its trace lacks them; `port-forwarding` does not count a connection from such a host as
forwarded.

## Why it matters
A skipped call may have changed the socket's behaviour (an option that alters buffering or
blocking, say), so findings about that socket rest on a slightly incomplete model.

## Evidence
The first call of each unsupported kind; the summary gives the counts.

## What to do
Usually nothing. If a finding concerns a socket that used one of these calls, weigh it with that in
mind.
";

fn detect(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    let mut counts = cx.outcome.unsupported.clone();
    let mut evidence = Vec::new();
    for (index, d) in cx.outcome.deviations.iter().enumerate() {
        let DeviationKind::Unsupported { what } = &d.kind else {
            continue;
        };
        claims.claim_deviation(index);
        if !evidence.iter().any(|(w, _)| w == what) {
            evidence.push((
                what.clone(),
                Evidence::new(d.loc, format!("not modelled: {what}")),
            ));
        }
        if !counts.iter().any(|(w, _)| w == what) {
            let occurrences = cx
                .outcome
                .deviations
                .iter()
                .filter(|o| matches!(&o.kind, DeviationKind::Unsupported { what: w } if w == what))
                .count() as u64;
            counts.push((what.clone(), occurrences));
        }
    }
    // io_uring moves socket data with no system call strace could show: say so once per run.
    let rings: u64 = cx
        .parse
        .iter()
        .filter_map(|p| p.ignored.get(IO_URING_SETUP))
        .sum();
    if rings > 0 {
        counts.push((
            format!("{IO_URING_SETUP} (a ring whose socket calls strace cannot show)"),
            rings,
        ));
    }
    if counts.is_empty() {
        return Vec::new();
    }
    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let listed: Vec<String> = counts
        .iter()
        .map(|(what, n)| format!("{what} ×{n}"))
        .collect();
    vec![RULE
        .finding(
            format!("calls or options not modelled: {}", listed.join(", ")),
            "usually nothing to do; weigh findings about sockets that used these calls accordingly",
        )
        .with_evidence(evidence.into_iter().map(|(_, e)| e))]
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::model::{DeviationKind, ReplayOutcome};
    use crate::testkit::fixtures::*;
    use crate::testkit::rules::*;

    #[test]
    fn fires_alone_on_a_unsupported_call_pattern() {
        assert_fires_on(
            &RULE,
            ReplayOutcome {
                unsupported: vec![("setsockopt(SO_PRIORITY)".into(), 3)],
                ..ReplayOutcome::default()
            },
        );
    }

    #[test]
    fn unsupported_calls_are_counted_from_deviations_too() {
        let outcome = ReplayOutcome {
            deviations: vec![
                deviation(
                    DeviationKind::Unsupported {
                        what: "ioctl(SIOCGIFCONF)".into(),
                    },
                    loc(0, 3),
                    None,
                ),
                deviation(
                    DeviationKind::Unsupported {
                        what: "ioctl(SIOCGIFCONF)".into(),
                    },
                    loc(0, 4),
                    None,
                ),
            ],
            ..ReplayOutcome::default()
        };
        let found = findings(two_hosts(), outcome);
        assert_eq!(rules_of(&found), ["unsupported-call"]);
        assert!(found[0].summary.contains("ioctl(SIOCGIFCONF) ×2"));
        assert_eq!(found[0].evidence.len(), 1);
    }
}
