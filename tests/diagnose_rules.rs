//! Each rule fires on its pattern, stays silent otherwise, and the precedence between rules holds.
//! Outcomes are built by hand, as the model would report them.

use netcheck::config::Topology;
use netcheck::diagnose::registry::RULES;
use netcheck::diagnose::{Class, Finding};
use netcheck::model::{BlockedPoint, DeviationKind, ReplayOutcome};
use netcheck::parse::{Errno, ParseStats, Unparsed};
use netcheck::pipeline::Analysis;
use netcheck::testkit::fixtures::*;

fn two_hosts() -> Topology {
    topology(&[("client", &["10.0.0.1"]), ("server", &["10.0.0.2"])])
}

fn findings(topology: Topology, outcome: ReplayOutcome) -> Vec<Finding> {
    Analysis::new(topology, Vec::new(), Vec::new(), outcome).findings
}

fn rules_of(findings: &[Finding]) -> Vec<&'static str> {
    let mut rules: Vec<&'static str> = findings.iter().map(|f| f.rule).collect();
    rules.dedup();
    rules
}

fn fired(topology: Topology, outcome: ReplayOutcome) -> Vec<&'static str> {
    rules_of(&findings(topology, outcome))
}

fn with_deviation(kind: DeviationKind) -> ReplayOutcome {
    ReplayOutcome {
        deviations: vec![deviation(kind, loc(0, 7), Some(sock(0, 0)))],
        ..ReplayOutcome::default()
    }
}

/// An accept on the server (trace B) whose peer matches no connect.
fn accept_from(peer: &str, local: &str) -> ReplayOutcome {
    let kind = DeviationKind::AcceptFromUnknownPeer {
        peer: addr(peer),
        local: addr(local),
    };
    ReplayOutcome {
        deviations: vec![deviation(kind, loc(1, 7), Some(sock(1, 1)))],
        ..ReplayOutcome::default()
    }
}

fn connect_failed(errno: Errno, listening: bool) -> ReplayOutcome {
    with_deviation(DeviationKind::ConnectFailed {
        errno,
        target: addr("10.0.0.2:80"),
        listener: listening.then(|| sock(1, 0)),
    })
}

/// A client → server connection, accepted, with `sent`/`received` bytes towards the server.
fn accepted(sent: u64, received: u64, largest: u64) -> netcheck::model::TcpConnection {
    let mut c = connection(
        sock(0, 0),
        "10.0.0.1:40000",
        sock(1, 0),
        Some(sock(1, 1)),
        "10.0.0.2:80",
        loc(0, 5),
        Some(loc(1, 9)),
    );
    c.to_server = stream(sent, received, largest, 3, loc(0, 12));
    c
}

fn tcp(connections: Vec<netcheck::model::TcpConnection>) -> ReplayOutcome {
    ReplayOutcome {
        tcp: connections,
        ..ReplayOutcome::default()
    }
}

fn udp(by_size: Vec<(u64, u64, u64)>) -> ReplayOutcome {
    ReplayOutcome {
        udp: vec![udp_flow(
            sock(0, 0),
            "10.0.0.1:5000",
            "10.0.0.2:6000",
            vec![sock(1, 0)],
            by_size,
            loc(0, 4),
        )],
        ..ReplayOutcome::default()
    }
}

