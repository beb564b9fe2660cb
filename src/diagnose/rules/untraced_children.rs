//! `untraced-children`: a trace recorded without `-f` whose processes started children or
//! threads, none of whose calls are in the trace.

use crate::diagnose::rule::Rule;
use crate::diagnose::{Claims, Class, Context, Evidence, Finding};
use crate::source::TraceId;

pub const RULE: Rule = Rule {
    id: "untraced-children",
    class: Class::Ambiguous,
    title: "The program started processes or threads that were not traced (strace without -f)",
    explanation: EXPLANATION,
    detect,
};

const EXPLANATION: &str = "\
## What it detects
A trace without a pid column (strace run without `-f`) in which the traced process created
children or threads (`clone`, `clone3`, `fork`, `vfork` returned a pid). Without `-f` strace
follows only the first process: whatever the children did on the network is not in the trace.

## Why it matters
Servers hand connections to worker processes or threads, and clients resolve names or connect
from helper threads. Their calls are missing, so connections accepted by a worker look never
served, data looks never read, and the diagnosis of this host rests on part of what it did.
Findings about this host may be caused by the missing calls rather than by the network.

## Evidence
The calls that created the children, with the child pids.

## What to do
Record again with `-f` (or `-ff -o PREFIX`), or with `netcheck record`, which sets it.
";

fn detect(cx: &Context, _claims: &mut Claims) -> Vec<Finding> {
    cx.parse
        .iter()
        .enumerate()
        .filter(|(_, stats)| stats.untraced_children > 0)
        .map(|(index, stats)| {
            let trace = TraceId(index as u32);
            let pids: Vec<String> = stats
                .untraced_child_samples
                .iter()
                .map(|(pid, _)| pid.to_string())
                .collect();
            let more =
                stats.untraced_children as usize - pids.len().min(stats.untraced_children as usize);
            let named = if more > 0 {
                format!("{} and {more} more", pids.join(", "))
            } else {
                pids.join(", ")
            };
            let evidence = stats
                .untraced_child_samples
                .iter()
                .map(|(pid, loc)| Evidence {
                    loc: *loc,
                    call: String::new(),
                    note: format!("created {pid}, not traced"),
                });
            RULE.finding(
                format!(
                    "{}: recorded without -f; {} child process(es) or thread(s) were not traced \
                     (pid {named})",
                    cx.who(trace),
                    stats.untraced_children,
                ),
                "record again with strace -f (or `netcheck record`); until then, findings about \
                 this host may come from the calls that are missing",
            )
            .with_evidence(evidence)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::RULE;
    use crate::config::Inputs;
    use crate::model::ReplayOutcome;
    use crate::parse::ParseStats;
    use crate::pipeline::run_pipeline;
    use crate::testkit::fixtures::*;
    use crate::testkit::rules::*;

    #[test]
    fn fires_alone_on_an_untraced_children_pattern() {
        let untraced = ParseStats {
            lines: 50,
            untraced_children: 1,
            untraced_child_samples: vec![(449, loc(0, 9))],
            ..ParseStats::default()
        };
        assert_fires_alone(
            &RULE,
            two_hosts(),
            ReplayOutcome::default(),
            vec![untraced, ParseStats::default()],
        );
    }

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/parse/traces")
            .join(name)
    }

    fn findings_of(trace: &str) -> Vec<crate::diagnose::Finding> {
        let inputs = Inputs {
            paths: Vec::new(),
            one_host: vec![fixture(trace)],
        };
        match run_pipeline(&inputs) {
            Ok(analysis) => analysis.findings,
            Err(e) => panic!("{trace}: {e}"),
        }
    }

    #[test]
    fn a_thread_started_in_a_trace_without_f_is_reported_with_its_clone() {
        // python3 tcp_pair.py under `strace -t` (no -f): the server thread is clone3 = 449.
        let findings = findings_of("tcp_pair.nofollow-t.strace");
        let found: Vec<_> = findings
            .iter()
            .filter(|f| f.rule == "untraced-children")
            .collect();
        assert_eq!(found.len(), 1, "{findings:#?}");
        assert!(found[0].summary.contains("pid 449"), "{}", found[0].summary);
        assert_eq!(found[0].evidence[0].loc.line, 509);
        assert!(found[0].evidence[0].call.contains("clone3("));
    }

    #[test]
    fn the_same_program_traced_with_f_has_no_untraced_child() {
        for trace in [
            "tcp_pair.f.strace",
            "forking_server.f.strace",
            "forking_server.ff",
        ] {
            let findings = findings_of(trace);
            assert!(
                findings.iter().all(|f| f.rule != "untraced-children"),
                "{trace}: {findings:#?}"
            );
        }
    }
}
