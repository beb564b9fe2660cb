//! Structural checks of the real-fault corpus under `tests/fixtures/lab/`: every scenario folder has
//! a config naming existing traces, an `expected.json` that uses only known rule IDs, and traces that
//! are genuine strace text.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use netcheck::testkit::table::{NOTE_RULES, RULES_NEWER_THAN_THE_CORPUS};

/// Every rule ID a scenario may name: the registry's.
fn rule_ids() -> Vec<&'static str> {
    netcheck::diagnose::registry::RULES
        .iter()
        .map(|rule| rule.id)
        .collect()
}

/// The lab committed at least this many scenarios; fewer means folders were lost.
const MIN_SCENARIOS: usize = 24;

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lab")
}

fn scenario_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(corpus_dir())
        .expect("tests/fixtures/lab exists")
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// The trace files a config names, resolved against the config's folder.
fn traces_named_in(conf: &Path) -> Vec<PathBuf> {
    let text = fs::read_to_string(conf).expect("config readable");
    let folder = conf.parent().expect("config has a folder");
    text.lines()
        .map(str::trim)
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let mut tokens = line.split_whitespace();
            match (tokens.next(), tokens.next()) {
                (Some(word), Some(file)) if word.eq_ignore_ascii_case("trace") => {
                    Some(folder.join(file))
                }
                _ => None,
            }
        })
        .collect()
}

fn string_list(doc: &serde_json::Value, key: &str, scenario: &str) -> Vec<String> {
    doc.get(key)
        .and_then(|v| v.as_array())
        .unwrap_or_else(|| panic!("{scenario}: `{key}` is not a list"))
        .iter()
        .map(|id| {
            id.as_str()
                .unwrap_or_else(|| panic!("{scenario}: `{key}` holds a non-string"))
                .to_string()
        })
        .collect()
}

/// A line as strace writes it: `PID SECONDS.MICROS ...` (`-ttt`, what `netcheck record` uses,
/// and `-r`), `PID HH:MM:SS.MICROS ...` (`-tt`, the matrix's `plain` flag sets), with no stamp
/// at all (the matrix's `f` set), or without the pid in a `-ff` member; the PID optionally
/// followed by `<comm>` (`-Y`).
fn looks_like_strace_line(line: &str) -> bool {
    let is_time = |time: &str| {
        time.split_once('.').is_some_and(|(s, us)| {
            let seconds_ok = s.chars().all(|c| c.is_ascii_digit())
                || (s.len() == 8
                    && s.split(':').count() == 3
                    && s.chars().all(|c| c.is_ascii_digit() || c == ':'));
            !s.is_empty() && seconds_ok && !us.is_empty() && us.chars().all(|c| c.is_ascii_digit())
        })
    };
    let is_call =
        |field: &str| field.starts_with(|c: char| c.is_ascii_alphabetic() || "<+-".contains(c));
    let is_pid = |pid: &str| {
        let digits = match pid.split_once('<') {
            Some((digits, comm)) => comm.ends_with('>').then_some(digits),
            None => Some(pid),
        };
        digits.is_some_and(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()))
    };
    let mut fields = line.split_whitespace();
    let Some(first) = fields.next() else {
        return false;
    };
    // A `-ff` member holds one process: its lines carry no pid.
    if is_time(first) && !is_pid(first) {
        return fields.next().is_some_and(is_call);
    }
    is_pid(first) && fields.next().is_some_and(|f| is_time(f) || is_call(f))
}

/// The files of a trace named in a config: the file, or the members of a `strace -ff` set
/// (`NAME.PID`) in the order of their pids.
fn trace_files(named: &Path) -> Vec<PathBuf> {
    if named.is_file() {
        return vec![named.to_path_buf()];
    }
    let (Some(dir), Some(prefix)) = (named.parent(), named.file_name()) else {
        return Vec::new();
    };
    let prefix = format!("{}.", prefix.to_string_lossy());
    let mut members: Vec<(u64, PathBuf)> = fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    let pid = name.strip_prefix(&prefix)?.parse().ok()?;
                    Some((pid, e.path()))
                })
                .collect()
        })
        .unwrap_or_default();
    members.sort();
    members.into_iter().map(|(_, path)| path).collect()
}

#[test]
fn corpus_has_enough_scenarios() {
    let count = scenario_dirs().len();
    assert!(count >= MIN_SCENARIOS, "only {count} scenarios");
}

#[test]
fn every_config_names_existing_traces() {
    for dir in scenario_dirs() {
        let conf = dir.join("netcheck.conf");
        assert!(conf.is_file(), "{}: no netcheck.conf", dir.display());
        let traces = traces_named_in(&conf);
        assert!(
            !traces.is_empty(),
            "{}: config names no trace",
            conf.display()
        );
        for trace in traces {
            assert!(
                !trace_files(&trace).is_empty(),
                "{}: {} missing",
                conf.display(),
                trace.display()
            );
        }
    }
}

