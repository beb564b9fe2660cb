//! Servers killed (SIGKILL) after reading a request they never answered, and the same programs
//! healthy (tests/fixtures/killed, recorded by lab/killed.sh): redis-cli and redis-server, curl
//! and a Python server, a node client and a Perl server, each under `netcheck record` and
//! `strace -f -tt -T -yy`. The client reads the end of the stream the dead server's kernel sent.

mod fixture_cli;

use fixture_cli::{diagnose_in, rules};

use netcheck::testkit::table::Corpus;

/// Every row of this corpus meets its expectation.
const KNOWN_GAPS: &[(&str, &str)] = &[];

static CORPUS: Corpus = Corpus {
    name: "killed",
    min_scenarios: 12,
    max_bytes: 1 << 20,
    known_gaps: KNOWN_GAPS,
};

netcheck::corpus_tests!(CORPUS);

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
