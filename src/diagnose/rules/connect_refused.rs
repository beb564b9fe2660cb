//! `connect-refused`: a connect was refused and no traced socket listened there.

use super::{classify_refusal, failed_connect_findings, is_udp_refusal, Refusal};
use crate::diagnose::rule::Rule;
use crate::diagnose::{Claims, Class, Context, Finding};
use crate::parse::Errno;

pub const RULE: Rule = Rule {
    id: "connect-refused",
    class: Class::Application,
    title: "A connect was refused and no traced socket listened at that address",
    explanation: EXPLANATION,
    detect,
};

const EXPLANATION: &str = "\
## What it detects
A connect that failed with ECONNREFUSED where no traced socket ever listened at an address
matching the target, or where every such listener listened only before or after the connect
according to the timestamps: clearly (more than the clocks' margin apart), or within the margin
when the clocks as they read and the refusal agree, as when the server's process was killed
just before the connect (the finding then says so and which timestamps it used).

A UDP socket connected to its peer fails the same way (ECONNREFUSED on a later send or receive)
when the peer's host answered one of its datagrams with ICMP port unreachable: nothing was bound
at that port. The finding then speaks of a bound port, not a listener.

## Why it matters
Nothing was there to accept: the server was not started, listened on another port or address
(for instance only on 127.0.0.1 or only on IPv6), or had already closed its listening socket. This
is usually an application or deployment error, not a network one.

## Evidence
Each refused connect and its target. When the program then connected to another address on the
same port that its resolver had weighed with this one (the next address of a name), the facts
and that connect say so: it fell back and recovered.

## What to do
Check that the server runs and listens where the client connects (`ss -ltnp`; for UDP, that
it is bound there: `ss -lunp`), the port numbers
on both sides, and the address the server binds (0.0.0.0 / :: versus 127.0.0.1).

Precedence: when a traced socket listened at a matching address and nothing shows it was not
listening at the time, the connect is reported as `connect-refused-while-listening` instead. When
the only listener nearby was one the client could not reach (IPv6-only against an IPv4 client,
or bound to loopback while the client used an external address), `ip-version-mismatch` or
`loopback-bound-external-peer` reports it.
";

fn detect(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    let refusal = |f: &super::FailedConnect| {
        (f.errno == Errno::ECONNREFUSED).then(|| classify_refusal(cx, f))
    };
    let selected = |f: &super::FailedConnect| {
        matches!(
            refusal(f),
            Some(Refusal::NothingListened | Refusal::ListenedAtOtherTimes { .. })
        )
    };
    let facts = |f: &super::FailedConnect| match refusal(f) {
        Some(Refusal::ListenedAtOtherTimes { note }) => vec![format!(
            "a traced socket listened at a matching address, but not at the time of the \
             connect ({note})"
        )],
        _ => Vec::new(),
    };
    // A connected UDP socket's refusal is an ICMP port unreachable from the peer's host:
    // nothing was bound at the port, and no listener is ever involved.
    let mut findings = failed_connect_findings(
        cx,
        claims,
        &RULE,
        |f| is_udp_refusal(cx, f.deviation) && selected(f),
        |who, target, _, count| {
            (
                format!(
                    "{who} was refused sending UDP to {target} ({count} time(s)): its host \
                     answered with ICMP port unreachable; no traced socket was bound at that \
                     address"
                ),
                format!(
                    "check that the server is running and bound at {target} (ss -lunp), and \
                     the port and bind address on both sides"
                ),
            )
        },
        facts,
    );
    findings.extend(failed_connect_findings(
        cx,
        claims,
        &RULE,
        |f| !is_udp_refusal(cx, f.deviation) && selected(f),
        |who, target, _, count| {
            (
                format!(
                    "{who} was refused connecting to {target} ({count} time(s)); no traced socket \
                     listened at that address"
                ),
                format!(
                    "check that the server is running and listening at {target} (ss -ltnp), and \
                     the port and bind address on both sides"
                ),
            )
        },
        facts,
    ));
    findings
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::fold::ProgramContext;
    use crate::model::{Deviation, ReplayOutcome};
    use crate::parse::Errno;
    use crate::testkit::fixtures::*;
    use crate::testkit::rules::*;

    #[test]
    fn fires_alone_on_a_connect_refused_pattern() {
        assert_fires_on(&RULE, connect_failed(Errno::ECONNREFUSED, false));
    }

    #[test]
    fn fires_on_recorded_connect_refused_and_refused_listens_later() {
        assert_recorded_scenarios_report(
            &RULE,
            &[
                "connect-refused",
                "refused-listens-later",
                "killed-listener--curl--python--record",
            ],
        );
    }

    /// A refusal of the client (trace A) to 10.0.0.2:80, where B0 listened from `listen` until
    /// `close`, with the refused call at `refused` (times in seconds).
    fn refused_near(listen: f64, close: f64, refused: f64) -> ReplayOutcome {
        refused_against(
            (169, refused),
            (99, listen),
            (100, close),
            ProgramContext::Running,
        )
    }

    /// lab/killed-listener--curl--python--record: python listens (server.trace:99, at
    /// …144.803928) and is killed by SIGKILL (:100, …145.276581), which closes its listener;
    /// curl reads ECONNREFUSED from SO_ERROR (client.trace:169, …145.339009). Clocks of two
    /// hosts cannot order 0.06 s apart, but as they read they agree with the refusal: the
    /// listener was gone.
    #[test]
    fn a_refusal_just_after_the_listener_died_is_an_ordinary_refusal() {
        let outcome = refused_near(144.803928, 145.276581, 145.339009);
        assert_eq!(fired(two_hosts(), outcome), ["connect-refused"]);
    }

    /// lab/firewall-reject-reset--nc--socat--record: the refusal comes 0.06 s before the
    /// listener's close, which the clocks cannot order either; then the clocks and the refusal
    /// disagree, and the refusal stays ambiguous.
    #[test]
    fn a_refusal_just_before_the_listener_closed_stays_ambiguous() {
        let outcome = refused_near(1237.1, 1239.671131, 1239.609770);
        assert_eq!(
            fired(two_hosts(), outcome),
            ["connect-refused-while-listening"]
        );
    }

    /// rpc/zmq-late--plain (seconds after 11:35:00): ZeroMQ's I/O thread connects at 9.459451
    /// (client.trace:1971, EINPROGRESS) and reads ECONNREFUSED from SO_ERROR at 9.507447
    /// (:1977, <0.003863>); the server listens at 9.505334 (server.trace:1842), between the
    /// two. The refused SYN left at the connect, before the listen as the clocks read: they
    /// agree with the refusal.
    #[test]
    fn a_refusal_whose_syn_left_before_the_listen_is_an_ordinary_refusal() {
        let mut outcome = refused_near(9.505_334, 20.0, 9.459_451);
        outcome.failed_connect_spans[0].end = Some(9.507_447 + 0.003_863);
        assert_eq!(fired(two_hosts(), outcome), ["connect-refused"]);
    }

    /// lang/udp-wrong-port-ruby-perl--tt: Perl echoes on UDP 9000; Ruby's UDPSocket,
    /// connected to 9001, sends and reads back ECONNREFUSED (the server host's ICMP port
    /// unreachable). The finding speaks of a bound port and `ss -lunp`, not a listener.
    #[test]
    fn a_connected_udp_sockets_refusal_names_a_bound_port() {
        let client = "\
10504 23:46:34.143484 socket(AF_INET, SOCK_DGRAM|SOCK_CLOEXEC|SOCK_NONBLOCK, IPPROTO_IP) = 5
10504 23:46:34.143600 connect(5, {sa_family=AF_INET, sin_port=htons(9001), sin_addr=inet_addr(\"10.103.1.1\")}, 16) = 0
10504 23:46:34.143645 sendto(5, \"ping 0\", 6, 0, NULL, 0) = 6
10504 23:46:34.143896 recvfrom(5, 0x556ddf2f5020, 512, 0, 0x7ffd41f10db0, [2048]) = -1 ECONNREFUSED (Connection refused)
10504 23:46:34.144356 close(5)          = 0
10504 23:46:34.145630 exit_group(1)     = ?
10504 23:46:34.146788 +++ exited with 1 +++
";
        let server = "\
10494 23:46:33.912447 socket(AF_INET, SOCK_DGRAM|SOCK_CLOEXEC, IPPROTO_UDP) = 3
10494 23:46:33.912644 bind(3, {sa_family=AF_INET, sin_port=htons(9000), sin_addr=inet_addr(\"0.0.0.0\")}, 16) = 0
10494 23:46:33.912692 recvfrom(3, 0x55af6d8d1fd0, 512, 0, 0x7fff4b7d6320, [4096]) = ? ERESTARTSYS (To be restarted if SA_RESTART is set)
10494 23:46:34.155743 --- SIGTERM {si_signo=SIGTERM, si_code=SI_USER, si_pid=10463, si_uid=0} ---
10494 23:46:34.156319 +++ killed by SIGTERM +++
";
        let conf = "host client\n trace client.trace\n ip 10.103.1.2\n\
                    host server\n trace server.trace\n ip 10.103.1.1\n";
        let analysis = crate::testkit::table::diagnose_texts(
            "udp-refused",
            conf,
            &[("client.trace", client), ("server.trace", server)],
        );
        let refused: Vec<_> = analysis
            .findings
            .iter()
            .filter(|f| f.rule == "connect-refused")
            .collect();
        assert_eq!(refused.len(), 1, "{:#?}", analysis.findings);
        assert!(
            refused[0].summary.contains("ICMP port unreachable"),
            "{}",
            refused[0].summary
        );
        assert!(refused[0].hint.contains("ss -lunp"), "{}", refused[0].hint);
        assert!(!refused[0].summary.contains("listened"));
    }

    #[test]
    fn repeated_failures_to_one_target_make_one_finding() {
        let mut outcome = connect_failed(Errno::ECONNREFUSED, false);
        let again = outcome.deviations[0].clone();
        outcome.deviations.push(Deviation {
            loc: loc(0, 9),
            ..again
        });
        let found = findings(two_hosts(), outcome);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].evidence.len(), 2);
        assert!(found[0].summary.contains("2 time(s)"));
        assert!(found[0].summary.contains("10.0.0.2:80"));
        assert!(found[0].summary.contains("host client"));
    }
}
