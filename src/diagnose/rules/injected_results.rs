//! `injected-results`: calls whose result strace made up (`-e inject`), which did not run.

use crate::diagnose::rule::Rule;
use crate::diagnose::{Claims, Class, Context, Evidence, Finding};
use crate::parse::{InjectedCall, Outcome};
use crate::source::TraceId;

pub const RULE: Rule = Rule {
    id: "injected-results",
    class: Class::Info,
    title: "strace injected the results of some calls: they did not run",
    explanation: EXPLANATION,
    detect,
};

const EXPLANATION: &str = "\
## What it detects
Calls that strace marked `(INJECTED)`: it was run with `-e inject=SET:error=ERRNO` or
`:retval=VALUE`, and replaced the call by an invalid one (or by one without side effects),
handing the program the result it was told to. `connect(...) = -1 ECONNREFUSED (Connection
refused) (INJECTED)` reached no server; `sendto(...) = 1 (INJECTED)` sent nothing.

## Why it matters
Such a call did not happen: netcheck leaves it out of the replay, so its made-up failure is not
reported as the network's or a peer's. What the program did next (a retry, a close, giving up
on a request) is its reaction to a fault strace made up; findings about those later calls are
real, but their cause is the injection. Calls delayed by `:delay_enter=` or `:delay_exit=`
(`(DELAYED)`) did run, and are read as usual.

## Evidence
The calls whose results were injected, with the result the program got.

## What to do
Nothing, when the injection was the point (testing how a program reacts to a fault). To
diagnose the network, record again without `-e inject`.
";

fn detect(cx: &Context, _claims: &mut Claims) -> Vec<Finding> {
    cx.parse
        .iter()
        .enumerate()
        .filter(|(_, stats)| stats.injected > 0)
        .map(|(index, stats)| {
            let trace = TraceId(index as u32);
            let evidence = stats.injected_samples.iter().map(|c| Evidence {
                loc: c.loc,
                call: String::new(),
                note: format!("result injected: {}", shown(&c.outcome)),
            });
            RULE.finding(
                format!(
                    "{}: strace injected the result of {} call(s) (`-e inject`), first {}; those \
                     calls did not run, so no network or peer took part in their result",
                    cx.who(trace),
                    stats.injected,
                    stats
                        .injected_samples
                        .first()
                        .map_or(String::new(), first_shown),
                ),
                "what the program did after an injected result is its reaction to a fault \
                 strace made up; record without `-e inject` to diagnose the network",
            )
            .with_evidence(evidence)
        })
        .collect()
}

fn first_shown(c: &InjectedCall) -> String {
    format!("{} = {}", c.call.as_str(), shown(&c.outcome))
}

/// The result as strace printed it: `-1 ECONNREFUSED`, `1`.
fn shown(outcome: &Outcome) -> String {
    match (outcome.value, outcome.errno) {
        (_, Some(errno)) => format!("-1 {errno}"),
        (Some(value), None) => value.to_string(),
        (None, None) => "?".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::model::ReplayOutcome;
    use crate::parse::{Errno, InjectedCall, Outcome, ParseStats, SyscallName};
    use crate::testkit::fixtures::*;
    use crate::testkit::rules::*;

    #[test]
    fn fires_on_a_trace_with_injected_results() {
        let stats = ParseStats {
            lines: 40,
            injected: 1,
            injected_samples: vec![InjectedCall {
                loc: loc(0, 31),
                call: SyscallName::Connect,
                outcome: Outcome::failed(Errno::ECONNREFUSED),
            }],
            ..ParseStats::default()
        };
        let found = assert_fires_alone(
            &RULE,
            two_hosts(),
            ReplayOutcome::default(),
            vec![stats, ParseStats::default()],
        );
        assert!(found[0].summary.contains("connect = -1 ECONNREFUSED"));
        assert_eq!(found[0].evidence[0].loc, loc(0, 31));
    }

    /// curl under `-e inject` against a Python server that answers (lab/options.sh): a connect
    /// made to fail reached no server, so nothing is the network's; a receive made to fail
    /// left the answer unread, which the note explains.
    #[test]
    fn recorded_injections_are_named_and_no_network_fault_is_reported() {
        for name in [
            "inject-refused--curl-python--plain",
            "inject-reset--curl-python--plain",
            "inject-sendto--curl-python--plain",
        ] {
            let analysis = recorded("options", name);
            let found = &analysis.findings;
            assert!(rules_of(found).contains(&RULE.id), "{name}: {found:?}");
            assert!(
                found
                    .iter()
                    .all(|f| f.class != crate::diagnose::Class::Network),
                "{name}: {:?}",
                rules_of(found)
            );
        }
        let refused = recorded("options", "inject-refused--curl-python--plain");
        assert_eq!(rules_of(&refused.findings), [RULE.id]);
    }
}
