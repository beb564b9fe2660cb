//! Refused connects judged against every listening period: which rule explains each, and the
//! NAT finding's claim on the data of the connection it explains.

use netcheck::diagnose::Finding;
use netcheck::model::{
    CallSpan, DeviationKind, ListenerRecord, ReplayOutcome, Stream, TcpConnection,
};
use netcheck::parse::Errno;
use netcheck::pipeline::Analysis;
use netcheck::source::Loc;
use netcheck::testkit::fixtures::*;

/// Client trace A (10.0.0.1), server trace B (10.0.0.2).
fn two_hosts() -> netcheck::config::Topology {
    topology(&[("client", &["10.0.0.1"]), ("server", &["10.0.0.2"])])
}

fn span(loc: Loc, start: Option<f64>, duration: f64) -> CallSpan {
    CallSpan {
        loc,
        start,
        end: start.map(|s| s + duration),
    }
}

fn listener(local: &str, v6only: bool, listen: Option<f64>, close: Option<f64>) -> ListenerRecord {
    ListenerRecord {
        sock: sock(1, 0),
        local: addr(local),
        v6only,
        listen: span(loc(1, 10), listen, 0.0),
        close: close.map(|t| span(loc(1, 20), Some(t), 0.0)),
        close_context: Default::default(),
    }
}

/// A connect from trace A to `target` refused at time `at` (1 s long), with these listeners.
fn refused(target: &str, at: Option<f64>, listeners: Vec<ListenerRecord>) -> ReplayOutcome {
    let connect = loc(0, 7);
    ReplayOutcome {
        deviations: vec![deviation(
            DeviationKind::ConnectFailed {
                errno: Errno::ECONNREFUSED,
                target: addr(target),
                listener: None,
            },
            connect,
            Some(sock(0, 0)),
        )],
        failed_connect_spans: vec![span(connect, at, 1.0)],
        listeners,
        ..ReplayOutcome::default()
    }
}

fn findings(outcome: ReplayOutcome) -> Vec<Finding> {
    Analysis::new(two_hosts(), Vec::new(), Vec::new(), outcome).findings
}

fn rules(found: &[Finding]) -> Vec<&'static str> {
    found.iter().map(|f| f.rule).collect()
}

#[test]
fn no_listener_ever_is_a_plain_refusal() {
    let found = findings(refused("10.0.0.2:80", Some(100.0), Vec::new()));
    assert_eq!(rules(&found), ["connect-refused"]);
    assert!(!found[0].facts.iter().any(|f| f.contains("timestamps")));
}

#[test]
fn a_listener_on_another_port_does_not_count() {
    let other_port = listener("10.0.0.2:81", false, Some(99.0), None);
    let found = findings(refused("10.0.0.2:80", Some(100.0), vec![other_port]));
    assert_eq!(rules(&found), ["connect-refused"]);
}

#[test]
fn a_listener_bracketing_the_connect_makes_it_ambiguous_and_says_timestamps_were_used() {
    let around = listener("10.0.0.2:80", false, Some(99.0), Some(103.0));
    let found = findings(refused("10.0.0.2:80", Some(100.0), vec![around]));
    assert_eq!(rules(&found), ["connect-refused-while-listening"]);
    assert!(
        found[0]
            .facts
            .iter()
            .any(|f| f.contains("socket B0") && f.contains("timestamps used")),
        "{:?}",
        found[0].facts
    );
}

#[test]
fn without_timestamps_a_matching_listener_leaves_the_refusal_ambiguous() {
    let untimed = listener("0.0.0.0:80", false, None, None);
    let found = findings(refused("10.0.0.2:80", None, vec![untimed]));
    assert_eq!(rules(&found), ["connect-refused-while-listening"]);
    assert!(found[0].facts.iter().any(|f| f.contains("cannot tell")));
}

#[test]
fn a_listen_clearly_after_the_connect_keeps_the_plain_refusal_noting_timestamps() {
    let later = listener("10.0.0.2:80", false, Some(102.0), None);
    let found = findings(refused("10.0.0.2:80", Some(100.0), vec![later]));
    assert_eq!(rules(&found), ["connect-refused"]);
    assert!(
        found[0]
            .facts
            .iter()
            .any(|f| f.contains("timestamps used") && f.contains("after the connect")),
        "{:?}",
        found[0].facts
    );
}

#[test]
fn a_listener_closed_clearly_before_the_connect_keeps_the_plain_refusal() {
    let earlier = listener("10.0.0.2:80", false, Some(90.0), Some(95.0));
    let found = findings(refused("10.0.0.2:80", Some(100.0), vec![earlier]));
    assert_eq!(rules(&found), ["connect-refused"]);
    assert!(found[0]
        .facts
        .iter()
        .any(|f| f.contains("before the connect")));
}

