//! `connect-filtered`: a connect failed the way filtered paths make it fail.

use super::connect_failure_findings;
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
local policy (firewall rule, SELinux, seccomp) refused the connection.

## Why it matters
The application cannot reach its peer at all, and the cause lies outside both programs: in a
firewall, a routing table or a security policy on the path or on the host.

## Evidence
Each failing connect, with its errno and target. When a traced socket listened at a matching
address, the facts name it: the server was there, so the path is what failed.

## What to do
Check firewall rules on both hosts and in between (`iptables -L`, `nft list ruleset`, cloud
security groups), the routes (`ip route get TARGET`), and for EACCES/EPERM local security
policies. Test with `nc -vz TARGET PORT` from the client host.

Precedence: these connects are not reported again as `connect-unexpected-failure`.
";

fn detect(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    connect_failure_findings(
        cx,
        claims,
        &RULE,
        |errno, _| FILTER_ERRNOS.contains(&errno),
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
    )
}

#[cfg(test)]
mod tests {
    use super::RULE;
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
