//! RPC and messaging programs (tests/fixtures/rpc, recorded by lab/rpc.sh from
//! lab/programs/rpc_probe.py): ZeroMQ REQ/REP and PUSH/PULL (python3-zmq: a background I/O
//! thread that connects, retries refused connects with backoff and wakes the program's thread
//! through an eventfd), gRPC unary calls (python3-grpcio: HTTP/2, deadlines, keepalive pings)
//! and stunnel4, a TLS tunnel in front of a plain TCP service (two connections per client),
//! healthy and under real faults (firewall drops and resets, random loss, a server killed by
//! SIGKILL, a server started late, a backend down), under `netcheck record`, `strace -f -tt -T
//! -yy` and `strace -ff -ttt`, each in the full view and in the one-sided views.

use netcheck::testkit::table::{analyse_scenario, Corpus};

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

static CORPUS: Corpus = Corpus {
    name: "rpc",
    min_scenarios: 25,
    max_bytes: 4 << 20,
    known_gaps: KNOWN_GAPS,
};

netcheck::corpus_tests!(CORPUS);

/// ZeroMQ retries a refused connect with backoff (15 refusals in 3 s in zmq-refused--plain):
/// one finding for the one service, not one per attempt.
#[test]
fn a_zeromq_reconnect_loop_is_one_refused_service() {
    for flags in ["plain", "record"] {
        let dir = CORPUS.path().join(format!("zmq-refused--{flags}"));
        let findings = analyse_scenario(&dir).findings;
        let refused: Vec<_> = findings
            .iter()
            .filter(|f| f.rule == "connect-refused")
            .collect();
        assert_eq!(refused.len(), 1, "{flags}: {findings:#?}");
        assert!(refused[0].evidence.len() > 1, "{flags}: {:#?}", refused[0]);
    }
}