/// One minimal pattern per rule: the rule it must produce, the topology and the outcome.
fn patterns() -> Vec<(&'static str, Topology, ReplayOutcome, Vec<ParseStats>)> {
    let mut inferred = two_hosts();
    add_nat(&mut inferred, 0, "192.168.1.10", "203.0.113.7", true);
    let private_client = topology(&[("client", &["192.168.1.10"]), ("server", &["10.0.0.2"])]);
    let unparsed = ParseStats {
        lines: 100,
        unparsed: 2,
        first_unparsed: vec![Unparsed {
            loc: loc(1, 17),
            path: "server.trace".into(),
            column: 5,
            reason: "unknown call format".into(),
            text: "garbage".into(),
        }],
        ..ParseStats::default()
    };
    let mut mtu = accepted(5000, 600, 2900);
    mtu.to_client = stream(300, 300, 300, 1, loc(1, 20));
    let mut poll = accepted(120, 0, 120);
    poll.wait_timed_out_with_data = true;
    let mut unaccepted = accepted(0, 0, 0);
    unaccepted.server = None;
    unaccepted.accept_loc = None;
    let none = Vec::new;
    vec![
        (
            "nat-undeclared",
            private_client.clone(),
            accept_from("203.0.113.7:5555", "10.0.0.2:80"),
            none(),
        ),
        ("nat-undeclared", inferred, ReplayOutcome::default(), none()),
        (
            "port-forwarding",
            two_hosts(),
            accept_from("10.0.0.1:5555", "10.0.0.2:3005"),
            none(),
        ),
        (
            "connection-not-accepted",
            two_hosts(),
            tcp(vec![unaccepted]),
            none(),
        ),
        (
            "connect-filtered",
            two_hosts(),
            connect_failed(Errno::ETIMEDOUT, false),
            none(),
        ),
        (
            "connect-refused",
            two_hosts(),
            connect_failed(Errno::ECONNREFUSED, false),
            none(),
        ),
        (
            "connect-refused-while-listening",
            two_hosts(),
            connect_failed(Errno::ECONNREFUSED, true),
            none(),
        ),
        (
            "connect-never-completed",
            two_hosts(),
            ReplayOutcome {
                pending_connects: vec![pending(sock(0, 0), "10.0.0.2:80", loc(0, 3))],
                ..ReplayOutcome::default()
            },
            none(),
        ),
        (
            "connect-unexpected-failure",
            two_hosts(),
            connect_failed(Errno::ENETDOWN, true),
            none(),
        ),
        (
            "data-unreceived",
            two_hosts(),
            tcp(vec![accepted(120, 0, 120)]),
            none(),
        ),
        (
            "data-unreceived-poll-missed",
            two_hosts(),
            tcp(vec![poll]),
            none(),
        ),
        (
            "send-after-peer-closed",
            two_hosts(),
            with_deviation(DeviationKind::SendAfterPeerClosed {
                errno: Some(Errno::EPIPE),
            }),
            none(),
        ),
        (
            "connection-reset",
            two_hosts(),
            with_deviation(DeviationKind::ConnectionReset),
            none(),
        ),
        (
            "data-mismatch",
            two_hosts(),
            with_deviation(DeviationKind::DataMismatch),
            none(),
        ),
        ("udp-all-lost", two_hosts(), udp(vec![(100, 4, 0)]), none()),
        ("udp-loss", two_hosts(), udp(vec![(100, 20, 17)]), none()),
        ("mtu-black-hole", two_hosts(), tcp(vec![mtu]), none()),
        (
            "mtu-black-hole",
            two_hosts(),
            udp(vec![(200, 10, 10), (1472, 10, 0)]),
            none(),
        ),
        (
            "buffer-overrun",
            two_hosts(),
            with_deviation(DeviationKind::BufferOverrun {
                unreceived: 500_000,
                capacity: 425_984,
            }),
            none(),
        ),
        (
            "datagram-truncated",
            two_hosts(),
            with_deviation(DeviationKind::DatagramTruncated {
                len: 2000,
                buffer: 1024,
            }),
            none(),
        ),
        (
            "address-in-use",
            two_hosts(),
            with_deviation(DeviationKind::AddressInUse { reuseaddr: false }),
            none(),
        ),
        (
            "loopback-bound-external-peer",
            two_hosts(),
            with_deviation(DeviationKind::LoopbackBoundExternalPeer {
                local: addr("127.0.0.1:4000"),
                peer: addr("10.0.0.2:80"),
            }),
            none(),
        ),
        (
            "ip-version-mismatch",
            two_hosts(),
            with_deviation(DeviationKind::IpVersionMismatch),
            none(),
        ),
        (
            "nonblock-inherited",
            two_hosts(),
            with_deviation(DeviationKind::NonblockInherited),
            none(),
        ),
        (
            "unexpected-blocking",
            two_hosts(),
            with_deviation(DeviationKind::UnexpectedBlocking),
            none(),
        ),
        (
            "broadcast-not-permitted",
            two_hosts(),
            with_deviation(DeviationKind::BroadcastNotPermitted),
            none(),
        ),
        (
            "no-peer-traffic",
            topology(&[
                ("client", &["10.0.0.1"]),
                ("server", &["10.0.0.2"]),
                ("other", &["10.0.0.3"]),
            ]),
            ReplayOutcome {
                activity: vec![
                    activity(0, 10, 1, &[]),
                    activity(1, 10, 1, &[]),
                    activity(2, 6, 0, &["198.51.100.1:3128"]),
                ],
                ..ReplayOutcome::default()
            },
            none(),
        ),
        (
            "nat-undeclared",
            two_hosts(),
            ReplayOutcome {
                activity: vec![
                    activity(0, 10, 0, &["198.51.100.1:80"]),
                    accepted_strangers(1, 10, &["203.0.113.7:40000"]),
                ],
                ..ReplayOutcome::default()
            },
            none(),
        ),
        (
            "ordering-incomplete",
            two_hosts(),
            ReplayOutcome {
                blocked: vec![BlockedPoint {
                    position: 12,
                    heads: vec![(loc(0, 30), "recv of bytes not sent yet".into())],
                    forced: Some(loc(0, 30)),
                }],
                ordered_calls: 40,
                ..ReplayOutcome::default()
            },
            none(),
        ),
        (
            "unsupported-call",
            two_hosts(),
            ReplayOutcome {
                unsupported: vec![("setsockopt(SO_PRIORITY)".into(), 3)],
                ..ReplayOutcome::default()
            },
            none(),
        ),
        (
            "unparsed-lines",
            two_hosts(),
            ReplayOutcome::default(),
            vec![ParseStats::default(), unparsed],
        ),
    ]
}

