//! Servers killed (SIGKILL) after reading a request they never answered, and the same programs
//! healthy (tests/fixtures/killed, recorded by lab/killed.sh): redis-cli and redis-server, curl
//! and a Python server, a node client and a Perl server, each under `netcheck record` and
//! `strace -f -tt -T -yy`. The client reads the end of the stream the dead server's kernel sent.

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
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/killed")
}

#[test]
fn every_killed_peer_trace_parses_completely() {
    let dirs = scenarios(&corpus()).expect("killed corpus");
    assert_eq!(dirs.len(), 12);
    for dir in dirs {
        assert_every_line_read(&analyse_scenario(&dir));
    }
}

#[test]
fn every_killed_peer_scenario_and_view_meets_its_expectation() {
    let dirs = scenarios(&corpus()).expect("killed corpus");
    let unexpected = rows_against_known_gaps(&dirs, KNOWN_GAPS);
    assert!(unexpected.is_empty(), "{}", unexpected.join("\n"));
}

#[test]
fn the_killed_peer_corpus_stays_small() {
    let total = bytes_under(&corpus());
    assert!(
        total <= MAX_CORPUS_BYTES,
        "tests/fixtures/killed holds {total} bytes"
    );
}

/// With both traces the finding is the application's and shows the server's death as the
/// close; from the client alone it still is (only the peer's system closes its end in order).
#[test]
fn a_server_killed_mid_request_is_the_applications_from_either_side() {
    for programs in ["redis", "curl-python", "node-perl"] {
        let scenario = format!("killed/killed--{programs}--plain");
        let both = diagnose_in(&scenario, &["netcheck.conf"], 1);
        assert_eq!(rules(&both), ["no-reply"], "{programs}: {both:#}");
        let finding = &both["findings"][0];
        assert_eq!(finding["class"], "application", "{programs}");
        let killed = finding["evidence"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|e| {
                e["call"]
                    .as_str()
                    .is_some_and(|t| t.contains("killed by SIGKILL"))
            });
        assert!(killed, "{programs}: {:#}", finding["evidence"]);
    }
}
