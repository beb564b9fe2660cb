//! Connects to local services' unix-domain sockets (tests/fixtures/unix, recorded by
//! lab/unix.sh): curl --unix-socket, redis-cli -s, a Python client and nginx proxying to a
//! unix-socket back end, with the socket file missing (ENOENT), left behind by a killed server
//! (ECONNREFUSED), closed to the caller (EACCES) or appearing late, and the same programs
//! healthy, each under `netcheck record` and `strace -f -tt -T -yy`.

mod fixture_cli;

use fixture_cli::{diagnose_in, rules};

use netcheck::testkit::table::Corpus;

/// Every row of this corpus meets its expectation.
const KNOWN_GAPS: &[(&str, &str)] = &[];

static CORPUS: Corpus = Corpus {
    name: "unix",
    min_scenarios: 1,
    max_bytes: 1 << 20,
    known_gaps: KNOWN_GAPS,
};

netcheck::corpus_tests!(CORPUS);

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
