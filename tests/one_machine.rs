//! Programs of one machine traced each on its own and diagnosed without a config: the traces
//! that talk over loopback are one host (tests/fixtures/loopback, made by its record.sh:
//! redis-server and two redis-cli runs, `strace -ff -tt`, with untraced `redis-cli ping` probes
//! beside them).

mod fixture_cli;

use fixture_cli::{diagnose_in, rules};

#[test]
fn traces_talking_over_loopback_are_one_host_and_a_healthy_run() {
    let report = diagnose_in("loopback", &["server", "set", "get"], 0);
    let hosts = report["configuration"]["hosts"].as_array().unwrap();
    assert_eq!(hosts.len(), 1, "{hosts:#?}");
    assert_eq!(hosts[0]["traces"].as_array().map(Vec::len), Some(3));
    assert_eq!(
        report["findings"].as_array().map(Vec::len),
        Some(0),
        "{:#}",
        report["findings"]
    );
    assert_eq!(report["replay"]["blocked_points"], 0);
}

/// Runs `netcheck diagnose --format json ARGS` in tests/fixtures/one-machine (made by its
/// record.sh: socat answering one line on loopback, bash's /dev/tcp as a blocking client).
fn diagnose_one_machine(args: &[&str]) -> serde_json::Value {
    diagnose_in("one-machine", args, 0)
}

#[test]
fn two_stanzas_declaring_one_address_are_one_machine_and_its_loopback_connects_them() {
    // `netcheck record --host server` and `--host client` on one machine: both stanzas list
    // the machine's addresses, and the client's loopback connect reaches the traced server.
    let report = diagnose_one_machine(&["netcheck.conf"]);
    assert_eq!(rules(&report), Vec::<String>::new());
    let tcp = report["statistics"]["tcp"].as_array().unwrap();
    assert_eq!(tcp.len(), 1, "{tcp:#?}");
    assert_eq!(tcp[0]["client_host"], "client");
    assert_eq!(tcp[0]["connections"], 1);
    assert_eq!(tcp[0]["states"]["closed_normally"], 1, "{:#}", tcp[0]);
    assert_eq!(report["replay"]["deviations"], 0);
}

#[test]
fn a_blocking_loopback_connect_that_succeeded_is_complete_without_the_listener_traced() {
    // The client alone: its connect returned 0, so whatever listened was a process no trace
    // shows; the connect is not one that never completed.
    for client in ["client.trace", "n/client.trace"] {
        let report = diagnose_one_machine(&[client]);
        assert_eq!(rules(&report), Vec::<String>::new(), "{client}");
        assert_eq!(report["replay"]["blocked_points"], 0, "{client}");
    }
}

#[test]
fn traces_with_call_numbers_before_each_call_are_read() {
    // `strace -f -n -ttt -T -yy`: `[  42] connect(...)` after the pid and the time.
    let report = diagnose_one_machine(&["n/server.trace", "n/client.trace"]);
    for trace in report["traces"].as_array().unwrap() {
        assert_eq!(trace["unparsed"], 0, "{trace:#}");
        assert!(
            trace["socket_events"].as_u64().unwrap_or(0) >= 10,
            "{trace:#}"
        );
    }
    assert_eq!(rules(&report), Vec::<String>::new());
    let tcp = report["statistics"]["tcp"].as_array().unwrap();
    assert_eq!(tcp.len(), 1, "{tcp:#?}");
}

#[test]
fn a_trace_printed_as_calls_return_is_read_in_the_order_the_calls_acted() {
    // Both programs under one `strace -f -tt -z -yy`: each line is printed when its call
    // returns. The client's read of "pong" is printed before the server's write of it.
    let report = diagnose_one_machine(&["z/pair.trace"]);
    assert_eq!(
        rules(&report),
        Vec::<String>::new(),
        "{:#}",
        report["findings"]
    );
    assert_eq!(report["replay"]["blocked_points"], 0);
    assert_eq!(report["replay"]["deviations"], 0);
    let tcp = report["statistics"]["tcp"].as_array().unwrap();
    assert_eq!(tcp.len(), 1, "{tcp:#?}");
}