#[test]
fn each_pattern_fires_exactly_its_rule() {
    for (rule, topology, outcome, parse) in patterns() {
        let found = Analysis::new(topology, parse, Vec::new(), outcome).findings;
        assert_eq!(
            rules_of(&found),
            vec![rule],
            "pattern for {rule}: {found:#?}"
        );
        let class = RULES.iter().find(|r| r.id == rule).map(|r| r.class);
        assert!(found.iter().all(|f| Some(f.class) == class));
        for f in &found {
            for text in [&f.summary, &f.hint] {
                assert!(!text.is_empty(), "{rule}: empty summary or hint");
                assert!(
                    !text.contains("  ") && !text.contains('\n'),
                    "{rule}: {text:?}"
                );
            }
        }
    }
}

#[test]
fn every_rule_has_a_pattern() {
    let covered: Vec<&str> = patterns().iter().map(|p| p.0).collect();
    for rule in RULES {
        assert!(covered.contains(&rule.id), "no pattern for {}", rule.id);
    }
}

#[test]
fn every_pattern_but_info_has_evidence_with_a_line() {
    for (rule, topology, outcome, parse) in patterns() {
        for f in Analysis::new(topology.clone(), parse, Vec::new(), outcome).findings {
            let inferred_nat = rule == "nat-undeclared" && f.summary.contains("inferred");
            if !inferred_nat && f.class != Class::Info {
                assert!(!f.evidence.is_empty(), "{rule} without evidence");
            }
            assert!(f.evidence.iter().all(|e| e.loc.line > 0));
        }
    }
}

#[test]
fn a_clean_outcome_has_no_findings() {
    let mut healthy = accepted(120, 120, 120);
    healthy.to_client = stream(4000, 4000, 1448, 3, loc(1, 20));
    let mut outcome = tcp(vec![healthy]);
    outcome.udp = udp(vec![(100, 20, 20), (1472, 5, 5)]).udp;
    outcome.activity = vec![activity(0, 10, 1, &[]), activity(1, 10, 1, &[])];
    assert!(findings(two_hosts(), outcome).is_empty());
}

// ---- connects ----------------------------------------------------------------------------------

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

#[test]
fn refusals_split_on_whether_a_traced_socket_listened() {
    let refused = findings(two_hosts(), connect_failed(Errno::ECONNREFUSED, false));
    assert_eq!(rules_of(&refused), ["connect-refused"]);
    assert_eq!(refused[0].class, Class::Application);
    let ambiguous = findings(two_hosts(), connect_failed(Errno::ECONNREFUSED, true));
    assert_eq!(rules_of(&ambiguous), ["connect-refused-while-listening"]);
    assert!(ambiguous[0].facts.iter().any(|f| f.contains("B0")));
}

