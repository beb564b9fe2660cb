//! Less common Linux socket calls through the whole pipeline (tests/fixtures/capi, recorded by
//! lab/capi.sh from lab/programs/capi.c and capi_uring.c): sendmmsg/recvmmsg, recvmsg with
//! MSG_TRUNC, TCP Fast Open, SO_LINGER, connect(AF_UNSPEC), accept4, ppoll, pselect6,
//! epoll_pwait2, MSG_WAITALL, MSG_DONTWAIT, MSG_NOSIGNAL, SIGPIPE, sendfile, splice, dup2/dup3,
//! close_range and io_uring, each healthy or under a real fault, under three strace flag sets.

mod fixture_cli;

use fixture_cli::{diagnose_in, rules};

use netcheck::testkit::table::Corpus;

/// Scenarios (and one-sided views) whose expectation the diagnosis does not meet yet, each with
/// what netcheck says instead. A row listed here must still fail.
const KNOWN_GAPS: &[(&str, &str)] = &[
    (
        "udp-mmsg-loss--plain @client",
        "reports nothing: with the server unobserved, the datagrams a recvmmsg that timed out never got answers for are not reported",
    ),
    (
        "udp-mmsg-loss--record @client",
        "reports nothing: with the server unobserved, the datagrams a recvmmsg that timed out never got answers for are not reported",
    ),
    (
        "udp-mmsg-loss--ttt @client",
        "reports nothing: with the server unobserved, the datagrams a recvmmsg that timed out never got answers for are not reported",
    ),
];

static CORPUS: Corpus = Corpus {
    name: "capi",
    min_scenarios: 60,
    max_bytes: 2 << 20,
    known_gaps: KNOWN_GAPS,
};

netcheck::corpus_tests!(CORPUS);

#[test]
fn a_program_that_talks_through_io_uring_is_no_forwarded_connection() {
    // The client connected, sent and received through io_uring: its trace shows the ring's
    // set-up (`io_uring_setup(4, {...}) = 3<anon_inode:[io_uring]>`), then only shutdown and
    // close on the socket. The server's accept matches no traced connect, which is no forward.
    for flags in ["plain", "record", "ttt"] {
        let report = diagnose_in(
            &format!("capi/uring-healthy--{flags}"),
            &["netcheck.conf"],
            0,
        );
        assert_eq!(
            rules(&report),
            ["ordering-incomplete", "unsupported-call"],
            "{flags}: {:#}",
            report["findings"]
        );
        let summary = report["findings"][1]["summary"]
            .as_str()
            .unwrap_or_default();
        assert!(summary.contains("io_uring_setup"), "{summary}");
    }
}
