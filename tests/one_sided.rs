//! One-sided views of real recordings: only one host's traces, every other declared host
//! unobserved. What that side alone proves is reported; nothing only the other side could show.

use std::path::Path;

use netcheck::config::{self, Inputs};
use netcheck::pipeline::analyse;

/// The rules reported when only `host` of lab scenario `scenario` is traced.
fn seen_only_from(scenario: &str, host: &str) -> Vec<&'static str> {
    let conf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/lab")
        .join(scenario)
        .join("netcheck.conf");
    let topology = config::load(&Inputs {
        paths: vec![conf],
        one_host: Vec::new(),
    })
    .expect("lab config");
    let view = topology.seen_only_from(host).expect("a traced host");
    assert!(view.hosts.iter().any(|h| h.traces.is_empty()));
    let analysis = analyse(view).expect("lab traces");
    analysis.findings.iter().map(|f| f.rule).collect()
}

#[test]
fn a_healthy_exchange_looks_healthy_from_either_side() {
    for host in ["client", "server"] {
        // curl against nginx; the python UDP echo.
        for scenario in ["healthy-http--curl--nginx--record", "healthy-udp"] {
            assert_eq!(
                seen_only_from(scenario, host),
                Vec::<&str>::new(),
                "{scenario} @{host}"
            );
        }
    }
}

#[test]
fn a_request_without_answer_is_reported_from_the_client_alone() {
    // curl's request is dropped by a firewall after the handshake; curl gives up.
    assert_eq!(
        seen_only_from("tcp-data-dropped--curl--socat--record", "client"),
        ["no-reply"]
    );
    // Python's UDP requests to a firewalled port: every wait times out.
    assert_eq!(seen_only_from("udp-all-lost", "client"), ["no-reply"]);
}

#[test]
fn round_trip_loss_is_measured_from_the_client_alone() {
    let found = seen_only_from("udp-partial-loss", "client");
    assert_eq!(found, ["udp-loss"]);
}

#[test]
fn a_refusal_and_a_reset_need_no_peer_trace() {
    assert_eq!(
        seen_only_from("connect-refused", "client"),
        ["connect-refused"]
    );
    assert!(
        seen_only_from("reset-unread--curl--python--record", "client")
            .contains(&"connection-reset")
    );
}

#[test]
fn strangers_instead_of_the_declared_client_point_at_a_nat() {
    assert_eq!(
        seen_only_from("nat-undeclared", "server"),
        ["nat-undeclared"]
    );
    // The declared NAT: nothing to report from the server's side.
    assert_eq!(seen_only_from("nat-declared", "server"), Vec::<&str>::new());
}
