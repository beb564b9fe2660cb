//! Every recorded fixture trace parses completely, and the facts the recorded programs produced
//! are found in the events.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use netcheck::parse::{
    Call, FdInfo, ParseStats, ProcessEvent, SockAddr, Syscall, SyscallName, TraceEvent, TraceReader,
};
use netcheck::source::TraceId;

fn traces_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/parse/traces")
}

/// Reads a whole trace (a file name, or a `-ff` prefix) from the fixture corpus.
fn read(name: &str) -> (Vec<TraceEvent>, ParseStats) {
    let mut reader = TraceReader::open(&traces_dir().join(name), TraceId(0))
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let events: Vec<TraceEvent> = reader.by_ref().collect();
    (events, reader.stats().clone())
}

fn calls(events: &[TraceEvent]) -> impl Iterator<Item = &Call> {
    events.iter().filter_map(|e| match e {
        TraceEvent::Call(c) => Some(c),
        _ => None,
    })
}

fn addr(text: &str) -> SocketAddr {
    text.parse().unwrap()
}

/// The fixture traces by trace path (per-pid sets by prefix).
fn all_traces() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(traces_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .map(|name| match name.rsplit_once('.') {
            Some((prefix, pid)) if pid.bytes().all(|b| b.is_ascii_digit()) => prefix.to_owned(),
            _ => name,
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

#[test]
fn every_fixture_parses_without_unparsed_lines_and_accounts_for_every_line() {
    let names = all_traces();
    assert!(names.len() >= 20, "fixture corpus missing: {names:?}");
    for name in names {
        let (events, stats) = read(&name);
        assert_eq!(stats.unparsed, 0, "{name}: {:#?}", stats.first_unparsed);
        assert_eq!(stats.accounted_lines(), stats.lines, "{name}: {stats:#?}");
        assert!(stats.calls > 20, "{name}: only {} calls", stats.calls);
        assert_eq!(stats.unfinished_at_end, 0, "{name}");
        let process_events = events
            .iter()
            .filter(|e| matches!(e, TraceEvent::Process { .. }))
            .count() as u64;
        assert_eq!(stats.calls + process_events, events.len() as u64, "{name}");
        assert!(
            stats.ignored.contains_key("mmap"),
            "{name}: {:?}",
            stats.ignored
        );
    }
}
