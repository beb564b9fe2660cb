//! Parsing and folding each trace on its own thread changes nothing: every recorded scenario
//! gives the same JSON report and the same connection records with one thread and with one per
//! trace. The records also account for every connection the report counts, those the model
//! folded away included.

use std::path::{Path, PathBuf};

use netcheck::cli::table::scenarios;
use netcheck::config::{self, Inputs};
use netcheck::model::summary::ConnState;
use netcheck::model::{ConnectionRecord, ConnectionSink};
use netcheck::pipeline::{analyse_with, RunOptions};
use netcheck::report::{json, Report};

#[derive(Default)]
struct Records(Vec<String>);

impl ConnectionSink for Records {
    fn record(&mut self, record: &ConnectionRecord) {
        self.0
            .push(serde_json::to_string(record).unwrap_or_default());
    }
}

fn run(dir: &Path, one_thread: bool) -> (String, Records, Report) {
    let inputs = Inputs {
        paths: vec![dir.join("netcheck.conf")],
        one_host: Vec::new(),
    };
    let topology = config::load(&inputs).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut records = Records::default();
    let options = RunOptions {
        observer: None,
        sink: Some(&mut records),
        one_thread,
        progress: None,
    };
    let analysis =
        analyse_with(topology, options).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let report = Report::build(&analysis);
    (json::render(&report), records, report)
}

fn corpus() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut dirs = scenarios(&root.join("lab")).expect("lab corpus");
    dirs.extend(scenarios(&root.join("apps")).expect("apps corpus"));
    dirs
}

#[test]
fn one_thread_per_trace_gives_the_reports_of_one_thread() {
    let dirs = corpus();
    assert!(dirs.len() >= 30, "only {} scenarios", dirs.len());
    for dir in dirs {
        let (alone, alone_records, _) = run(&dir, true);
        let (threaded, threaded_records, _) = run(&dir, false);
        assert_eq!(alone, threaded, "{}", dir.display());
        assert_eq!(alone_records.0, threaded_records.0, "{}", dir.display());
    }
}

#[test]
fn every_counted_connection_has_its_record() {
    let mut records_seen = 0;
    for dir in corpus() {
        let (_, records, report) = run(&dir, false);
        let attempts = [
            ConnState::Refused,
            ConnState::Failed,
            ConnState::NeverAnswered,
        ];
        let connections: u64 = report
            .statistics
            .tcp
            .iter()
            .map(|a| {
                let failed: u64 = attempts.iter().filter_map(|s| a.states.get(s)).sum();
                a.connections - failed
            })
            .sum();
        assert_eq!(records.0.len() as u64, connections, "{}", dir.display());
        records_seen += records.0.len();
    }
    assert!(records_seen > 0);
}
