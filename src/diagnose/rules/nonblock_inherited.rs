//! `nonblock-inherited`: An accepted socket relied on O_NONBLOCK inherited from its listener.

use super::per_socket_findings;
use crate::diagnose::rule::Rule;
use crate::diagnose::{Claims, Class, Context, Finding};
use crate::model::DeviationKind;

pub const RULE: Rule = Rule {
    id: "nonblock-inherited",
    class: Class::Portability,
    title: "An accepted socket relied on O_NONBLOCK inherited from its listener",
    explanation: EXPLANATION,
    detect,
};

const EXPLANATION: &str = "\
## What it detects
An accepted socket whose blocking mode depends on the system, used in a way that makes the
difference show:

* a call on it returned EAGAIN/EWOULDBLOCK although the program never made that socket
  nonblocking: the mode came from the listening socket (a system where accept passes O_NONBLOCK
  on);
* or it blocked: all of these hold —
  1. the listener was made nonblocking explicitly (SOCK_NONBLOCK, fcntl O_NONBLOCK or ioctl
     FIONBIO);
  2. the socket came from accept, or accept4 without SOCK_NONBLOCK;
  3. nothing set its mode afterwards (no fcntl F_SETFL or ioctl FIONBIO on it);
  4. a send or receive on it succeeded after blocking at least 0.2 s by its `-T` duration (a call
     with data at hand returns in microseconds). Where accept passes O_NONBLOCK on, that call
     would have returned EAGAIN instead.

## Why it matters
Whether accept passes O_NONBLOCK from the listener to the new socket differs: Linux does not, the
BSDs and macOS do. A program that relies on either behaviour blocks, or spins on EAGAIN, on the
other systems: here a server that made its listener nonblocking reads the accepted socket as if it
were nonblocking too, and blocks on Linux.

## Evidence
The call that returned EAGAIN, or the call that blocked (with how long).

## What to do
Set the mode explicitly on each accepted socket (`fcntl(fd, F_SETFL, O_NONBLOCK)` or
`accept4(..., SOCK_NONBLOCK)`, or clear it explicitly if blocking is wanted).
";

fn detect(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    let mut findings = per_socket_findings(
        cx,
        claims,
        &RULE,
        |k| matches!(k, DeviationKind::NonblockInherited),
        |who, group| {
            (
                format!(
                    "{who} would have blocked ({} time(s)) but behaved as nonblocking, a mode \
                     only inherited from its listener on some systems",
                    group.len()
                ),
                hint().to_string(),
            )
        },
        "nonblocking mode inherited from the listener",
    );
    findings.extend(per_socket_findings(
        cx,
        claims,
        &RULE,
        |k| matches!(k, DeviationKind::BlockedWithoutInheritedNonblock { .. }),
        |who, group| {
            let longest = group
                .iter()
                .filter_map(|(_, d)| match d.kind {
                    DeviationKind::BlockedWithoutInheritedNonblock { blocked_ms } => {
                        Some(blocked_ms)
                    }
                    _ => None,
                })
                .max()
                .unwrap_or(0);
            (
                format!(
                    "{who} blocked ({} time(s), up to {:.3} s) although its listener was \
                     nonblocking: accept does not pass O_NONBLOCK on here (Linux), where it does \
                     (BSD, macOS) the call returns EAGAIN",
                    group.len(),
                    longest as f64 / 1000.0
                ),
                hint().to_string(),
            )
        },
        "blocked on a socket accepted from a nonblocking listener",
    ));
    findings
}

fn hint() -> &'static str {
    "set the mode explicitly on every accepted socket (fcntl O_NONBLOCK or accept4 with \
     SOCK_NONBLOCK, or clear it if blocking is wanted)"
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::model::DeviationKind;
    use crate::testkit::rules::*;

    #[test]
    fn fires_alone_on_a_nonblock_inherited_pattern() {
        assert_fires_on(&RULE, with_deviation(DeviationKind::NonblockInherited));
    }

    #[test]
    fn fires_on_recorded_nonblock_inherited() {
        assert_recorded_scenarios_report(&RULE, &["nonblock-inherited"]);
    }
}
