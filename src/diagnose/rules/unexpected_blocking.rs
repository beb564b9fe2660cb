//! `unexpected-blocking`: A blocking socket returned would-block or timed out.

use super::per_socket_findings;
use crate::diagnose::rule::Rule;
use crate::diagnose::{Claims, Class, Context, Finding};
use crate::model::DeviationKind;

pub const RULE: Rule = Rule {
    id: "unexpected-blocking",
    class: Class::Network,
    title: "A blocking socket returned would-block or timed out",
    explanation: EXPLANATION,
    detect,
};

const EXPLANATION: &str = "\
## What it detects
A call on a socket in blocking mode that returned EAGAIN/EWOULDBLOCK or ETIMEDOUT: with a receive
or send timeout set (SO_RCVTIMEO, SO_SNDTIMEO), the kernel gave up waiting.

## Why it matters
In the ideal network the data or buffer space the call waited for would have been there. A timeout
means the network delayed or dropped it longer than the program was willing to wait.

## Evidence
The call that timed out.

## What to do
Compare the timeouts with the latency of the path; look for drops and retransmissions (`ss -ti`);
capture traffic if the timeouts are generous.
";

fn detect(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    per_socket_findings(
        cx,
        claims,
        &RULE,
        |k| matches!(k, DeviationKind::UnexpectedBlocking),
        |who, group| {
            (
                format!("{who} is in blocking mode but a call on it returned would-block or timed out ({} time(s)): the data or peer it waited for did not come in time", group.len()),
                "check the socket timeouts (SO_RCVTIMEO/SO_SNDTIMEO) against the path latency, and the path for delays and drops".to_string(),
            )
        },
        "blocking call that gave up",
    )
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::model::DeviationKind;
    use crate::testkit::rules::*;

    #[test]
    fn fires_alone_on_a_unexpected_blocking_pattern() {
        assert_fires_on(&RULE, with_deviation(DeviationKind::UnexpectedBlocking));
    }
}