#[test]
fn repeated_failures_to_one_target_make_one_finding() {
    let mut outcome = connect_failed(Errno::ECONNREFUSED, false);
    let again = outcome.deviations[0].clone();
    outcome.deviations.push(netcheck::model::Deviation {
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

#[test]
fn pending_connects_to_ignored_endpoints_are_silent() {
    let mut topology = two_hosts();
    topology.ignores.push(netcheck::config::Endpoint {
        ip: ip("10.0.0.2"),
        port: Some(80),
    });
    let outcome = ReplayOutcome {
        pending_connects: vec![pending(sock(0, 0), "10.0.0.2:80", loc(0, 3))],
        ..ReplayOutcome::default()
    };
    assert!(fired(topology, outcome).is_empty());
}

#[test]
fn unaccepted_connections_do_not_also_report_unreceived_data() {
    let mut c = accepted(300, 0, 300);
    c.server = None;
    c.accept_loc = None;
    let found = findings(two_hosts(), tcp(vec![c]));
    assert_eq!(rules_of(&found), ["connection-not-accepted"]);
    assert!(found[0].facts.iter().any(|f| f.contains("300 byte")));
}

// ---- TCP data ----------------------------------------------------------------------------------

#[test]
fn fully_received_streams_are_silent() {
    assert!(fired(two_hosts(), tcp(vec![accepted(5000, 5000, 2900)])).is_empty());
}

#[test]
fn poll_missed_data_takes_precedence_over_plain_unreceived() {
    let mut outcome = tcp(vec![accepted(120, 0, 120)]);
    outcome.deviations.push(deviation(
        DeviationKind::PollMissedData,
        loc(1, 14),
        Some(sock(1, 1)),
    ));
    let found = findings(two_hosts(), outcome);
    assert_eq!(rules_of(&found), ["data-unreceived-poll-missed"]);
    assert_eq!(found[0].class, Class::Ambiguous);
}

#[test]
fn mtu_black_hole_explains_a_stalled_stream_once() {
    let mut c = accepted(5000, 600, 2900);
    c.to_client = stream(300, 300, 300, 1, loc(1, 20));
    c.wait_timed_out_with_data = true;
    let mut outcome = tcp(vec![c]);
    outcome.deviations.push(deviation(
        DeviationKind::BufferOverrun {
            unreceived: 500_000,
            capacity: 425_984,
        },
        loc(0, 40),
        Some(sock(0, 0)),
    ));
    let found = findings(two_hosts(), outcome);
    assert_eq!(rules_of(&found), ["mtu-black-hole"]);
    assert!(found[0].summary.contains("4400 of 5000"));
}

#[test]
fn small_sends_or_no_prior_exchange_are_not_mtu() {
    // Largest send below the threshold: plain unreceived data.
    assert_eq!(
        fired(two_hosts(), tcp(vec![accepted(1000, 400, 600)])),
        ["data-unreceived"]
    );
    // Nothing ever got through on the connection: not a size effect.
    assert_eq!(
        fired(two_hosts(), tcp(vec![accepted(3000, 0, 3000)])),
        ["data-unreceived"]
    );
    // The receiver closed without reading: application, not MTU.
    let mut closed = accepted(5000, 600, 2900);
    closed.to_server.closed_by_receiver = true;
    let found = findings(two_hosts(), tcp(vec![closed]));
    assert_eq!(rules_of(&found), ["data-unreceived"]);
    assert!(found[0].facts.iter().any(|f| f.contains("closed")));
}

#[test]
fn buffer_overrun_without_mtu_pattern_suppresses_data_unreceived() {
    let mut outcome = tcp(vec![accepted(600_000, 0, 65536)]);
    outcome.deviations.push(deviation(
        DeviationKind::BufferOverrun {
            unreceived: 600_000,
            capacity: 425_984,
        },
        loc(0, 40),
        Some(sock(0, 0)),
    ));
    assert_eq!(fired(two_hosts(), outcome), ["buffer-overrun"]);
}

#[test]
fn reset_and_send_after_close_explain_the_unreceived_bytes() {
    let mut outcome = tcp(vec![accepted(120, 0, 120)]);
    outcome.deviations.push(deviation(
        DeviationKind::ConnectionReset,
        loc(0, 20),
        Some(sock(0, 0)),
    ));
    assert_eq!(fired(two_hosts(), outcome), ["connection-reset"]);

    let mut outcome = tcp(vec![accepted(120, 0, 120)]);
    outcome.deviations.push(deviation(
        DeviationKind::SendAfterPeerClosed { errno: None },
        loc(0, 20),
        Some(sock(0, 0)),
    ));
    assert_eq!(fired(two_hosts(), outcome), ["send-after-peer-closed"]);
}

#[test]
fn send_after_close_leaves_the_other_direction_reported() {
    let mut c = accepted(120, 0, 120);
    c.to_client = stream(50, 0, 50, 1, loc(1, 22));
    let mut outcome = tcp(vec![c]);
    outcome.deviations.push(deviation(
        DeviationKind::SendAfterPeerClosed {
            errno: Some(Errno::EPIPE),
        },
        loc(0, 20),
        Some(sock(0, 0)),
    ));
    let found = findings(two_hosts(), outcome);
    assert_eq!(
        rules_of(&found),
        ["data-unreceived", "send-after-peer-closed"]
    );
    let unreceived = &found[0];
    assert!(unreceived.summary.contains("server → client"));
}

// ---- UDP ---------------------------------------------------------------------------------------

#[test]
fn udp_loss_thresholds() {
    // 1 of 20 lost: below the 2-datagram minimum.
    assert!(fired(two_hosts(), udp(vec![(100, 20, 19)])).is_empty());
    // 4 of 100 lost: below 5%.
    assert!(fired(two_hosts(), udp(vec![(100, 100, 96)])).is_empty());
    // 5 of 100: exactly 5%.
    let found = findings(two_hosts(), udp(vec![(100, 100, 95)]));
    assert_eq!(rules_of(&found), ["udp-loss"]);
    assert!(found[0].summary.contains("5.0%"));
}

#[test]
fn udp_loss_explains_the_receivers_waits_that_timed_out() {
    let mut outcome = udp(vec![(100, 20, 13)]);
    outcome.deviations = vec![
        deviation(DeviationKind::PollMissedData, loc(1, 30), Some(sock(1, 0))),
        deviation(DeviationKind::PollMissedData, loc(1, 31), Some(sock(1, 7))),
    ];
    let analysis = Analysis::new(two_hosts(), Vec::new(), Vec::new(), outcome);
    assert_eq!(rules_of(&analysis.findings), ["udp-loss"]);
    // The wait on the flow's receiver is explained; one on an unrelated socket is not.
    assert_eq!(analysis.unexplained, vec![1]);
}

#[test]
fn udp_mtu_needs_a_clean_split_above_the_minimum_mtu() {
    // Losses starting at 300 bytes cannot be an MTU effect.
    assert_eq!(
        fired(two_hosts(), udp(vec![(100, 10, 10), (300, 10, 0)])),
        ["udp-loss"]
    );
    // Small ones lost too: not a size effect.
    assert_eq!(
        fired(two_hosts(), udp(vec![(100, 10, 5), (1472, 10, 0)])),
        ["udp-loss"]
    );
    // Everything lost: all lost, not MTU.
    assert_eq!(
        fired(two_hosts(), udp(vec![(100, 10, 0), (1472, 10, 0)])),
        ["udp-all-lost"]
    );
    // A clean split at 1400.
    let found = findings(
        two_hosts(),
        udp(vec![
            (100, 30, 30),
            (1000, 5, 5),
            (1400, 6, 0),
            (1472, 4, 0),
        ]),
    );
    assert_eq!(rules_of(&found), ["mtu-black-hole"]);
    assert!(found[0].summary.contains("1400 bytes or more"));
}

#[test]
fn datagrams_to_addresses_of_no_host_are_not_judged() {
    let mut outcome = udp(vec![(100, 4, 0)]);
    outcome.udp[0].receiver_addr = addr("198.51.100.9:53");
    assert!(fired(two_hosts(), outcome).is_empty());
}

// ---- NAT, forwarding, isolation ------------------------------------------------------------------

#[test]
fn unknown_peer_is_nat_only_when_a_client_is_private() {
    let outcome = accept_from("203.0.113.7:5555", "198.51.100.2:80");
    let public = topology(&[("client", &["198.51.100.1"]), ("server", &["198.51.100.2"])]);
    assert_eq!(fired(public, outcome.clone()), ["port-forwarding"]);
    let private = topology(&[("client", &["192.168.1.10"]), ("server", &["198.51.100.2"])]);
    let found = findings(private, outcome);
    assert_eq!(rules_of(&found), ["nat-undeclared"]);
    assert!(found[0].summary.contains("203.0.113.7"));
    assert!(found[0].hint.contains("nat "));
}

#[test]
fn declared_nats_are_not_reported() {
    let mut declared = two_hosts();
    add_nat(&mut declared, 0, "192.168.1.10", "203.0.113.7", false);
    assert!(fired(declared, ReplayOutcome::default()).is_empty());
}

#[test]
fn inferred_nat_names_the_host_and_the_config_line() {
    let mut inferred = two_hosts();
    add_nat(&mut inferred, 1, "192.168.1.50", "96.250.21.150", true);
    let found = findings(inferred, ReplayOutcome::default());
    assert_eq!(found.len(), 1);
    assert!(found[0].summary.contains("host server"));
    assert!(found[0].hint.contains("nat 192.168.1.50 96.250.21.150"));
}

#[test]
fn an_inferred_port_forward_is_reported_as_port_forwarding() {
    let mut inferred = two_hosts();
    add_nat(&mut inferred, 1, "192.168.1.50", "96.250.21.150", true);
    if let Some(nat) = inferred.hosts[1].nats.last_mut() {
        nat.private.port = Some(3005);
        nat.public.port = Some(3001);
    }
    let found = findings(inferred, ReplayOutcome::default());
    assert_eq!(rules_of(&found), ["port-forwarding"]);
    assert!(found[0]
        .hint
        .contains("nat 192.168.1.50,3005 96.250.21.150,3001"));
}

#[test]
fn strangers_on_both_ends_with_an_accepting_server_is_nat_not_isolation() {
    let outcome = ReplayOutcome {
        activity: vec![
            activity(0, 10, 0, &["198.51.100.1:80"]),
            accepted_strangers(1, 10, &["198.51.100.2:40000"]),
        ],
        ..ReplayOutcome::default()
    };
    let found = findings(two_hosts(), outcome);
    assert_eq!(rules_of(&found), ["nat-undeclared"]);
    assert_eq!(found.len(), 1);
}

#[test]
fn talking_to_strangers_without_an_accepting_server_is_isolation_not_nat() {
    // Every trace dials addresses of no host, but no traced server saw a stranger: a wrong
    // server address looks exactly like this, so there is no evidence of a NAT.
    let outcome = ReplayOutcome {
        activity: vec![
            activity(0, 10, 0, &["198.51.100.1:80"]),
            activity(1, 10, 0, &["198.51.100.2:80"]),
        ],
        ..ReplayOutcome::default()
    };
    assert_eq!(fired(two_hosts(), outcome), ["no-peer-traffic"]);
}

#[test]
fn a_public_client_dialling_strangers_is_no_nat_evidence() {
    let public = topology(&[("client", &["198.51.100.50"]), ("server", &["10.0.0.2"])]);
    let outcome = ReplayOutcome {
        activity: vec![
            activity(0, 10, 0, &["198.51.100.1:80"]),
            accepted_strangers(1, 10, &["203.0.113.7:40000"]),
        ],
        ..ReplayOutcome::default()
    };
    assert!(!fired(public, outcome).contains(&"nat-undeclared"));
}

#[test]
fn a_single_trace_is_never_isolated() {
    let outcome = ReplayOutcome {
        activity: vec![activity(0, 10, 0, &[])],
        ..ReplayOutcome::default()
    };
    assert!(fired(topology(&[("solo", &["10.0.0.1"])]), outcome).is_empty());
}

// ---- info --------------------------------------------------------------------------------------

#[test]
fn forced_deviations_are_part_of_ordering_incomplete() {
    let outcome = ReplayOutcome {
        deviations: vec![deviation(DeviationKind::Forced, loc(0, 30), None)],
        blocked: vec![BlockedPoint {
            position: 12,
            heads: vec![
                (loc(0, 30), "recv of bytes not sent yet".into()),
                (loc(1, 8), "accept with no pending connection".into()),
            ],
            forced: Some(loc(0, 30)),
        }],
        ..ReplayOutcome::default()
    };
    let found = findings(two_hosts(), outcome);
    assert_eq!(rules_of(&found), ["ordering-incomplete"]);
    assert_eq!(found[0].class, Class::Info);
    assert_eq!(found[0].evidence.len(), 3);
}

#[test]
fn unsupported_calls_are_counted_from_deviations_too() {
    let outcome = ReplayOutcome {
        deviations: vec![
            deviation(
                DeviationKind::Unsupported {
                    what: "ioctl(SIOCGIFCONF)".into(),
                },
                loc(0, 3),
                None,
            ),
            deviation(
                DeviationKind::Unsupported {
                    what: "ioctl(SIOCGIFCONF)".into(),
                },
                loc(0, 4),
                None,
            ),
        ],
        ..ReplayOutcome::default()
    };
    let found = findings(two_hosts(), outcome);
    assert_eq!(rules_of(&found), ["unsupported-call"]);
    assert!(found[0].summary.contains("ioctl(SIOCGIFCONF) ×2"));
    assert_eq!(found[0].evidence.len(), 1);
}

// ---- order -------------------------------------------------------------------------------------

#[test]
fn findings_are_sorted_by_class_then_rule_then_evidence() {
    let outcome = ReplayOutcome {
        deviations: vec![
            deviation(
                DeviationKind::IpVersionMismatch,
                loc(1, 2),
                Some(sock(1, 0)),
            ),
            deviation(
                DeviationKind::AddressInUse { reuseaddr: false },
                loc(1, 1),
                Some(sock(1, 0)),
            ),
            deviation(DeviationKind::ConnectionReset, loc(0, 9), Some(sock(0, 1))),
            deviation(DeviationKind::ConnectionReset, loc(0, 3), Some(sock(0, 0))),
        ],
        unsupported: vec![("x".into(), 1)],
        ..ReplayOutcome::default()
    };
    let found = findings(two_hosts(), outcome);
    let order: Vec<(&str, u64)> = found
        .iter()
        .map(|f| (f.rule, f.evidence.first().map_or(0, |e| e.loc.line)))
        .collect();
    assert_eq!(
        order,
        [
            ("connection-reset", 3),
            ("connection-reset", 9),
            ("address-in-use", 1),
            ("ip-version-mismatch", 2),
            ("unsupported-call", 0),
        ]
    );
}

#[test]
fn evidence_is_capped_and_the_rest_counted() {
    let deviations = (1..=12)
        .map(|line| {
            deviation(
                DeviationKind::UnexpectedBlocking,
                loc(0, line),
                Some(sock(0, 0)),
            )
        })
        .collect();
    let found = findings(
        two_hosts(),
        ReplayOutcome {
            deviations,
            ..ReplayOutcome::default()
        },
    );
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].evidence.len(), netcheck::diagnose::MAX_EVIDENCE);
    assert!(found[0].facts.iter().any(|f| f.starts_with("4 more")));
}

#[test]
fn a_private_server_does_not_make_an_unknown_peer_a_client_nat() {
    let server_behind_nat =
        topology(&[("client", &["198.51.100.1"]), ("server", &["192.168.1.50"])]);
    let outcome = accept_from("203.0.113.9:41000", "192.168.1.50:3005");
    let found = findings(server_behind_nat, outcome);
    assert_eq!(rules_of(&found), ["port-forwarding"]);
    assert!(found[0].hint.contains("nat 192.168.1.50,3005"));
}

#[test]
fn deviations_without_a_rule_are_kept_as_unexplained() {
    let outcome = ReplayOutcome {
        deviations: vec![
            deviation(
                DeviationKind::UnexpectedFailure {
                    errno: Errno::EINVAL,
                },
                loc(0, 4),
                Some(sock(0, 0)),
            ),
            deviation(DeviationKind::ConnectionReset, loc(0, 9), Some(sock(0, 0))),
        ],
        ..ReplayOutcome::default()
    };
    let analysis = Analysis::new(two_hosts(), Vec::new(), Vec::new(), outcome);
    assert_eq!(rules_of(&analysis.findings), ["connection-reset"]);
    assert_eq!(analysis.unexplained, [0]);
    let report = netcheck::report::Report::build(&analysis);
    let left = &report.replay.unexplained_deviations;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].kind, "UnexpectedFailure");
    assert_eq!(left[0].line, 4);
}

