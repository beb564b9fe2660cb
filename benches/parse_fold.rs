//! Parse throughput on one core: large traces (≥ 200 MB each, in a temporary file) are built by
//! repeating recorded traces, then read end to end. Prints MB/s and lines/s per input and pass.
//!
//! Two inputs, because throughput depends on what a trace holds: the *fixture mix* (program
//! start-up with large file reads, threads, `-yy`, timestamps) and the *HTTP load* (the lab's
//! curl/http.server traces under `-f -ttt -T -yy`: short socket calls, dense in lines).
//!
//! `cargo bench --bench parse_fold` (set `NETCHECK_BENCH_MB` to change the size,
//! `NETCHECK_BENCH_FILES=a.strace:b.strace` to measure your own traces).
//!
//! Each pass is one function over the event stream; a later stage adds its pass to `PASSES`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use netcheck::fold::Folder;
use netcheck::parse::TraceReader;
use netcheck::source::TraceId;

/// Inputs: a name and the recorded traces (relative to the crate) repeated to build it.
const INPUTS: &[(&str, &[&str])] = &[
    (
        "fixture mix",
        &[
            "tests/fixtures/parse/traces/http_server.f.strace",
            "tests/fixtures/parse/traces/tcp_pair.f-yy.strace",
            "tests/fixtures/parse/traces/asyncio_echo.f-tt.strace",
        ],
    ),
    (
        "HTTP load",
        &[
            "tests/fixtures/lab/healthy-multi-client/server.trace",
            "tests/fixtures/lab/healthy-multi-client/client1.trace",
            "tests/fixtures/lab/healthy-http/server.trace",
            "tests/fixtures/lab/healthy-http/client.trace",
        ],
    ),
];

/// A pass consumes the parsed events and returns how many items it produced.
type Pass = fn(&mut TraceReader) -> u64;

const PASSES: &[(&str, Pass)] = &[
    // Every call read in full, as `netcheck parse` without folding would.
    ("parse", |events| events.count() as u64),
    ("parse+fold", |events| {
        Folder::new(events, TraceId(0)).count() as u64
    }),
];

fn build_input(sources: &[&str], megabytes: u64) -> std::io::Result<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut chunk = Vec::new();
    for name in sources {
        chunk.extend(std::fs::read(root.join(name))?);
    }
    let path = std::env::temp_dir().join(format!("netcheck-bench-{}.strace", std::process::id()));
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path)?);
    let target = megabytes * 1_000_000;
    let mut written = 0u64;
    while written < target {
        out.write_all(&chunk)?;
        written += chunk.len() as u64;
    }
    out.flush()?;
    Ok(path)
}

fn main() -> std::io::Result<()> {
    let megabytes = std::env::var("NETCHECK_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    // `NETCHECK_BENCH_FILES=a.strace:b.strace` measures your own traces instead.
    if let Ok(files) = std::env::var("NETCHECK_BENCH_FILES") {
        let sources: Vec<&str> = files.split(':').filter(|f| !f.is_empty()).collect();
        println!("{files}:");
        return run_passes(&build_input(&sources, megabytes)?);
    }
    for (input, sources) in INPUTS {
        println!("{input}:");
        run_passes(&build_input(sources, megabytes)?)?;
    }
    Ok(())
}

fn run_passes(path: &Path) -> std::io::Result<()> {
    let bytes = std::fs::metadata(path)?.len();
    // `NETCHECK_BENCH_PASS=parse+fold` runs one pass only (for profiling).
    let only = std::env::var("NETCHECK_BENCH_PASS").ok();
    for (name, pass) in PASSES {
        if only.as_deref().is_some_and(|only| only != *name) {
            continue;
        }
        let mut reader = match TraceReader::open(path, TraceId(0)) {
            Ok(reader) => reader,
            Err(error) => {
                eprintln!("{error}");
                std::process::exit(1);
            }
        };
        let start = Instant::now();
        let produced = pass(&mut reader);
        let elapsed = start.elapsed().max(Duration::from_micros(1));
        let stats = reader.stats();
        let seconds = elapsed.as_secs_f64();
        println!(
            "{name:>8}: {:.1} MB in {seconds:.2} s = {:.0} MB/s, {:.2} M lines/s, {} events ({} calls, {} unparsed)",
            bytes as f64 / 1e6,
            bytes as f64 / 1e6 / seconds,
            stats.lines as f64 / 1e6 / seconds,
            produced,
            stats.calls,
            stats.unparsed,
        );
    }
    std::fs::remove_file(path)
}
