//! Less common Linux socket calls through the whole pipeline (tests/fixtures/capi, recorded by
//! lab/capi.sh from lab/programs/capi.c and capi_uring.c): sendmmsg/recvmmsg, recvmsg with
//! MSG_TRUNC, TCP Fast Open, SO_LINGER, connect(AF_UNSPEC), accept4, ppoll, pselect6,
//! epoll_pwait2, MSG_WAITALL, MSG_DONTWAIT, MSG_NOSIGNAL, SIGPIPE, sendfile, splice, dup2/dup3,
//! close_range and io_uring, each healthy or under a real fault, under three strace flag sets.

mod fixture_cli;

use std::path::{Path, PathBuf};

use fixture_cli::{diagnose_in, rules};

use netcheck::cli::table::scenarios;
use netcheck::testkit::table::{
    analyse_scenario, assert_every_line_read, bytes_under, rows_against_known_gaps,
};

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

/// The recordings are kept small: C programs, `-s 128`.
const MAX_CORPUS_BYTES: u64 = 2 * 1024 * 1024;

fn capi() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/capi")
}

#[test]
fn every_capi_trace_parses_completely() {
    let dirs = scenarios(&capi()).expect("capi corpus");
    assert!(dirs.len() >= 60, "only {} scenarios", dirs.len());
    for dir in dirs {
        assert_every_line_read(&analyse_scenario(&dir));
    }
}

#[test]
fn every_capi_scenario_and_view_meets_its_expectation_or_is_a_known_gap() {
    let dirs = scenarios(&capi()).expect("capi corpus");
    let unexpected = rows_against_known_gaps(&dirs, KNOWN_GAPS);
    assert!(unexpected.is_empty(), "{}", unexpected.join("\n"));
}

#[test]
fn the_capi_corpus_stays_small() {
    let total = bytes_under(&capi());
    assert!(
        total <= MAX_CORPUS_BYTES,
        "tests/fixtures/capi holds {total} bytes"
    );
}

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
