//! RPC and messaging programs (tests/fixtures/rpc, recorded by lab/rpc.sh from
//! lab/programs/rpc_probe.py): ZeroMQ REQ/REP and PUSH/PULL (python3-zmq: a background I/O
//! thread that connects, retries refused connects with backoff and wakes the program's thread
//! through an eventfd), gRPC unary calls (python3-grpcio: HTTP/2, deadlines, keepalive pings)
//! and stunnel4, a TLS tunnel in front of a plain TCP service (two connections per client),
//! healthy and under real faults (firewall drops and resets, random loss, a server killed by
//! SIGKILL, a server started late, a backend down), under `netcheck record`, `strace -f -tt -T
//! -yy` and `strace -ff -ttt`, each in the full view and in the one-sided views.

use std::path::{Path, PathBuf};

use netcheck::cli::table::scenarios;
use netcheck::testkit::table::{
    analyse_scenario, assert_every_line_read, rows_against_known_gaps, scenario_is_healthy,
};

/// Rows whose expectation the diagnosis does not meet yet, each with what netcheck says instead.
/// A row listed here must still fail: fixing one means removing it from this list.
const KNOWN_GAPS: &[(&str, &str)] = &[
    (
        "grpc-killed--plain",
        "reports send-after-peer-closed: the client's RST_STREAM crossed the death of the server \
         (killed by SIGKILL after reading the call), which is the counterpart; the call the \
         server read and never answered is not reported as no-reply",
    ),
    (
        "grpc-killed--plain @client",
        "reports nothing: an end of stream from the killed server's kernel right after the call, \
         with no answer, is not taken for a request in vain",
    ),
];

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rpc")
}

#[test]
fn every_rpc_trace_parses_completely() {
    let dirs = scenarios(&corpus()).expect("rpc corpus");
    assert!(dirs.len() >= 25, "only {} scenarios", dirs.len());
    for dir in dirs {
        assert_every_line_read(&analyse_scenario(&dir));
    }
}

#[test]
fn healthy_rpc_scenarios_order_without_deviation() {
    for dir in scenarios(&corpus()).expect("rpc corpus") {
        if !scenario_is_healthy(&dir) {
            continue;
        }
        let outcome = analyse_scenario(&dir).outcome;
        assert!(outcome.ordered_calls > 0, "{}", dir.display());
        assert!(
            outcome.blocked.is_empty(),
            "{}: blocked at {:?}",
            dir.display(),
            outcome.blocked
        );
    }
}

#[test]
fn every_rpc_scenario_and_view_meets_its_expectation_or_is_a_known_gap() {
    let dirs = scenarios(&corpus()).expect("rpc corpus");
    let unexpected = rows_against_known_gaps(&dirs, KNOWN_GAPS);
    assert!(unexpected.is_empty(), "{}", unexpected.join("\n"));
}

/// ZeroMQ retries a refused connect with backoff (15 refusals in 3 s in zmq-refused--plain):
/// one finding for the one service, not one per attempt.
#[test]
fn a_zeromq_reconnect_loop_is_one_refused_service() {
    for flags in ["plain", "record"] {
        let dir = corpus().join(format!("zmq-refused--{flags}"));
        let findings = analyse_scenario(&dir).findings;
        let refused: Vec<_> = findings
            .iter()
            .filter(|f| f.rule == "connect-refused")
            .collect();
        assert_eq!(refused.len(), 1, "{flags}: {findings:#?}");
        assert!(refused[0].evidence.len() > 1, "{flags}: {:#?}", refused[0]);
    }
}

/// The fixtures stay small: traces are committed zstd-compressed (a `-ff` set plain).
#[test]
fn the_rpc_corpus_stays_under_four_megabytes() {
    fn size(path: &Path) -> u64 {
        match std::fs::read_dir(path) {
            Ok(entries) => entries
                .filter_map(Result::ok)
                .map(|e| size(&e.path()))
                .sum(),
            Err(_) => std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
        }
    }
    let total = size(&corpus());
    assert!(total < 4 << 20, "tests/fixtures/rpc holds {total} bytes");
}
