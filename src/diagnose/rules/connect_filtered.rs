//! `connect-filtered`: a connect failed the way filtered paths make it fail.

use super::{
    classify_connect_target, failed_connect_findings, is_udp_refusal, FailedConnect, Refusal,
};
use crate::diagnose::rule::Rule;
use crate::diagnose::{Claims, Class, Context, Finding};
use crate::parse::Errno;

pub const RULE: Rule = Rule {
    id: "connect-filtered",
    class: Class::Network,
    title: "A connect failed with a timeout, unreachable or permission error: the path is filtered",
    explanation: EXPLANATION,
    detect,
};

/// The errors a firewall, a missing route or a security policy produce.
pub const FILTER_ERRNOS: [Errno; 5] = [
    Errno::ETIMEDOUT,
    Errno::EHOSTUNREACH,
    Errno::ENETUNREACH,
    Errno::EACCES,
    Errno::EPERM,
];

const EXPLANATION: &str = "\
## What it detects
A connect that failed with ETIMEDOUT, EHOSTUNREACH, ENETUNREACH, EACCES or EPERM. The ideal network
never produces these: the SYN went unanswered, a router reported the destination unreachable, or a
local policy (firewall rule, SELinux, seccomp) refused the connection. A UDP socket's send or
receive that failed with EHOSTUNREACH or ENETUNREACH counts too: Linux hands a connected UDP
socket the ICMP destination unreachable (host, network, or administratively prohibited, as a
firewall's REJECT sends) that a datagram to its peer drew, and a send with no route fails at once.

## Why it matters
The application cannot reach its peer at all, and the cause lies outside both programs: in a
firewall, a routing table or a security policy on the path or on the host.

## Evidence
Each failing connect, with its errno and target. When a traced socket listened at a matching
address while the connect ran, the facts name it: the server was there, so the path is what
failed. That is judged from every listening period and, where the traces have them, the clocks
(the replay places a failed connect before any listen, since nothing orders the two). When the
program then connected to another address on the same port that its resolver had weighed with
the failed one (a UDP connect to each, as getaddrinfo does to order the addresses of one name:
the next address of the name, as clients that fall back or race Happy Eyeballs try it), the facts
and the evidence say so: it recovered, after the failed attempt's wait.

## What to do
Check firewall rules on both hosts and in between (`iptables -L`, `nft list ruleset`, cloud
security groups), the routes (`ip route get TARGET`), and for EACCES/EPERM local security
policies. Test with `nc -vz TARGET PORT` from the client host.

Precedence: these connects are not reported again as `connect-unexpected-failure`.
";

fn detect(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    failed_connect_findings(
        cx,
        claims,
        &RULE,
        |f| FILTER_ERRNOS.contains(&f.errno),
        |who, target, errno, count| {
            (
                format!(
                    "{who} could not connect to {target}: {errno} ({count} time(s)); something \
                     on the path or a local policy filters the connection"
                ),
                format!(
                    "check firewalls and routes between the client and {target} (nc -vz, ip \
                     route get, iptables/nft rules, security groups)"
                ),
            )
        },
        |f| listened_meanwhile(cx, f).into_iter().collect(),
    )
}

/// The traced listener that listened at the target while the connect ran, when the replay had
/// none. The replay places a failed connect before any listen (listens come last: nothing
/// orders the two), so its "no listener" is one possible order; the listening periods and their
/// times say whether the server was there, and then the path is what failed.
fn listened_meanwhile(cx: &Context, failure: &FailedConnect) -> Option<String> {
    // A UDP socket's unreachable error: TCP listeners say nothing about that path.
    if failure.listener.is_some() || is_udp_refusal(cx, failure.deviation) {
        return None;
    }
    match classify_connect_target(cx, failure.deviation.loc, failure.target) {
        Refusal::WhileListening { listener, note } => Some(format!(
            "{} listened at an address matching {}: {note}; the server was there, so the path \
             is what failed",
            cx.sock(listener),
            failure.target
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::fold::ProgramContext;
    use crate::model::DeviationKind;
    use crate::parse::Errno;
    use crate::testkit::rules::*;

    #[test]
    fn fires_alone_on_a_connect_filtered_pattern() {
        assert_fires_on(&RULE, connect_failed(Errno::ETIMEDOUT, false));
    }

    #[test]
    fn fires_on_recorded_firewall_drop_and_host_unreachable() {
        assert_recorded_scenarios_report(&RULE, &["firewall-drop", "host-unreachable"]);
    }

    /// A connect that timed out while a traced server listened at its target, by the clocks
    /// (a `refused_against` set-up with ETIMEDOUT): the replay places failed connects before
    /// listens, so it had no listener, but the server was there and the path failed.
    #[test]
    fn a_listener_listening_while_the_connect_timed_out_is_named() {
        let mut outcome =
            refused_against((5, 100.0), (3, 90.0), (9, 110.0), ProgramContext::Running);
        if let DeviationKind::ConnectFailed { errno, .. } = &mut outcome.deviations[0].kind {
            *errno = Errno::ETIMEDOUT;
        }
        let found = assert_fires_on(&RULE, outcome.clone());
        assert!(
            found[0]
                .facts
                .iter()
                .any(|f| f.contains("listened at an address matching 10.0.0.2:80")),
            "{:?}",
            found[0].facts
        );
        // Closed ten seconds before the connect: it was not there.
        outcome.listeners[0].close = Some(span_at(1, 9, 90.0));
        let found = assert_fires_on(&RULE, outcome);
        assert!(
            !found[0].facts.iter().any(|f| f.contains("listened at")),
            "{:?}",
            found[0].facts
        );
    }

    /// lab/multi.sh, v4-first-drop--python--plain: the server listens on `[::]:8085` (dual
    /// stack: `bind(3<TCPv6:[...]>, {sa_family=AF_INET6, sin6_port=htons(8085), ...
    /// inet_pton(AF_INET6, "::", ...)}, 28) = 0`) from before the client starts until after it
    /// is served, and its firewall drops every packet to 10.96.0.3, the first address of the
    /// client's name: `getsockopt(3<TCP:[10.96.0.2:53166->10.96.0.3:8085]>, SOL_SOCKET,
    /// SO_ERROR, [ETIMEDOUT], [4]) = 0`.
    #[test]
    fn a_recorded_timeout_to_a_dual_stack_listener_names_it() {
        let analysis = recorded("multi", "v4-first-drop--python--plain");
        let [finding] = analysis.findings.as_slice() else {
            panic!("{:?}", rules_of(&analysis.findings));
        };
        assert_eq!(finding.rule, RULE.id);
        assert!(
            finding
                .facts
                .iter()
                .any(|f| f
                    .contains("listened at an address matching 10.96.0.3:8085: timestamps used")),
            "{:?}",
            finding.facts
        );
    }

    #[test]
    fn filtered_connects_are_not_also_unexpected_failures() {
        for errno in [
            Errno::ETIMEDOUT,
            Errno::EHOSTUNREACH,
            Errno::ENETUNREACH,
            Errno::EACCES,
            Errno::EPERM,
        ] {
            for listening in [false, true] {
                assert_eq!(
                    fired(two_hosts(), connect_failed(errno, listening)),
                    ["connect-filtered"]
                );
            }
        }
    }
}
