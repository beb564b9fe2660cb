//! Golden reports of real recorded scenarios: the whole pipeline on lab traces, rendered as text
//! and JSON, compared with `tests/golden/lab/`. Run with `UPDATE_GOLDEN=1` to rewrite them after
//! an intended change (and read the diff).

use std::path::{Path, PathBuf};

use netcheck::config::Inputs;
use netcheck::pipeline::run_pipeline;
use netcheck::report::{json, text, Report};

/// A representative set: healthy, NAT, application fault, loss, filtering, MTU.
const SCENARIOS: &[&str] = &[
    "healthy-http",
    "nat-undeclared",
    "send-after-peer-closed",
    "udp-partial-loss",
    "firewall-drop",
    "mtu-black-hole-udp",
];

fn golden(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/lab")
        .join(name)
}

fn check(name: &str, actual: &str) {
    let path = golden(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().expect("golden folder")).expect("golden folder");
        std::fs::write(&path, actual).expect("golden file written");
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_GOLDEN=1)", path.display()));
    assert!(
        expected == actual,
        "{name} differs from its golden file; run with UPDATE_GOLDEN=1 if intended.\n--- \
         expected\n{expected}\n--- actual\n{actual}"
    );
}

#[test]
fn lab_reports_match_their_golden_files() {
    for scenario in SCENARIOS {
        // A relative path, so the report names files the same way on every machine.
        let config = PathBuf::from(format!("tests/fixtures/lab/{scenario}/netcheck.conf"));
        let analysis = run_pipeline(&Inputs {
            paths: vec![config],
            one_host: Vec::new(),
        })
        .unwrap_or_else(|e| panic!("{scenario}: {e}"));
        let report = Report::build(&analysis);
        check(
            &format!("{scenario}.txt"),
            &text::render(&report, text::Style { color: false }),
        );
        check(&format!("{scenario}.json"), &json::render(&report));
    }
}
