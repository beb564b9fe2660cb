//! Checking a lab corpus: its scenario table against its list of known gaps, and each
//! scenario's analysis.

use std::path::{Path, PathBuf};

use crate::cli::table::run_scenario_with_views;
use crate::config::Inputs;
use crate::diagnose::Class;
use crate::pipeline::{run_pipeline, Analysis};

/// The analysis of a scenario directory's `netcheck.conf`; panics naming the directory if it
/// cannot run.
pub fn analyse_scenario(dir: &Path) -> Analysis {
    let inputs = Inputs {
        paths: vec![dir.join("netcheck.conf")],
        one_host: Vec::new(),
    };
    run_pipeline(&inputs).unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
}

/// Whether a scenario's `expected.json` marks it healthy.
pub fn scenario_is_healthy(dir: &Path) -> bool {
    let text = std::fs::read_to_string(dir.join("expected.json")).unwrap_or_default();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    doc["healthy"].as_bool().unwrap_or(false)
}

/// Diagnoses trace texts written to a temporary directory named after `tag` (unique among the
/// tests of a binary): `traces` are (file name, text); `conf` names them in its `trace` lines,
/// or, when empty, the traces are diagnosed without a configuration (topology inferred).
pub fn diagnose_texts(tag: &str, conf: &str, traces: &[(&str, &str)]) -> Analysis {
    let dir = std::env::temp_dir().join(format!("netcheck-{tag}-{}", std::process::id()));
    let write = |name: &str, text: &str| {
        std::fs::create_dir_all(&dir).expect("temporary directory");
        let path = dir.join(name);
        std::fs::write(&path, text).expect("temporary file");
        path
    };
    let mut paths: Vec<PathBuf> = traces
        .iter()
        .map(|(name, text)| write(name, text))
        .collect();
    if !conf.is_empty() {
        paths = vec![write("netcheck.conf", conf)];
    }
    run_pipeline(&Inputs {
        paths,
        one_host: Vec::new(),
    })
    .expect("pipeline runs")
}

/// The rules of `analysis`'s findings that name a problem (every class but information): what a
/// healthy scenario must not have.
pub fn problem_rules(analysis: &Analysis) -> Vec<&'static str> {
    let problems = analysis.findings.iter().filter(|f| f.class != Class::Info);
    problems.map(|f| f.rule).collect()
}

/// Panics naming the trace when one of `analysis`'s traces has a line it could not parse, or
/// a line the accounting misses.
pub fn assert_every_line_read(analysis: &Analysis) {
    for (spec, parse) in analysis.topology.traces.iter().zip(&analysis.parse) {
        assert_eq!(
            parse.unparsed,
            0,
            "{}: unparsed lines {:?}",
            spec.path.display(),
            parse.first_unparsed
        );
        assert_eq!(
            parse.lines,
            parse.accounted_lines(),
            "{}",
            spec.path.display()
        );
    }
}

/// Runs every scenario (and its one-sided views) and returns what disagrees with `known_gaps`
/// (scenario row name, reason): rows that fail without being listed, listed rows that now pass,
/// and listed names that are no row at all.
pub fn rows_against_known_gaps(dirs: &[PathBuf], known_gaps: &[(&str, &str)]) -> Vec<String> {
    let mut unexpected = Vec::new();
    let mut seen = Vec::new();
    for dir in dirs {
        for row in run_scenario_with_views(dir) {
            let gap = known_gaps.iter().find(|(name, _)| *name == row.scenario);
            match (row.passed(), gap) {
                (true, None) | (false, Some(_)) => {}
                (true, Some(_)) => unexpected.push(format!(
                    "{}: now passes; remove it from KNOWN_GAPS",
                    row.scenario
                )),
                (false, None) => unexpected.push(format!("{row:?}")),
            }
            seen.push(row.scenario);
        }
    }
    for (gap, _) in known_gaps {
        if !seen.iter().any(|s| s == gap) {
            unexpected.push(format!(
                "KNOWN_GAPS names {gap}, which is no row of the table"
            ));
        }
    }
    unexpected
}

/// Rules that describe the analysis itself, or the ordinary start and stop of a run; a healthy
/// scenario may still see them.
pub const NOTE_RULES: &[&str] = &[
    "unsupported-call",
    "refused-before-listening",
    "shutdown-order",
    "client-finished",
    "accepted-after-client-left",
    "filtered-trace",
    "injected-results",
    "undecoded-addresses",
];

/// Rules added after most healthy scenarios were recorded: the lab scripts write the list of
/// forbidden rules into expected.json at recording time, so older rows cannot name them. The
/// table still fails a healthy row on any problem finding, these rules' included.
pub const RULES_NEWER_THAN_THE_CORPUS: &[&str] = &[
    "bind-failed",
    "descriptor-exhaustion",
    "connect-to-unspecified",
    "network-stall",
    "admission-limit",
    "unix-connect-failed",
];

/// Bytes of the files under `path` (a file's own size when it is one): what a fixture corpus
/// adds to every clone.
pub fn bytes_under(path: &Path) -> u64 {
    match std::fs::read_dir(path) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|e| bytes_under(&e.path()))
            .sum(),
        Err(_) => std::fs::metadata(path).map_or(0, |m| m.len()),
    }
}

/// The scenario folders of the corpus at `corpus`; panics when there are fewer than `min` (a
/// corpus that lost its fixtures must not pass by checking nothing).
pub fn corpus_scenarios(corpus: &Path, min: usize) -> Vec<PathBuf> {
    let dirs = crate::cli::table::scenarios(corpus)
        .unwrap_or_else(|e| panic!("{}: {e}", corpus.display()));
    assert!(
        dirs.len() >= min,
        "{}: only {} scenarios",
        corpus.display(),
        dirs.len()
    );
    dirs
}

/// Every line of every trace of the corpus is read.
pub fn assert_corpus_read_completely(corpus: &Path, min: usize) {
    for dir in corpus_scenarios(corpus, min) {
        assert_every_line_read(&analyse_scenario(&dir));
    }
}

/// Every healthy scenario of the corpus (a whole scenario listed in `known_gaps` aside) orders
/// its calls without a blocked point and reports no problem.
pub fn assert_healthy_scenarios_find_no_problem(corpus: &Path, known_gaps: &[(&str, &str)]) {
    for dir in corpus_scenarios(corpus, 1) {
        let gap = known_gaps
            .iter()
            .any(|(row, _)| dir.file_name().is_some_and(|n| n == *row));
        if !scenario_is_healthy(&dir) || gap {
            continue;
        }
        let analysis = analyse_scenario(&dir);
        assert!(analysis.outcome.ordered_calls > 0, "{}", dir.display());
        assert!(
            analysis.outcome.blocked.is_empty(),
            "{}: blocked at {:?}",
            dir.display(),
            analysis.outcome.blocked
        );
        let problems = problem_rules(&analysis);
        assert!(problems.is_empty(), "{}: {problems:?}", dir.display());
    }
}

/// Every scenario and view of the corpus meets its expectation, or is listed in `known_gaps`
/// (and still fails).
pub fn assert_rows_meet_expectations(corpus: &Path, known_gaps: &[(&str, &str)]) {
    let dirs = corpus_scenarios(corpus, 1);
    let unexpected = rows_against_known_gaps(&dirs, known_gaps);
    assert!(unexpected.is_empty(), "{}", unexpected.join("\n"));
}
