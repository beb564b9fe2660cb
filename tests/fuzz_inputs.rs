//! A mutation fuzzer over the real lab corpus: each case takes a lab scenario, damages its traces
//! and config (byte flips, cuts, shuffled and repeated lines, extreme numbers, deep nesting,
//! unbalanced quotes, invalid UTF-8, control characters) and runs the whole pipeline on it. A
//! case passes when the run ends (no panic, no hang) with either an input error or a report that
//! renders as valid JSON and as text free of raw control characters.
//!
//! CI runs a short, fixed-seed pass. A long run by hand:
//! `NETCHECK_FUZZ_SECONDS=3600 NETCHECK_FUZZ_SEED=7 cargo test --release --test fuzz_inputs -- --nocapture`

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use netcheck::config::Inputs;
use netcheck::pipeline::run_pipeline;
use netcheck::report::{json, text, Report};

/// A small deterministic generator (xorshift64*): the same seed gives the same cases.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

const EXTREME_NUMBERS: [&str; 7] = [
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775808",
    "4294967296",
    "-1",
    "0",
    "99999999999999999999999999999",
];
const INSERTS: [&[u8]; 9] = [
    b"\"",
    b"{{{{{{{{{{{{{{{{[[[[[[[[[[[[",
    b"}]",
    b"\xff\xfe\xc3",
    b"\x1b]0;title\x07",
    b"\0",
    b" <unfinished ...>",
    b"<... connect resumed>",
    b"\r",
];

/// One damage to `bytes`, chosen by `rng`.
fn mutate(bytes: &mut Vec<u8>, rng: &mut Rng) {
    if bytes.is_empty() {
        bytes.extend_from_slice(INSERTS[rng.below(INSERTS.len())]);
        return;
    }
    let at = rng.below(bytes.len());
    match rng.below(8) {
        0 => bytes[at] ^= 1 << rng.below(8),
        1 => bytes.truncate(at),
        2 => {
            let insert = INSERTS[rng.below(INSERTS.len())];
            bytes.splice(at..at, insert.iter().copied());
        }
        3 => replace_number(bytes, at, rng),
        4 => swap_lines(bytes, rng),
        5 => repeat_line(bytes, at, rng),
        6 => {
            let end = (at + 1 + rng.below(64)).min(bytes.len());
            bytes.drain(at..end);
        }
        _ => bytes[at] = (rng.next() & 0xff) as u8,
    }
}

/// Replaces the first run of digits at or after `at` by an extreme number.
fn replace_number(bytes: &mut Vec<u8>, at: usize, rng: &mut Rng) {
    let Some(start) = bytes[at..]
        .iter()
        .position(u8::is_ascii_digit)
        .map(|p| p + at)
    else {
        return;
    };
    let len = bytes[start..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    let number = EXTREME_NUMBERS[rng.below(EXTREME_NUMBERS.len())];
    bytes.splice(start..start + len, number.bytes());
}

fn line_spans(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start = 0;
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'\n' {
            spans.push((start, i + 1));
            start = i + 1;
        }
    }
    spans
}

fn swap_lines(bytes: &mut Vec<u8>, rng: &mut Rng) {
    let spans = line_spans(bytes);
    if spans.len() < 2 {
        return;
    }
    let mut lines: Vec<Vec<u8>> = spans.iter().map(|&(a, b)| bytes[a..b].to_vec()).collect();
    let tail = bytes[spans[spans.len() - 1].1..].to_vec();
    let (i, j) = (rng.below(lines.len()), rng.below(lines.len()));
    lines.swap(i, j);
    *bytes = lines.concat();
    bytes.extend(tail);
}

fn repeat_line(bytes: &mut Vec<u8>, at: usize, rng: &mut Rng) {
    let spans = line_spans(bytes);
    if let Some(&(a, b)) = spans.iter().find(|&&(a, b)| a <= at && at < b) {
        let line = bytes[a..b].to_vec();
        for _ in 0..1 + rng.below(3) {
            bytes.splice(b..b, line.iter().copied());
        }
    }
}

fn lab_scenarios() -> Vec<PathBuf> {
    let lab = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lab");
    let mut dirs: Vec<PathBuf> = fs::read_dir(lab)
        .expect("lab corpus")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("netcheck.conf").is_file())
        .collect();
    dirs.sort();
    dirs
}

