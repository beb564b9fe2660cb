//! The application corpus (`lab/apps.sh`: PostgreSQL, HAProxy, memcached, unbound, etcd, chrony,
//! telnet, Node.js and Go services) through the whole pipeline: every config names its traces,
//! every trace parses completely, and every scenario's `expected.json` holds. Scenarios whose
//! fault needs a rule netcheck does not have yet live under `tests/fixtures/apps-pending/` and
//! name that planned rule.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use netcheck::cli::table::{render_markdown, run_scenario_with_views, scenarios};
use netcheck::config::Inputs;
use netcheck::pipeline::run_pipeline;
use netcheck::testkit::table::{rows_against_known_gaps, NOTE_RULES, RULES_NEWER_THAN_THE_CORPUS};

/// Scenarios whose expectation the diagnosis does not meet yet, each with what netcheck said
/// instead. A scenario listed here must still fail: fixing one means removing it from this list.
const KNOWN_GAPS: &[(&str, &str)] = &[
    (
        "etcd-healthy @e3",
        "healthy from this side, but reports connect-refused, connection-reset, send-after-peer-closed",
    ),
    (
        "maria-replication-healthy @server",
        "the replica is stopped first; seen from the primary alone, the EPIPE of the last packet it writes while stopping is send-after-peer-closed (the replica's stop is not in this trace, and mariadbd takes its own SIGTERM through rt_sigtimedwait, which `netcheck record` does not trace)",
    ),
    (
        "mqtt-subscriber-done @broker",
        "mosquitto_sub -C 1 sends DISCONNECT, closes and exits 0; seen from the broker alone, its next message's EPIPE is send-after-peer-closed (the client's exit is not in this trace)",
    ),
];

/// Traces (relative to `tests/fixtures/`) that still hold lines the parser cannot read, each with
/// the form it stumbles on. Listed traces must still have some; every other trace has none.
const KNOWN_UNPARSED: &[(&str, &str)] = &[];

/// Rules a pending scenario may name: planned, not in the registry yet, or in it but without the
/// form the scenario needs. A new recording that needs a form of these rules the registry lacks
/// goes to `tests/fixtures/apps-pending/`. Pending now: none.
const PLANNED_RULES: &[&str] = &["admission-limit", "no-reply"];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn apps() -> Vec<PathBuf> {
    scenarios(&fixtures().join("apps")).expect("tests/fixtures/apps")
}

fn pending() -> Vec<PathBuf> {
    scenarios(&fixtures().join("apps-pending")).unwrap_or_default()
}

fn name(dir: &Path) -> &str {
    dir.file_name().and_then(|n| n.to_str()).unwrap_or("?")
}

/// The trace files a config names, resolved against the config's folder.
fn traces_named_in(conf: &Path) -> Vec<PathBuf> {
    let text = fs::read_to_string(conf).expect("config readable");
    let folder = conf.parent().expect("config has a folder");
    text.lines()
        .filter_map(
            |line| match line.split_whitespace().collect::<Vec<_>>()[..] {
                [word, file] if word.eq_ignore_ascii_case("trace") => Some(folder.join(file)),
                _ => None,
            },
        )
        .collect()
}

fn rule_list(doc: &serde_json::Value, key: &str, scenario: &str) -> Vec<String> {
    doc[key]
        .as_array()
        .unwrap_or_else(|| panic!("{scenario}: `{key}` is not a list"))
        .iter()
        .map(|id| id.as_str().expect("rule id string").to_string())
        .collect()
}

#[test]
fn every_config_names_exactly_the_traces_of_its_folder() {
    let dirs: Vec<PathBuf> = apps().into_iter().chain(pending()).collect();
    assert!(dirs.len() >= 10, "only {} scenarios", dirs.len());
    for dir in dirs {
        let named: BTreeSet<PathBuf> = traces_named_in(&dir.join("netcheck.conf"))
            .into_iter()
            .collect();
        assert!(
            !named.is_empty(),
            "{}: config names no trace",
            dir.display()
        );
        for trace in &named {
            assert!(
                trace.is_file(),
                "{}: {} missing",
                dir.display(),
                trace.display()
            );
        }
        for entry in fs::read_dir(&dir).expect("readable").flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "trace") {
                assert!(
                    named.contains(&path),
                    "{} not in the config",
                    path.display()
                );
            }
        }
    }
}

