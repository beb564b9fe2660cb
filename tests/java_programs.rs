//! Java programs (OpenJDK 17: java.net.Socket, NIO channels and selectors, java.net.http,
//! HttpURLConnection, DatagramSocket and DatagramChannel, ServerSocket, com.sun.net.httpserver)
//! recorded by `lab/java.sh` under several strace flag sets, healthy and with real faults:
//! every trace parses completely, healthy runs order without a deviation, and every scenario's
//! `expected.json`, with its one-sided views, holds.

use netcheck::testkit::table::Corpus;

/// Rows whose expectation the diagnosis does not meet yet, each with what netcheck says instead.
/// A row listed here must still fail: fixing one means removing it from this list.
const KNOWN_GAPS: &[(&str, &str)] = &[(
    "server-killed--jidle--jthread--record",
    "reports data-unreceived-poll-missed: the killed server's read that never returned goes \
         after everything else that can go, so the client's later write is placed before the \
         death that closed the connection",
)];

static CORPUS: Corpus = Corpus {
    name: "java",
    min_scenarios: 30,
    max_bytes: 4 << 20,
    known_gaps: KNOWN_GAPS,
};

netcheck::corpus_tests!(CORPUS);
