//! `undecoded-addresses`: a trace whose connects and binds show their address as a pointer,
//! recorded with `-e raw=...` or `-e verbose=none`.

use super::deviations;
use crate::diagnose::rule::Rule;
use crate::diagnose::{Claims, Class, Context, Evidence, Finding};
use crate::fold::{ConnectEnd, UndecodedAddresses};
use crate::model::DeviationKind;
use crate::source::TraceId;

pub const RULE: Rule = Rule {
    id: "undecoded-addresses",
    class: Class::Info,
    title: "A trace shows socket addresses as pointers: its connections cannot be checked",
    explanation: EXPLANATION,
    detect,
};

const EXPLANATION: &str = "\
## What it detects
A trace in which `connect`, `bind` or `sendto` show their address as a pointer
(`connect(3, 0x7ffd0fc88bc0, 16) = 0`) rather than as a structure (`{sa_family=AF_INET,
sin_port=htons(80), ...}`). strace prints structures undecoded when asked to with `-e raw=all`
(or `-e raw=connect,...`) or `-e verbose=none`. A connect that failed with EFAULT prints a
pointer in any trace, and is not counted.

## Why it matters
Without addresses no connection of the trace can be matched to its peer, so the global order
is guessed, and the values a program reads back are pointers too: a client that learns of a
refused connect from `getsockopt(SO_ERROR)` leaves no sign of the refusal. A report of such a
trace that shows no problem does not mean the run was healthy; the report says so.

What each call returned is still shown. When the last connect of the trace failed on its own
line (`= -1 ECONNREFUSED`), the program never reached what it connected to: the finding is then
ambiguous rather than information, since the trace cannot tell whether the service was down,
unreachable, or the wrong one.

## Evidence
The first connect, bind or addressed send with an undecoded address, and the failed last
connect. Receipts of bytes that no traced call sent are explained too (their sender's or
receiver's addresses are unknown, so they cannot be matched), and listed with the first
finding; `data-mismatch` does not report them.

## What to do
Record again without `-e raw` and `-e verbose=none` (`netcheck record`, or `strace -f -tt -T
-yy -s 256`).
";

fn detect(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    let mut findings: Vec<Finding> = cx
        .fold
        .iter()
        .enumerate()
        .filter_map(|(index, stats)| finding(cx, TraceId(index as u32), &stats.undecoded_addresses))
        .collect();
    // Bytes no traced call sent: where a trace's sends went, or where its receipts came from,
    // is unknown, so its peers' bytes cannot be matched to them.
    if let Some(first) = findings.first_mut() {
        let unmatched = deviations(cx, claims, |k| *k == DeviationKind::UnknownData);
        for (index, d) in &unmatched {
            claims.claim_deviation(*index);
            first
                .evidence
                .push(Evidence::new(d.loc, "bytes not matched to a sender"));
        }
        if !unmatched.is_empty() {
            let note = format!(
                "{} receipt(s) of bytes no traced call sent are explained: their sender or \
                 receiver shows no address",
                unmatched.len()
            );
            first.facts.push(note);
        }
    }
    findings
}

fn finding(cx: &Context, trace: TraceId, undecoded: &UndecodedAddresses) -> Option<Finding> {
    let first = undecoded.first?;
    let mut summary = format!(
        "{}: {} connect or bind call(s) show their address as a pointer (recorded with `-e raw` \
         or `-e verbose=none`); no connection of this trace can be matched to its peer, and \
         errors read back with getsockopt are not shown",
        cx.who(trace),
        undecoded.calls,
    );
    let mut evidence = vec![Evidence::new(first, "address not decoded")];
    let mut hint = "record again without `-e raw` and `-e verbose=none` (`netcheck record`)";
    let mut class = Class::Info;
    match undecoded.last_connect {
        // The program's last attempt failed, and its line says so: whatever it connected to
        // was not there for it.
        Some((loc, ConnectEnd::Failed(errno))) => {
            summary.push_str(&format!(
                "; its last connect failed with {errno}, to an address the trace does not show"
            ));
            evidence.push(Evidence::new(loc, format!("failed with {errno}")));
            hint = "check that the service the program connects to runs and is reachable; \
                    record again without `-e raw` and `-e verbose=none` to learn which it is";
            class = Class::Ambiguous;
        }
        _ => summary.push_str(", so a report without problems does not mean a healthy run"),
    }
    let mut finding = RULE.finding(summary, hint).with_evidence(evidence);
    finding.class = class;
    Some(finding)
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::diagnose::Class;
    use crate::fold::{ConnectEnd, FoldStats, UndecodedAddresses};
    use crate::model::ReplayOutcome;
    use crate::parse::Errno;
    use crate::testkit::fixtures::*;
    use crate::testkit::rules::*;
    use crate::testkit::table::problem_rules;

    #[test]
    fn fires_on_a_trace_with_undecoded_addresses() {
        let stats = FoldStats {
            undecoded_addresses: UndecodedAddresses {
                calls: 2,
                first: Some(loc(0, 467)),
                last_connect: Some((loc(0, 467), ConnectEnd::Unknown)),
            },
            ..FoldStats::default()
        };
        let found = assert_fires_on_traces(&RULE, ReplayOutcome::default(), vec![stats]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].evidence[0].loc, loc(0, 467));
        assert_eq!(found[0].class, Class::Info);
    }

    #[test]
    fn a_failed_last_connect_is_ambiguous() {
        let stats = FoldStats {
            undecoded_addresses: UndecodedAddresses {
                calls: 4,
                first: Some(loc(0, 205)),
                last_connect: Some((loc(0, 215), ConnectEnd::Failed(Errno::ECONNREFUSED))),
            },
            ..FoldStats::default()
        };
        let analysis =
            crate::pipeline::Analysis::new(two_hosts(), none(), vec![stats], Default::default());
        let found = analysis.findings;
        assert_eq!(rules_of(&found), [RULE.id]);
        assert_eq!(found[0].class, Class::Ambiguous);
        assert_eq!(found[0].evidence[1].loc, loc(0, 215));
    }

    #[test]
    fn fires_on_every_recorded_trace_printed_undecoded() {
        for name in [
            "healthy--curl-python--raw",
            "healthy--curl-python--noverbose",
            "refused--curl--raw",
            "refused--curl--noverbose",
            "refused--redis--raw",
            "refused--redis--noverbose",
        ] {
            let analysis = recorded("options", name);
            let found: Vec<_> = analysis
                .findings
                .iter()
                .filter(|f| f.rule == RULE.id)
                .collect();
            assert!(
                !found.is_empty(),
                "{name}: {:?}",
                rules_of(&analysis.findings)
            );
            // Healthy runs: the note, and no problem; redis-cli's refused connect shows its
            // errno (curl reads it back with getsockopt, undecoded).
            let expected: &[&str] = match name.starts_with("refused--redis") {
                true => &[RULE.id],
                false => &[],
            };
            assert_eq!(problem_rules(&analysis), expected, "{name}");
        }
    }

    #[test]
    fn silent_on_a_trace_with_decoded_addresses() {
        let analysis = recorded("killed", "healthy--curl-python--plain");
        assert!(!rules_of(&analysis.findings).contains(&RULE.id));
    }
}