#[test]
fn simple_rules_group_one_trace_into_one_finding_naming_each_socket() {
    let outcome = ReplayOutcome {
        deviations: vec![
            deviation(
                DeviationKind::NonblockInherited,
                loc(1, 4),
                Some(sock(1, 1)),
            ),
            deviation(
                DeviationKind::NonblockInherited,
                loc(1, 9),
                Some(sock(1, 3)),
            ),
            deviation(
                DeviationKind::NonblockInherited,
                loc(0, 2),
                Some(sock(0, 0)),
            ),
        ],
        ..ReplayOutcome::default()
    };
    let found = findings(two_hosts(), outcome);
    assert_eq!(found.len(), 2);
    assert!(found[0].summary.starts_with("socket A0 on host client"));
    assert!(found[1]
        .summary
        .starts_with("sockets B1, B3 on host server (trace B)"));
    assert_eq!(found[1].evidence.len(), 2);
}

#[test]
fn the_nat_hint_names_the_private_client_address() {
    let private = topology(&[("client", &["192.168.1.10"]), ("server", &["198.51.100.2"])]);
    let found = findings(private, accept_from("203.0.113.7:5555", "198.51.100.2:80"));
    assert!(
        found[0].hint.contains("nat 192.168.1.10 203.0.113.7"),
        "{}",
        found[0].hint
    );
}