#[test]
fn clocks_of_two_hosts_within_the_margin_do_not_order_the_calls_against_the_refusal() {
    // The listen is 0.2 s before the connect started: too close to trust two hosts' clocks,
    // and as they read they contradict the refusal (a listener refuses nothing).
    let close_call = listener("10.0.0.2:80", false, Some(99.8), None);
    let found = findings(refused("10.0.0.2:80", Some(100.0), vec![close_call]));
    assert_eq!(rules(&found), ["connect-refused-while-listening"]);
}

#[test]
fn clocks_of_two_hosts_within_the_margin_that_agree_with_the_refusal_make_it_plain() {
    // The listen is 0.2 s after the connect ended: too close to trust two hosts' clocks alone,
    // but the refusal says the same.
    let close_call = listener("10.0.0.2:80", false, Some(101.2), None);
    let found = findings(refused("10.0.0.2:80", Some(100.0), vec![close_call]));
    assert_eq!(rules(&found), ["connect-refused"]);
    assert!(found[0]
        .facts
        .iter()
        .any(|f| f.contains("the refusal agrees")));
}

#[test]
fn an_ipv6_only_listener_refusing_an_ipv4_client_is_a_version_mismatch() {
    let v6only = listener("[::]:80", true, Some(99.0), Some(103.0));
    let found = findings(refused("10.0.0.2:80", Some(100.0), vec![v6only]));
    assert_eq!(rules(&found), ["ip-version-mismatch"]);
    assert!(found[0].facts.iter().any(|f| f.contains("IPV6_V6ONLY")));
}

#[test]
fn a_dual_stack_listener_is_no_version_mismatch() {
    let dual = listener("[::]:80", false, Some(99.0), Some(103.0));
    let found = findings(refused("10.0.0.2:80", Some(100.0), vec![dual]));
    assert_eq!(rules(&found), ["connect-refused-while-listening"]);
}

#[test]
fn a_loopback_listener_on_the_target_port_refusing_an_external_client_is_loopback_bound() {
    let loopback = listener("127.0.0.1:80", false, Some(99.0), Some(103.0));
    let found = findings(refused("10.0.0.2:80", Some(100.0), vec![loopback]));
    assert_eq!(rules(&found), ["loopback-bound-external-peer"]);
    assert!(found[0].facts.iter().any(|f| f.contains("127.0.0.1:80")));
}

#[test]
fn a_loopback_listener_on_another_host_is_no_near_miss() {
    // The listener's trace is the client's host (10.0.0.1), not the target's.
    let mut elsewhere = listener("127.0.0.1:80", false, Some(99.0), None);
    elsewhere.sock = sock(0, 5);
    let found = findings(refused("10.0.0.2:80", Some(100.0), vec![elsewhere]));
    assert_eq!(rules(&found), ["connect-refused"]);
}

#[test]
fn a_near_miss_listener_that_listened_only_later_is_a_plain_refusal() {
    let later = listener("[::]:80", true, Some(110.0), None);
    let found = findings(refused("10.0.0.2:80", Some(100.0), vec![later]));
    assert_eq!(rules(&found), ["connect-refused"]);
}

#[test]
fn a_nat_finding_claims_the_unknown_data_of_the_connection_it_explains() {
    let topo = topology(&[("server", &["10.0.0.2"]), ("client", &["192.168.1.10"])]);
    let read = loc(1, 30);
    let never_accepted = TcpConnection {
        client: sock(1, 0),
        server: None,
        listener: Some(sock(0, 0)),
        client_view: (Some(addr("192.168.1.10:40000")), Some(addr("10.0.0.2:80"))),
        server_view: (Some(addr("10.0.0.2:80")), None),
        connect_loc: loc(1, 8),
        accept_loc: None,
        to_server: Stream::default(),
        to_client: Stream::default(),
        server_close: None,
        server_closed_first: false,
        server_killed: false,
        server_failed: false,
        wait_timed_out_with_data: false,
        ends: Default::default(),
        late_accept: None,
        client_held: None,
        queue_wait: None,
        open_at_accept: 0,
    };
    let outcome = ReplayOutcome {
        tcp: vec![never_accepted],
        deviations: vec![deviation(
            DeviationKind::UnknownData,
            read,
            Some(sock(1, 0)),
        )],
        activity: vec![
            accepted_strangers(0, 5, &["203.0.113.7:40000"]),
            activity(1, 5, 0, &[]),
        ],
        ..ReplayOutcome::default()
    };
    let analysis = Analysis::new(topo, Vec::new(), Vec::new(), outcome);
    assert_eq!(rules(&analysis.findings), ["nat-undeclared"]);
    assert!(
        analysis.unexplained.is_empty(),
        "{:?}",
        analysis.unexplained
    );
}
