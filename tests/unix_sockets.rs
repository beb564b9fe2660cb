//! Connects to local services' unix-domain sockets (tests/fixtures/unix, recorded by
//! lab/unix.sh): curl --unix-socket, redis-cli -s, a Python client and nginx proxying to a
//! unix-socket back end, with the socket file missing (ENOENT), left behind by a killed server
//! (ECONNREFUSED), closed to the caller (EACCES) or appearing late, and the same programs
//! healthy, each under `netcheck record` and `strace -f -tt -T -yy`.

mod fixture_cli;

use std::path::{Path, PathBuf};

use fixture_cli::{diagnose_in, rules};

use netcheck::cli::table::scenarios;
use netcheck::testkit::table::{
    analyse_scenario, assert_every_line_read, bytes_under, rows_against_known_gaps,
};

/// Every row of this corpus meets its expectation.
const KNOWN_GAPS: &[(&str, &str)] = &[];

/// Traces are committed zstd-compressed and cut to `-s 256`.
const MAX_CORPUS_BYTES: u64 = 1024 * 1024;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/unix")
}

#[test]
fn every_unix_socket_trace_parses_completely() {
    let dirs = scenarios(&corpus()).expect("unix corpus");
    assert_eq!(dirs.len(), 22);
    for dir in dirs {
        assert_every_line_read(&analyse_scenario(&dir));
    }
}

#[test]
fn every_unix_socket_scenario_and_view_meets_its_expectation() {
    let dirs = scenarios(&corpus()).expect("unix corpus");
    let unexpected = rows_against_known_gaps(&dirs, KNOWN_GAPS);
    assert!(unexpected.is_empty(), "{}", unexpected.join("\n"));
}

#[test]
fn the_unix_socket_corpus_stays_small() {
    let total = bytes_under(&corpus());
    assert!(
        total <= MAX_CORPUS_BYTES,
        "tests/fixtures/unix holds {total} bytes"
    );
}

/// The errno says what is wrong with the local service, and the summary says it in words.
#[test]
fn each_errno_names_its_cause() {
    for (scenario, errno, words) in [
        (
            "missing-curl--plain",
            "ENOENT",
            "no socket file exists there",
        ),
        (
            "missing-nginx--record",
            "ENOENT",
            "no socket file exists there",
        ),
        (
            "stale-redis--plain",
            "ECONNREFUSED",
            "no program listens on it",
        ),
        ("private-python--record", "EACCES", "may not connect to it"),
    ] {
        let report = diagnose_in(&format!("unix/{scenario}"), &["netcheck.conf"], 1);
        assert_eq!(rules(&report), ["unix-connect-failed"], "{scenario}");
        let finding = &report["findings"][0];
        assert_eq!(finding["class"], "application", "{scenario}");
        let summary = finding["summary"].as_str().unwrap_or_default();
        assert!(
            summary.contains(errno) && summary.contains(words),
            "{summary}"
        );
    }
}

/// A back end that came up while the client retried is a start-up order: information, with
/// the connect that succeeded as evidence.
#[test]
fn a_back_end_that_came_up_late_is_information() {
    let report = diagnose_in("unix/late-python--record", &["netcheck.conf"], 0);
    assert_eq!(rules(&report), ["unix-connect-failed"]);
    let finding = &report["findings"][0];
    assert_eq!(finding["class"], "info");
    let summary = finding["summary"].as_str().unwrap_or_default();
    assert!(summary.contains("later connect succeeded"), "{summary}");
}
