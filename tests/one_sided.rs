//! What one trace alone, or two traces without a config, still tell (tests/fixtures/one-sided,
//! made by its record.sh and record-gunicorn.sh): a loopback client whose server never answered,
//! a server whose trace never shows its own address, and a server under packet loss.

mod fixture_cli;

use fixture_cli::{diagnose_in, rules};

/// Runs `netcheck diagnose --format json ARGS` in tests/fixtures/one-sided; the exit status
/// must be `status`.
fn diagnose(args: &[&str], status: i32) -> serde_json::Value {
    diagnose_in("one-sided", args, status)
}

#[test]
fn a_loopback_client_alone_whose_request_got_no_answer_says_so() {
    // The client's connect to 127.0.0.1:7393 completed and no traced listener took it: the
    // peer is a program of the same host that no trace shows, and the client's wait in vain
    // (pselect6 timed out, then it exited) is all there is to see.
    let report = diagnose(&["loopback/client.trace"], 1);
    assert_eq!(rules(&report), ["no-reply"], "{:#}", report["findings"]);
    assert_eq!(report["findings"][0]["class"], "ambiguous");
    // With the server traced, its trace shows it read the request: the answer was its choice.
    let both = diagnose(&["loopback/server.trace", "loopback/client.trace"], 1);
    assert_eq!(rules(&both), ["no-reply"], "{:#}", both["findings"]);
    assert_eq!(both["findings"][0]["class"], "application");
}

#[test]
fn a_server_that_never_shows_its_address_is_found_where_its_client_connected() {
    // busybox nc listened on [::]:7394 and its accept showed no peer; bash connected to
    // 10.213.9.2:7394. Without the inferred address the connect went to the outside world and
    // the server's connection came from nowhere.
    let report = diagnose(&["two-hosts/server.trace", "two-hosts/client.trace"], 0);
    assert_eq!(
        rules(&report),
        Vec::<String>::new(),
        "{:#}",
        report["findings"]
    );
    let hosts = report["configuration"]["hosts"].as_array().unwrap();
    assert_eq!(
        hosts[0]["ips"],
        serde_json::json!(["10.213.9.2"]),
        "{hosts:#?}"
    );
    assert_eq!(report["replay"]["blocked_points"], 0);
}

#[test]
fn a_client_alone_whose_connect_never_completed_says_so_without_a_config() {
    // A firewall dropped curl's SYNs; its nonblocking connect to 10.213.9.2:7395 (the address
    // of no host here) never completed and curl gave up after 2 s. The client's trace alone
    // shows it.
    let report = diagnose(&["dropped/client.trace"], 1);
    assert_eq!(
        rules(&report),
        ["connect-never-completed"],
        "{:#}",
        report["findings"]
    );
}

#[test]
fn a_server_that_set_blocking_mode_itself_waits_without_a_portability_trap() {
    // gunicorn alone, its client declared without a trace, 30% of its incoming packets dropped:
    // each worker takes the socket it accepted from its nonblocking listener out of
    // nonblocking mode (`ioctl(FIONBIO, [0])`), and one receive waited 0.2 s for a lost
    // segment (server.trace line 1409). The mode was the program's choice: no
    // `nonblock-inherited`, and nothing else to blame from this side.
    let report = diagnose(&["gunicorn/netcheck.conf"], 0);
    assert_eq!(
        rules(&report),
        Vec::<String>::new(),
        "{:#}",
        report["findings"]
    );
    assert_eq!(report["replay"]["deviations"], 0);
    assert!(
        report["replay"]["ordered_calls"].as_u64().unwrap_or(0) > 100,
        "{:#}",
        report["replay"]
    );
}