#[test]
fn every_config_line_is_a_known_command() {
    const COMMANDS: &[&str] = &["host", "trace", "ip", "nat", "ignore"];
    for dir in scenario_dirs() {
        let conf = dir.join("netcheck.conf");
        let text = fs::read_to_string(&conf).expect("config readable");
        for (number, line) in text.lines().enumerate() {
            let Some(word) = line.split_whitespace().next() else {
                continue;
            };
            assert!(
                word.starts_with('#') || COMMANDS.contains(&word.to_ascii_lowercase().as_str()),
                "{}:{}: not a config command: {line}",
                conf.display(),
                number + 1
            );
        }
    }
}

#[test]
fn every_trace_in_a_folder_is_named_by_its_config() {
    for dir in scenario_dirs() {
        let named: BTreeSet<PathBuf> = traces_named_in(&dir.join("netcheck.conf"))
            .into_iter()
            .collect();
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
fn expected_json_is_valid_and_uses_known_rules() {
    let known: BTreeSet<&str> = rule_ids().into_iter().collect();
    for dir in scenario_dirs() {
        let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("?");
        let text = fs::read_to_string(dir.join("expected.json"))
            .unwrap_or_else(|e| panic!("{name}: expected.json: {e}"));
        let doc: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: expected.json: {e}"));
        assert_eq!(
            doc["scenario"].as_str(),
            Some(name),
            "{name}: scenario field"
        );
        assert!(
            doc["description"].as_str().is_some_and(|d| !d.is_empty()),
            "{name}: description"
        );
        let healthy = doc["healthy"]
            .as_bool()
            .unwrap_or_else(|| panic!("{name}: `healthy` is not a bool"));
        let must = string_list(&doc, "must_report", name);
        let must_not = string_list(&doc, "must_not_report", name);
        for id in must.iter().chain(&must_not) {
            assert!(known.contains(id.as_str()), "{name}: unknown rule id {id}");
        }
        for id in &must {
            assert!(
                !must_not.contains(id),
                "{name}: {id} both required and forbidden"
            );
        }
        if healthy {
            assert!(must.is_empty(), "{name}: healthy yet must report {must:?}");
            let forbidden = rule_ids()
                .into_iter()
                .filter(|id| !NOTE_RULES.contains(id) && !RULES_NEWER_THAN_THE_CORPUS.contains(id));
            for id in forbidden {
                assert!(
                    must_not.iter().any(|m| m == id),
                    "{name}: healthy but {id} not forbidden"
                );
            }
        } else {
            assert!(
                !must.is_empty(),
                "{name}: a fault scenario must expect a finding"
            );
        }
    }
}

#[test]
fn every_trace_is_nonempty_strace_text() {
    for dir in scenario_dirs() {
        let named = traces_named_in(&dir.join("netcheck.conf"));
        let files = named
            .iter()
            .flat_map(|named| trace_files(named).into_iter().enumerate());
        for (member, trace) in files {
            let bytes = fs::read(&trace).expect("readable");
            assert!(!bytes.is_empty(), "{} is empty", trace.display());
            let text = String::from_utf8(bytes)
                .unwrap_or_else(|_| panic!("{} is not text", trace.display()));
            let first = text.lines().next().unwrap_or("");
            // Of a `-ff` set, only the first process's file starts with the traced execve.
            assert!(
                member > 0 || first.contains("execve("),
                "{}: does not start with the traced execve",
                trace.display()
            );
            for (number, line) in text.lines().enumerate() {
                assert!(
                    looks_like_strace_line(line),
                    "{}:{}: not a timestamped `strace -f` line: {line}",
                    trace.display(),
                    number + 1
                );
            }
        }
    }
}

#[test]
fn corpus_stays_small() {
    // The 35 single-program scenarios take about 2.4 MB. The matrix records each fault class with
    // several client and server programs under two strace flag sets (over 200 scenarios here, 30
    // to 220 KB each: the `plain` traces carry no syscall filter, so every library load and
    // module read of curl, python or node is in them); with it the corpus is about 26 MB. The 67
    // scenarios recorded with the -Y, -X raw/verbose and Go/nginx epoll forms add about 5.7 MB.
    // The 39 rows of bind failures, descriptor exhaustion, connects to 0.0.0.0, connection
    // limits, an unanswered resolver and random loss (with its healthy control) add about 3.7 MB,
    // a third of it the loops of eight nc runs.
    // The rows recorded with the flag sets `f` (no timestamps), `ry` (`-r -y`) and `ff` (one
    // file per process) add about 7 MB. The 74 rows of ncat, Perl, Ruby, PHP and openssl add
    // about 9 MB.
    const LIMIT_BYTES: u64 = 50 * 1024 * 1024;
    let total: u64 = scenario_dirs()
        .iter()
        .flat_map(|dir| fs::read_dir(dir).expect("readable").flatten())
        .filter_map(|entry| entry.metadata().ok())
        .map(|meta| meta.len())
        .sum();
    assert!(total <= LIMIT_BYTES, "lab corpus is {total} bytes");
}
