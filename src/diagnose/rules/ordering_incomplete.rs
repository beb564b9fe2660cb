//! `ordering-incomplete`: the global order could not be built without forcing calls through.

use crate::diagnose::rule::Rule;
use crate::diagnose::{Claims, Class, Context, Evidence, Finding};
use crate::model::DeviationKind;

pub const RULE: Rule = Rule {
    id: "ordering-incomplete",
    class: Class::Info,
    title: "Ordering was blocked: some calls were forced through to continue",
    explanation: EXPLANATION,
    detect,
};

const EXPLANATION: &str = "\
## What it detects
Points in the replay where the next call of every trace was one the model could not accept yet
(each waits for something another trace has not done), so one of them was forced through to go on.

## Why it matters
From such a point on the reconstructed order is a guess, and so are findings that depend on the
order (refused while listening, unreceived data). It often follows from a real problem reported
elsewhere (data that never arrived blocks the receive that expects it), or from a trace that is
missing or cut short.

## Evidence
The waiting calls at each blocked point with the reason the model gave, and the call forced
through.

## What to do
Read the other findings first: they often explain the block. Check that every host involved was
traced for the whole run, and that the configuration lists all of them.
";

fn detect(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    let blocked = &cx.outcome.blocked;
    let Some(first) = blocked.first() else {
        return Vec::new();
    };
    for (index, d) in cx.outcome.deviations.iter().enumerate() {
        if d.kind == DeviationKind::Forced {
            claims.claim_deviation(index);
        }
    }
    let evidence = blocked.iter().flat_map(|point| {
        let heads = point.heads.iter().map(move |(loc, why)| {
            Evidence::new(
                *loc,
                format!("waiting at position {}: {why}", point.position),
            )
        });
        let forced = point.forced.map(|loc| {
            Evidence::new(
                loc,
                format!("forced through at position {}", point.position),
            )
        });
        heads.chain(forced)
    });
    let summary = format!(
        "the global order was blocked {} time(s), first at position {} of {} ordered calls; calls \
         were forced through, so later findings rest on a guessed order",
        blocked.len(),
        first.position,
        cx.outcome.ordered_calls
    );
    vec![RULE.finding(summary,
        "read the other findings first (they often explain the block), and check that every host \
         was traced for the whole run",
    )
    .with_evidence(evidence)]
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::diagnose::Class;
    use crate::model::{BlockedPoint, DeviationKind, ReplayOutcome};
    use crate::testkit::fixtures::*;
    use crate::testkit::rules::*;

    #[test]
    fn fires_alone_on_a_ordering_incomplete_pattern() {
        assert_fires_on(
            &RULE,
            ReplayOutcome {
                blocked: vec![BlockedPoint {
                    position: 12,
                    heads: vec![(loc(0, 30), "recv of bytes not sent yet".into())],
                    forced: Some(loc(0, 30)),
                }],
                ordered_calls: 40,
                ..ReplayOutcome::default()
            },
        );
    }

    #[test]
    fn forced_deviations_are_part_of_ordering_incomplete() {
        let outcome = ReplayOutcome {
            deviations: vec![deviation(DeviationKind::Forced, loc(0, 30), None)],
            blocked: vec![BlockedPoint {
                position: 12,
                heads: vec![
                    (loc(0, 30), "recv of bytes not sent yet".into()),
                    (loc(1, 8), "accept with no pending connection".into()),
                ],
                forced: Some(loc(0, 30)),
            }],
            ..ReplayOutcome::default()
        };
        let found = findings(two_hosts(), outcome);
        assert_eq!(rules_of(&found), ["ordering-incomplete"]);
        assert_eq!(found[0].class, Class::Info);
        assert_eq!(found[0].evidence.len(), 3);
    }
}