#[test]
fn unaccepted_connects_to_a_listener_with_stranger_accepts_are_the_nat_story() {
    let private = topology(&[("client", &["192.168.1.10"]), ("server", &["198.51.100.2"])]);
    let mut outcome = accept_from("203.0.113.7:5555", "198.51.100.2:80");
    let mut dialled = connection(
        sock(0, 0),
        "192.168.1.10:5555",
        sock(1, 0),
        None,
        "198.51.100.2:80",
        loc(0, 3),
        None,
    );
    dialled.to_server = stream(80, 0, 80, 1, loc(0, 4));
    outcome.tcp.push(dialled);
    let found = findings(private, outcome);
    assert_eq!(rules_of(&found), ["nat-undeclared"]);
    assert!(found[0].evidence.iter().any(|e| e.loc == loc(0, 3)));
    assert!(found[0].facts.iter().any(|f| f.contains("never accepted")));
}

#[test]
fn a_private_client_never_accepted_by_a_server_that_saw_strangers_is_nat() {
    let private = topology(&[("client", &["192.168.1.10"]), ("server", &["198.51.100.2"])]);
    let mut dialled = connection(
        sock(0, 0),
        "192.168.1.10:5555",
        sock(1, 0),
        None,
        "198.51.100.2:80",
        loc(0, 3),
        None,
    );
    dialled.to_server = stream(5, 0, 5, 1, loc(0, 4));
    let outcome = ReplayOutcome {
        tcp: vec![dialled.clone()],
        activity: vec![
            activity(0, 3, 0, &[]),
            activity(1, 4, 0, &["203.0.113.7:5555"]),
        ],
        ..ReplayOutcome::default()
    };
    let found = findings(private.clone(), outcome);
    assert_eq!(rules_of(&found), ["nat-undeclared"], "{found:#?}");
    assert!(found[0].hint.contains("nat 192.168.1.10 203.0.113.7"));
    assert!(found[0].evidence.iter().any(|e| e.loc == loc(0, 3)));
    assert!(found[0].evidence.iter().any(|e| e.loc == loc(1, 2)));
    // Without strangers on the server, it is just an unaccepted connection.
    let outcome = ReplayOutcome {
        tcp: vec![dialled],
        activity: vec![activity(0, 3, 0, &[]), activity(1, 4, 0, &[])],
        ..ReplayOutcome::default()
    };
    assert_eq!(fired(private, outcome), ["connection-not-accepted"]);
}