/// Copies `scenario` into `into` with each file damaged `damage` times (the config less often:
/// a config error stops the run before the traces are read).
fn damaged_copy(scenario: &Path, into: &Path, rng: &mut Rng, damage: usize) {
    for entry in fs::read_dir(scenario).expect("scenario").flatten() {
        let name = entry.file_name();
        let mut bytes = fs::read(entry.path()).expect("readable");
        let is_config = name == "netcheck.conf";
        let times = if is_config {
            usize::from(rng.below(4) == 0)
        } else {
            rng.below(damage + 1)
        };
        for _ in 0..times {
            mutate(&mut bytes, rng);
        }
        fs::write(into.join(&name), bytes).expect("written");
    }
}

/// Runs one case; panics (with the case named) on any failure.
fn run_case(scenario: &Path, dir: &Path, label: &str) {
    let inputs = Inputs {
        paths: vec![dir.join("netcheck.conf")],
        one_host: Vec::new(),
    };
    let Ok(analysis) = run_pipeline(&inputs) else {
        return; // An input error is a fine answer to damaged input.
    };
    let report = Report::build(&analysis);
    let doc = json::render(&report);
    if let Err(e) = serde_json::from_str::<serde_json::Value>(&doc) {
        panic!("{label} ({}): invalid JSON: {e}", scenario.display());
    }
    let shown = text::render(&report, text::Style { color: false });
    let shown = netcheck::report::terminal::printable(&shown, false);
    assert!(
        !shown.contains('\x1b') && !shown.contains('\r'),
        "{label}: raw control character in the text report"
    );
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn damaged_lab_inputs_never_crash_hang_or_corrupt_reports() {
    let seconds = env_number("NETCHECK_FUZZ_SECONDS", 8);
    let seed = env_number("NETCHECK_FUZZ_SEED", 0x6e65_7463_6865_636b);
    let max_cases = env_number("NETCHECK_FUZZ_CASES", u64::MAX);
    let scenarios = lab_scenarios();
    assert!(!scenarios.is_empty());
    let work = tempfile::tempdir().expect("scratch");

    // A case that runs for a minute is a hang: say which and stop the run.
    let current = Arc::new(AtomicU64::new(0));
    let started = Arc::new(AtomicU64::new(0));
    let epoch = Instant::now();
    {
        let (current, started) = (Arc::clone(&current), Arc::clone(&started));
        std::thread::spawn(move || loop {
            std::thread::sleep(Duration::from_secs(1));
            let since = epoch.elapsed().as_secs() - started.load(Ordering::Relaxed);
            if since > 60 {
                eprintln!(
                    "fuzz case {} (seed {seed:#x}) has run for {since} s: a hang",
                    current.load(Ordering::Relaxed)
                );
                std::process::exit(101);
            }
        });
    }

    let mut rng = Rng(seed | 1);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut cases = 0u64;
    while Instant::now() < deadline && cases < max_cases {
        let scenario = &scenarios[rng.below(scenarios.len())];
        let dir = work.path().join(format!("case{}", cases % 4));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("case dir");
        let damage = 1 + rng.below(6);
        damaged_copy(scenario, &dir, &mut rng, damage);
        current.store(cases, Ordering::Relaxed);
        started.store(epoch.elapsed().as_secs(), Ordering::Relaxed);
        run_case(scenario, &dir, &format!("case {cases} (seed {seed:#x})"));
        cases += 1;
    }
    println!(
        "fuzz: {cases} cases over {} scenarios, seed {seed:#x}",
        scenarios.len()
    );
    assert!(cases >= 10, "only {cases} cases ran");
}

#[test]
fn the_mutator_is_deterministic_and_changes_its_input() {
    let text = b"1 connect(3, {sa_family=AF_INET, sin_port=htons(80)}, 16) = 0\n2 close(3) = 0\n";
    let run = |seed| {
        let mut rng = Rng(seed);
        (0..50)
            .map(|_| {
                let mut bytes = text.to_vec();
                mutate(&mut bytes, &mut rng);
                bytes
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(run(3), run(3));
    assert!(run(3).iter().filter(|b| b.as_slice() != text).count() > 40);
}