#[test]
fn expected_json_is_complete_and_names_known_or_planned_rules() {
    let known: BTreeSet<&str> = netcheck::diagnose::registry::RULES
        .iter()
        .map(|rule| rule.id)
        .collect();
    let dirs = apps().into_iter().map(|d| (d, false));
    for (dir, is_pending) in dirs.chain(pending().into_iter().map(|d| (d, true))) {
        let scenario = name(&dir).to_string();
        let text = fs::read_to_string(dir.join("expected.json")).expect("expected.json");
        let doc: serde_json::Value = serde_json::from_str(&text).expect("expected.json is JSON");
        assert_eq!(doc["scenario"].as_str(), Some(scenario.as_str()));
        for field in ["description", "app"] {
            assert!(
                doc[field].as_str().is_some_and(|v| !v.is_empty()),
                "{scenario}: {field}"
            );
        }
        assert!(
            matches!(doc["flags"].as_str(), Some("record" | "plain" | "network")),
            "{scenario}: flags must be record, plain or network"
        );
        let healthy = doc["healthy"].as_bool().expect("healthy is a bool");
        let must = rule_list(&doc, "must_report", &scenario);
        let must_not = rule_list(&doc, "must_not_report", &scenario);
        for id in &must_not {
            assert!(known.contains(id.as_str()), "{scenario}: unknown rule {id}");
        }
        for id in &must {
            let planned = PLANNED_RULES.contains(&id.as_str());
            let known = known.contains(id.as_str());
            assert!(
                known || planned,
                "{scenario}: {id} is neither a rule nor a planned one"
            );
            if is_pending {
                assert!(
                    planned,
                    "{scenario}: {id}: a pending scenario waits for a planned rule or form"
                );
            } else {
                assert!(
                    known,
                    "{scenario}: {id}: planned rules belong in apps-pending"
                );
            }
        }
        if healthy {
            assert!(!is_pending && must.is_empty(), "{scenario}: healthy");
            let forbidden = known
                .iter()
                .filter(|id| !NOTE_RULES.contains(id) && !RULES_NEWER_THAN_THE_CORPUS.contains(id));
            for id in forbidden {
                assert!(
                    must_not.iter().any(|m| m == id),
                    "{scenario}: {id} not forbidden"
                );
            }
        } else {
            assert!(
                !must.is_empty(),
                "{scenario}: a fault must expect a finding"
            );
        }
    }
}

#[test]
fn every_trace_parses_completely_but_the_known_ones() {
    let mut unexpected = Vec::new();
    for dir in apps().into_iter().chain(pending()) {
        let analysis = run_pipeline(&Inputs {
            paths: vec![dir.join("netcheck.conf")],
            one_host: Vec::new(),
        })
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for (spec, parse) in analysis.topology.traces.iter().zip(&analysis.parse) {
            let relative = spec
                .path
                .strip_prefix(fixtures())
                .unwrap_or(&spec.path)
                .to_string_lossy()
                .into_owned();
            let known = KNOWN_UNPARSED.iter().any(|(path, _)| *path == relative);
            assert!(parse.calls > 0, "{relative}: no call");
            match (parse.unparsed, known) {
                (0, false) => {}
                (0, true) => unexpected.push(format!(
                    "{relative}: parses now; remove it from KNOWN_UNPARSED"
                )),
                (_, true) => {}
                (n, false) => unexpected.push(format!(
                    "{relative}: {n} unparsed lines, first {:?}",
                    parse.first_unparsed
                )),
            }
        }
    }
    assert!(unexpected.is_empty(), "{}", unexpected.join("\n"));
}

#[test]
fn every_scenario_meets_its_expectations_but_the_known_gaps() {
    let unexpected = rows_against_known_gaps(&apps(), KNOWN_GAPS);
    assert!(unexpected.is_empty(), "{}", unexpected.join("\n"));
}

/// `docs/apps-table.md` is `netcheck diagnose --table tests/fixtures/apps` under a short header;
/// `UPDATE_GOLDEN=1` rewrites it.
#[test]
fn the_documented_apps_table_is_current() {
    let rows: Vec<_> = apps()
        .iter()
        .flat_map(|dir| run_scenario_with_views(dir))
        .collect();
    let table = render_markdown(&rows);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/apps-table.md");
    let document = fs::read_to_string(&path).unwrap_or_default();
    let header_end = document.find("| Scenario |").unwrap_or(document.len());
    let expected = format!("{}{table}", &document[..header_end]);
    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1") {
        fs::write(&path, &expected).expect("docs/apps-table.md written");
        return;
    }
    assert!(
        document == expected,
        "docs/apps-table.md is out of date: run `UPDATE_GOLDEN=1 cargo test --test apps_diagnosis`"
    );
}

/// Findings read as sentences: no run of spaces inside a summary, hint or fact (a string
/// continued on the next source line without its backslash leaves one).
#[test]
fn finding_texts_have_no_runs_of_spaces() {
    for dir in apps() {
        let inputs = Inputs {
            paths: vec![dir.join("netcheck.conf")],
            one_host: Vec::new(),
        };
        let analysis = run_pipeline(&inputs).expect("the scenario runs");
        for f in &analysis.findings {
            for text in std::iter::once(&f.summary)
                .chain(std::iter::once(&f.hint))
                .chain(&f.facts)
            {
                assert!(!text.contains("  "), "{}: {}: {text:?}", name(&dir), f.rule);
            }
        }
    }
}
