//! What a trace's timestamps count from, read from real lab recordings, and what that allows:
//! `-r` counts start at each trace's first line, so two traces' counts are never set against
//! each other.

use std::path::{Path, PathBuf};

use netcheck::config::Inputs;
use netcheck::parse::clock_of;
use netcheck::pipeline::run_pipeline;
use netcheck::source::TraceClock;

fn lab(scenario: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/lab")
        .join(scenario)
}

#[test]
fn the_clock_is_read_from_the_first_stamped_line() {
    let cases = [
        (
            "healthy-http--curl--nginx--plain/client.trace",
            TraceClock::TimeOfDay,
        ),
        (
            "healthy-http--curl--nginx--tttTyy/client.trace",
            TraceClock::Epoch,
        ),
        (
            "reset-unread--socat--python--ry/client.trace",
            TraceClock::SinceStart,
        ),
        (
            "healthy-http--curl--nginx--f/client.trace",
            TraceClock::Untimed,
        ),
        // A `-ff -tt` set, named by its prefix.
        (
            "healthy-http--curl--nginx--ff/server.trace",
            TraceClock::TimeOfDay,
        ),
    ];
    for (file, clock) in cases {
        assert_eq!(clock_of(&lab(file)), clock, "{file}");
    }
}

#[test]
fn relative_counts_of_two_traces_are_not_compared() {
    // socat (client) and python (server) under `strace -f -r -y`. The server's count reaches
    // its accept (~0.25 s) after the client's count reaches its close: read as one clock, the
    // accept came after the client had left, and the reset was lost in a start-up note.
    let analysis = run_pipeline(&Inputs {
        paths: vec![lab("reset-unread--socat--python--ry/netcheck.conf")],
        one_host: Vec::new(),
    })
    .expect("the lab scenario loads");
    assert!(analysis
        .topology
        .traces
        .iter()
        .all(|t| t.clock == TraceClock::SinceStart));
    assert!(!analysis.outcome.used_timestamps);
    let rules: Vec<&str> = analysis.findings.iter().map(|f| f.rule).collect();
    assert!(rules.contains(&"connection-reset"), "{rules:?}");
    assert!(!rules.contains(&"accepted-after-client-left"), "{rules:?}");
}
