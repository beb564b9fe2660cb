//! `data-unreceived`: bytes sent on a TCP connection were never received.

use super::{unexplained_unreceived, unreceived_findings, UnreceivedGroup, UnreceivedText};
use crate::diagnose::rule::Rule;
use crate::diagnose::{Claims, Class, Context, Finding};

pub const RULE: Rule = Rule {
    id: "data-unreceived",
    class: Class::Application,
    title: "Bytes sent on a TCP connection were never received, and nothing points at the network",
    explanation: EXPLANATION,
    detect,
};

const EXPLANATION: &str = "\
## What it detects
An accepted TCP connection ends with bytes that one side sent and the other never read, with no
sign of a network cause: no reset, no buffer overrun, no MTU pattern, no readiness wait that missed
the data. Not reported: bytes sent after the receiver shut down reading, and a sender's last short
message (at most 512 bytes) left unread after an exchange both ends completed (the receiver had
read everything before it, everything it sent was received, both ends closed): a protocol's
goodbye, such as a TLS close_notify or an HTTP/2 GOAWAY, that crossed the receiver's close.

## Why it matters
The bytes were most likely sitting in the receiver's buffer: the receiving program did not read
them before closing or before the trace ended. Typical causes are a server that does not read the
whole request, a protocol disagreement on message length, or a reader blocked elsewhere.

## Evidence
The last unreceived send with the connect and accept of the connection; the facts give sent and
received counts, whether the receiver closed with the bytes unread, and a `because: ...` fact that
says why the finding is the receiving program's doing.

## What to do
Check that the receiver reads until the protocol says the message is complete (lengths, delimiters,
multibyte characters), and that it does not close with unread data (which makes the kernel send a
reset).

Precedence: this is the fallback for unreceived TCP bytes; every more specific rule
(`mtu-black-hole`, `connection-not-accepted`, `connection-reset`, `send-after-peer-closed`,
`buffer-overrun`, `data-unreceived-poll-missed`) wins over it.
";

fn detect(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    let selected = unexplained_unreceived(cx, claims);
    unreceived_findings(cx, claims, &RULE, selected, |g| UnreceivedText {
        summary: g.describe(),
        hint: "check that the receiver reads whole messages (lengths, delimiters) and does not \
               close with unread data"
            .to_string(),
        because: Some(because(g)),
    })
}

/// Why the unreceived bytes are the receiving program's doing.
fn because(g: &UnreceivedGroup) -> String {
    if g.receiver_closed > 0 {
        format!(
            "because: the receiving program closed {} of {} connection(s) with the bytes unread; \
             no reset, overrun or missed wait points at the network",
            g.receiver_closed, g.connections
        )
    } else {
        "because: the receiving program kept the connection open without reading the bytes; \
         no reset, overrun or missed wait points at the network"
            .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testkit::rules::*;

    #[test]
    fn fires_alone_on_a_data_unreceived_pattern() {
        assert_fires_on(&RULE, tcp(vec![accepted(120, 0, 120)]));
    }

    #[test]
    fn fires_on_recorded_accept_never_reads() {
        assert_recorded_scenarios_report(&RULE, &["accept-never-reads"]);
    }

    #[test]
    fn the_finding_says_why_it_is_the_receivers_doing() {
        let found = assert_fires_on(&RULE, tcp(vec![accepted(120, 0, 120)]));
        assert!(found[0]
            .facts
            .iter()
            .any(|f| f.starts_with("because: the receiving program kept")));
    }

    /// java/server-killed--jidle--jthread--record: the server was killed (SIGKILL) while its
    /// client idled; the client's next line ("second\n", 7 bytes) went to the dead server.
    /// Its death, not the network or its program, left them unread.
    #[test]
    fn bytes_left_to_a_killed_server_are_its_deaths() {
        let mut c = accepted(13, 6, 7);
        c.server_killed = true;
        assert!(fired(two_hosts(), tcp(vec![c])).is_empty());
    }

    #[test]
    fn fully_received_streams_are_silent() {
        assert!(fired(two_hosts(), tcp(vec![accepted(5000, 5000, 2900)])).is_empty());
    }
}