#[test]
fn port_forwarding_suggests_the_dialled_public_address() {
    let topology = topology(&[("client", &["128.238.1.5"]), ("server", &["192.168.1.50"])]);
    let mut outcome = accept_from("128.238.1.5:40000", "0.0.0.0:3005");
    outcome.activity = vec![
        activity(0, 3, 0, &["96.250.21.150:3001"]),
        activity(1, 4, 0, &["128.238.1.5:40000"]),
    ];
    let found = findings(topology, outcome);
    assert_eq!(rules_of(&found), ["port-forwarding"], "{found:#?}");
    assert!(found[0]
        .hint
        .contains("nat 192.168.1.50,3005 96.250.21.150,3001"));
}

#[test]
fn isolation_needs_traffic_to_strangers() {
    // A refused connect to a traced host is not "talking to nobody".
    let mut outcome = connect_failed(Errno::ECONNREFUSED, false);
    outcome.activity = vec![activity(0, 2, 0, &[]), activity(1, 0, 0, &[])];
    assert_eq!(fired(two_hosts(), outcome), ["connect-refused"]);
}

#[test]
fn pending_connects_to_addresses_of_no_host_are_silent() {
    let outcome = ReplayOutcome {
        pending_connects: vec![pending(sock(0, 0), "198.51.100.80:443", loc(0, 3))],
        ..ReplayOutcome::default()
    };
    assert!(fired(two_hosts(), outcome).is_empty());
}

#[test]
fn a_receiver_that_waited_in_vain_then_closed_still_fits_mtu() {
    let mut c = accepted(3003, 603, 3000);
    c.to_client = stream(2, 2, 2, 1, loc(1, 20));
    c.to_server.closed_by_receiver = true;
    c.wait_timed_out_with_data = true;
    assert_eq!(fired(two_hosts(), tcp(vec![c])), ["mtu-black-hole"]);
}
