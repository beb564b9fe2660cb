//! Traces recorded with strace filters that hide how sockets are made and how connects end
//! (tests/fixtures/filters, recorded by lab/filters.sh): `-e trace=connect`, a hand-made list
//! of network calls without `socket`, a server's accepts and transfers only, and `-Z` (failed
//! calls only); clients curl, wget, busybox wget and a Python client, servers Python's
//! http.server and busybox httpd; nothing listening, a REJECT with host-unreachable, a DROP, and
//! healthy runs, in the full view and in the one-sided views.

use netcheck::diagnose::Class;
use netcheck::testkit::table::Corpus;

/// Rows whose expectation the diagnosis does not meet yet, each with what netcheck says instead.
/// A row listed here must still fail: fixing one means removing it from this list.
const KNOWN_GAPS: &[(&str, &str)] = &[];

static CORPUS: Corpus = Corpus {
    name: "filters",
    min_scenarios: 15,
    max_bytes: 1 << 20,
    known_gaps: KNOWN_GAPS,
};

netcheck::corpus_tests!(CORPUS);

/// A connect that failed on a descriptor the trace never showed created is still the
/// program's connect: refused by nothing listening (the Python client's blocking connect under
/// `-e trace=connect`, wget's and busybox wget's under `-Z`, curl's SO_ERROR under a list
/// without `socket`), turned away by an ICMP host-unreachable.
#[test]
fn failed_connects_on_sockets_whose_creation_was_filtered_out_are_reported() {
    for (scenario, rule, class) in [
        (
            "refused-python--conn",
            "connect-refused",
            Class::Application,
        ),
        ("refused-wget--Z", "connect-refused", Class::Application),
        ("refused-busybox--Z", "connect-refused", Class::Application),
        ("refused-curl--cio", "connect-refused", Class::Application),
        ("unreach-python--conn", "connect-filtered", Class::Network),
        ("unreach-curl--cio", "connect-filtered", Class::Network),
    ] {
        let analysis = CORPUS.analyse(scenario);
        let finding = analysis
            .findings
            .iter()
            .find(|f| f.rule == rule)
            .unwrap_or_else(|| panic!("{scenario}: no {rule}: {:#?}", analysis.findings));
        assert_eq!(finding.class, class, "{scenario}");
        assert!(
            finding.evidence[0].loc.line > 0,
            "{scenario}: evidence names the connect's line"
        );
    }
}

/// Under `-e trace=connect` nothing shows how curl's nonblocking connect ended, refused or
/// dropped: the report says the filter hid it rather than guessing a firewall.
#[test]
fn a_connect_whose_end_was_filtered_out_is_not_blamed_on_the_network() {
    for scenario in ["refused-curl--conn", "drop-curl--conn", "drop-python--Z"] {
        let analysis = CORPUS.analyse(scenario);
        let rules: Vec<_> = analysis.findings.iter().map(|f| f.rule).collect();
        assert_eq!(rules, ["filtered-trace"], "{scenario}");
        assert!(analysis.findings[0]
            .evidence
            .iter()
            .any(|e| e.note.contains("the filter hid how it ended")));
    }
}
