//! Clients that resolve a server's name to several addresses and fall back from one to the
//! next, through the whole pipeline (tests/fixtures/multi, recorded by lab/multi.sh): curl's
//! Happy Eyeballs, wget's addresses in turn, Python's socket.create_connection, Go's
//! net.Dialer and Node.js's autoSelectFamily, healthy and with the first address dropped,
//! refused or unroutable, or every address dead, under three strace flag sets.

use netcheck::testkit::rules::{recorded, recorded_view};
use netcheck::testkit::table::Corpus;

/// Scenarios (and one-sided views) whose expectation the diagnosis does not meet yet, each with
/// what netcheck says instead. A row listed here must still fail.
const KNOWN_GAPS: &[(&str, &str)] = &[];

static CORPUS: Corpus = Corpus {
    name: "multi",
    min_scenarios: 100,
    max_bytes: 3 << 20,
    known_gaps: KNOWN_GAPS,
};

netcheck::corpus_tests!(CORPUS);

const CLIENTS: [&str; 5] = ["curl", "wget", "python", "go", "node"];
const FLAGS: [&str; 3] = ["record", "plain", "ttt"];

/// Every client that fell back after a dead first address says so, in the full view and the
/// client's: the finding names the address it went on to (the program recovered), and carries
/// that connect as evidence. Every address dead is no recovery.
#[test]
fn a_dead_first_address_is_reported_with_the_address_the_program_fell_back_to() {
    // Go orders a unique local IPv6 address (fd7d::1 of v6-hostunreach) after IPv4 (RFC
    // 6724): it never tries it.
    let cases = [
        ("v6-drop", "10.96.0.1:8081", &CLIENTS[..]),
        ("v6-refused", "10.96.0.1:8082", &CLIENTS[..]),
        ("v4-first-drop", "10.96.0.1:8085", &CLIENTS[..]),
        (
            "v6-hostunreach",
            "10.96.0.1:8087",
            &["curl", "wget", "python", "node"][..],
        ),
    ];
    for (case, fallback, clients) in cases {
        for &client in clients {
            for flags in FLAGS {
                let name = format!("{case}--{client}--{flags}");
                let full = recorded("multi", &name);
                let view = recorded_view("multi", &name, "client");
                for (label, analysis) in [("full", full), ("@client", view)] {
                    let fell_back = analysis.findings.iter().any(|f| {
                        f.facts.iter().any(|fact| {
                            fact.contains(&format!("the program then connected to {fallback}"))
                        }) && f
                            .evidence
                            .iter()
                            .any(|e| e.note == format!("connected to {fallback} instead"))
                    });
                    assert!(fell_back, "{name} {label}: {:#?}", analysis.findings);
                }
            }
        }
    }
    for client in CLIENTS {
        for flags in FLAGS {
            for case in ["all-drop", "all-refused"] {
                let name = format!("{case}--{client}--{flags}");
                let analysis = recorded("multi", &name);
                assert!(
                    !analysis
                        .findings
                        .iter()
                        .flat_map(|f| &f.facts)
                        .any(|fact| fact.contains("fell back")),
                    "{name}: {:#?}",
                    analysis.findings
                );
            }
        }
    }
}

/// A timed-out connect to an address a traced dual-stack server listened on throughout names
/// that listener: the server was there, the path dropped the SYNs. The replay alone places the
/// failed connect before the listen and would say nothing listened.
#[test]
fn a_timed_out_connect_to_a_listening_server_names_the_listener() {
    for name in [
        "v4-first-drop--python--plain",
        "v4-first-drop--python--record",
        "v6-drop--python--plain",
        "v4-first-drop--curl--plain",
        "v4-first-drop--go--plain",
    ] {
        let analysis = recorded("multi", name);
        let named = analysis
            .findings
            .iter()
            .filter(|f| f.rule == "connect-filtered")
            .any(|f| {
                f.facts
                    .iter()
                    .any(|fact| fact.contains("the server was there, so the path is what failed"))
            });
        assert!(named, "{name}: {:#?}", analysis.findings);
    }
}
