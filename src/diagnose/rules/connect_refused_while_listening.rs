//! `connect-refused-while-listening`: refused although a traced socket listened there.

use super::{classify_refusal, failed_connect_findings, Refusal};
use crate::diagnose::rule::Rule;
use crate::diagnose::{Claims, Class, Context, Finding};
use crate::parse::Errno;

pub const RULE: Rule = Rule {
    id: "connect-refused-while-listening",
    class: Class::Ambiguous,
    title: "A connect was refused although a traced socket listened at a matching address",
    explanation: EXPLANATION,
    detect,
};

const EXPLANATION: &str = "\
## What it detects
A connect that failed with ECONNREFUSED although a traced socket listened at an address that
matches the target, and nothing shows it was not listening at the time: the replay had it
listening and the clocks do not put the connect outside its listening, or its listen and close
bracket the connect on the clocks, or the traces have no timestamps to tell (the facts say
which). Nothing orders a refused connect against a listener's close in the replay (closes of
listeners are placed last), so the replay having it listening is weighed like the clocks.

## Why it matters
Either the order of events was different from the one netcheck reconstructed (the connect really
came before the listen, or after the listener closed), the listen backlog was full, or something
on the path answered with a reset on the server's behalf (a firewall REJECT rule, a NAT without a
mapping). The traces alone cannot tell these apart.

## Evidence
Each refused connect, with the listening socket named in the facts.

## What to do
Check whether the client can start before the server (add a retry or readiness check), the listen
backlog under load, and firewall rules that reject rather than drop.

Timestamps of different hosts are trusted to order a listen and a connect only when they are more
than half a second apart. Within that margin the refusal weighs in: a listening socket refuses
nothing, so when the clocks as they read put the connect before the listen or after the listener
stopped (closed, or its process died), the two agree and the refusal is `connect-refused`. When
the clocks put the connect inside the listening period, or without timestamps, the refusal is
reported here.

Precedence: refusals with no matching listener, or whose listeners clearly listened only at other
times, are `connect-refused`.
";

fn detect(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    let refusal = |f: &super::FailedConnect| {
        (f.errno == Errno::ECONNREFUSED).then(|| classify_refusal(cx, f))
    };
    failed_connect_findings(
        cx,
        claims,
        &RULE,
        |f| matches!(refusal(f), Some(Refusal::WhileListening { .. })),
        |who, target, _, count| {
            (
                format!(
                    "{who} was refused connecting to {target} ({count} time(s)) although a \
                     traced socket listened at a matching address"
                ),
                "check start-up order (did the client connect before the server listened?), the \
                 listen backlog, and firewall REJECT rules"
                    .to_string(),
            )
        },
        |f| match refusal(f) {
            Some(Refusal::WhileListening { listener, note }) => vec![format!(
                "{} listened at an address matching the target: {note}",
                cx.sock(listener)
            )],
            _ => Vec::new(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::diagnose::Class;
    use crate::parse::Errno;
    use crate::testkit::rules::*;

    #[test]
    fn fires_alone_on_a_connect_refused_while_listening_pattern() {
        assert_fires_on(&RULE, connect_failed(Errno::ECONNREFUSED, true));
    }

    #[test]
    fn fires_on_recorded_firewall_reject_icmp_and_firewall_reject_reset() {
        assert_recorded_scenarios_report(&RULE, &["firewall-reject-icmp", "firewall-reject-reset"]);
    }

    #[test]
    fn refusals_split_on_whether_a_traced_socket_listened() {
        let refused = findings(two_hosts(), connect_failed(Errno::ECONNREFUSED, false));
        assert_eq!(rules_of(&refused), ["connect-refused"]);
        assert_eq!(refused[0].class, Class::Application);
        let ambiguous = findings(two_hosts(), connect_failed(Errno::ECONNREFUSED, true));
        assert_eq!(rules_of(&ambiguous), ["connect-refused-while-listening"]);
        assert!(ambiguous[0].facts.iter().any(|f| f.contains("B0")));
    }
}
