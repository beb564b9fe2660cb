//! `unparsed-lines`: trace lines the parser could not read.

use crate::diagnose::rule::Rule;
use crate::diagnose::{Claims, Class, Context, Evidence, Finding};
use crate::source::TraceId;

pub const RULE: Rule = Rule {
    id: "unparsed-lines",
    class: Class::Info,
    title: "Some trace lines could not be parsed and were skipped",
    explanation: EXPLANATION,
    detect,
};

const EXPLANATION: &str = "\
## What it detects
Lines of a trace that the parser could not turn into a call: an unknown format, a line cut short,
or strace output mixed with the traced program's own output.

## Why it matters
A skipped line may be a socket call the model needed; everything after it on that socket can then
look wrong. A handful of odd lines in a large trace usually does not matter.

## Evidence
The first unparsed lines of each trace, with the reason and the line text.

## What to do
Record with `netcheck record` (or strace `-f -tt -T -yy -s 4096 -o FILE`) and keep the program's
own output out of the trace file; report lines that a correct trace still fails on.
";

fn detect(cx: &Context, _claims: &mut Claims) -> Vec<Finding> {
    cx.parse
        .iter()
        .enumerate()
        .filter(|(_, stats)| stats.unparsed > 0)
        .map(|(index, stats)| {
            let trace = TraceId(index as u32);
            let evidence = stats.first_unparsed.iter().map(|u| Evidence {
                loc: u.loc,
                call: u.text.clone(),
                note: format!("column {}: {}", u.column, u.reason),
            });
            RULE.finding(
                format!(
                    "{}: {} of {} line(s) could not be parsed and were skipped",
                    cx.who(trace),
                    stats.unparsed,
                    stats.lines
                ),
                "record with `netcheck record` (strace -f -tt -T -yy) and keep program output out \
                 of the trace file",
            )
            .with_evidence(evidence)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::model::ReplayOutcome;
    use crate::parse::{ParseStats, Unparsed};
    use crate::testkit::fixtures::*;
    use crate::testkit::rules::*;

    #[test]
    fn fires_alone_on_a_unparsed_lines_pattern() {
        let unparsed = ParseStats {
            lines: 100,
            unparsed: 2,
            first_unparsed: vec![Unparsed {
                loc: loc(1, 17),
                path: "server.trace".into(),
                column: 5,
                reason: "unknown call format".into(),
                text: "garbage".into(),
            }],
            ..ParseStats::default()
        };
        assert_fires_alone(
            &RULE,
            two_hosts(),
            ReplayOutcome::default(),
            vec![ParseStats::default(), unparsed],
        );
    }
}
