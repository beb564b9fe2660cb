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

/// A lab corpus under `tests/fixtures/` and what its checks allow: the fewest scenarios it may
/// hold (a corpus that lost its fixtures must not pass by checking nothing), the most bytes it
/// may add to every clone, and the rows the diagnosis does not meet yet (each with what netcheck
/// says instead; a listed row must still fail).
pub struct Corpus {
    pub name: &'static str,
    pub min_scenarios: usize,
    pub max_bytes: u64,
    pub known_gaps: &'static [(&'static str, &'static str)],
}

impl Corpus {
    pub fn path(&self) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(self.name)
    }

    /// The analysis of one scenario of the corpus, as `netcheck diagnose` makes it.
    pub fn analyse(&self, scenario: &str) -> Analysis {
        analyse_scenario(&self.path().join(scenario))
    }

    /// The rule of every finding of one scenario, in report order.
    pub fn rules_of(&self, scenario: &str) -> Vec<&'static str> {
        self.analyse(scenario)
            .findings
            .iter()
            .map(|f| f.rule)
            .collect()
    }

    /// The one finding of `rule` in one scenario; panics when there is none or more than one.
    pub fn only_finding(&self, scenario: &str, rule: &str) -> crate::diagnose::Finding {
        let findings = self.analyse(scenario).findings;
        let mut of_rule = findings.iter().filter(|f| f.rule == rule);
        match (of_rule.next(), of_rule.next()) {
            (Some(one), None) => one.clone(),
            _ => panic!("{scenario}: not one {rule} finding: {findings:#?}"),
        }
    }

    /// The scenario folders; panics when there are fewer than `min_scenarios`.
    pub fn scenarios(&self) -> Vec<PathBuf> {
        let dirs = crate::cli::table::scenarios(&self.path())
            .unwrap_or_else(|e| panic!("{}: {e}", self.name));
        assert!(
            dirs.len() >= self.min_scenarios,
            "{}: only {} scenarios",
            self.name,
            dirs.len()
        );
        dirs
    }

    /// A whole scenario listed among the known gaps.
    fn is_known_gap(&self, dir: &Path) -> bool {
        let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("");
        self.known_gaps.iter().any(|(row, _)| *row == name)
    }

    /// Every line of every trace is read.
    pub fn assert_read_completely(&self) {
        for dir in self.scenarios() {
            assert_every_line_read(&analyse_scenario(&dir));
        }
    }

    /// Every healthy scenario (a whole scenario listed among the known gaps aside) orders its
    /// calls without a blocked point (unless its trace hides calls or addresses) and reports no
    /// problem (a deviation the model expects of a healthy run, such as a refused IPv6 attempt
    /// before the IPv4 one, is no problem).
    pub fn assert_healthy_scenarios_find_no_problem(&self) {
        for dir in self.scenarios() {
            if !scenario_is_healthy(&dir) || self.is_known_gap(&dir) {
                continue;
            }
            let analysis = analyse_scenario(&dir);
            let outcome = &analysis.outcome;
            let at = dir.display();
            // What the trace does not show (io_uring's calls, addresses `-e verbose=none` left
            // undecoded, calls a filter left out) leaves the replay something to guess.
            let hidden_calls = analysis.findings.iter().any(|f| {
                ["unsupported-call", "undecoded-addresses", "filtered-trace"].contains(&f.rule)
            });
            assert!(
                outcome.blocked.is_empty() || hidden_calls,
                "{at}: blocked at {:?}",
                outcome.blocked
            );
            let problems = problem_rules(&analysis);
            assert!(problems.is_empty(), "{at}: {problems:?}");
        }
    }

    /// Every scenario and view meets its expectation, or is listed among the known gaps (and
    /// still fails).
    pub fn assert_rows_meet_expectations(&self) {
        let unexpected = rows_against_known_gaps(&self.scenarios(), self.known_gaps);
        assert!(unexpected.is_empty(), "{}", unexpected.join("\n"));
    }

    /// The fixtures stay small: traces are committed zstd-compressed (a `-ff` set plain).
    pub fn assert_small(&self) {
        let total = bytes_under(&self.path());
        assert!(
            total <= self.max_bytes,
            "tests/fixtures/{} holds {total} bytes, more than {}",
            self.name,
            self.max_bytes
        );
    }
}

/// The four checks every lab corpus passes, as tests of the integration test crate that names
/// the corpus: every line read, healthy scenarios without a problem, every row against the known
/// gaps, and the corpus's size.
#[macro_export]
macro_rules! corpus_tests {
    ($corpus:expr) => {
        #[test]
        fn every_trace_of_the_corpus_parses_completely() {
            $corpus.assert_read_completely();
        }

        #[test]
        fn healthy_scenarios_of_the_corpus_find_no_problem() {
            $corpus.assert_healthy_scenarios_find_no_problem();
        }

        #[test]
        fn every_scenario_and_view_meets_its_expectation_or_is_a_known_gap() {
            $corpus.assert_rows_meet_expectations();
        }

        #[test]
        fn the_corpus_stays_small() {
            $corpus.assert_small();
        }
    };
}
