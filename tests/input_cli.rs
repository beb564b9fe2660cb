//! Inputs as users really give them: compressed traces, pipes, standard input, FIFOs, devices,
//! the same file twice, files that are not strace output, and names or lines carrying terminal
//! control sequences. Each case runs the binary and checks its exit status and message.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_netcheck")
}

fn run_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(binary())
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("netcheck runs")
}

/// Runs `netcheck` with a deadline: an input that is read forever fails the test instead of
/// hanging it.
fn run_bounded(args: &[&str], limit: Duration) -> Output {
    let mut child = Command::new(binary())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("netcheck runs");
    let start = Instant::now();
    while child.try_wait().expect("waits").is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("netcheck {args:?} still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn scenario(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/lab")
        .join(name)
}

/// The rule IDs of a JSON report.
fn rules(out: &Output) -> Vec<String> {
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", stderr(out)));
    doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["rule"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).expect("compressed");
    encoder.finish().expect("finished")
}

#[test]
fn compressed_traces_are_read_like_plain_ones() {
    let lab = scenario("connect-refused");
    let dir = tempfile::tempdir().expect("dir");
    let client = fs::read(lab.join("client.trace")).expect("client trace");
    let server = fs::read(lab.join("server.trace")).expect("server trace");
    fs::write(dir.path().join("client.trace.gz"), gzip(&client)).expect("written");
    let zst = zstd::stream::encode_all(&server[..], 3).expect("compressed");
    fs::write(dir.path().join("server.trace.zst"), zst).expect("written");
    let plain = run_in(
        &lab,
        &[
            "diagnose",
            "--format",
            "json",
            "client.trace",
            "server.trace",
        ],
    );
    let packed = run_in(
        dir.path(),
        &[
            "diagnose",
            "--format",
            "json",
            "client.trace.gz",
            "server.trace.zst",
        ],
    );
    assert_eq!(
        packed.status.code(),
        plain.status.code(),
        "{}",
        stderr(&packed)
    );
    assert_eq!(rules(&packed), rules(&plain));
    assert!(rules(&plain).contains(&"connect-refused".to_string()));
}

#[test]
fn a_compressed_file_without_its_suffix_is_refused_with_the_fix() {
    let dir = tempfile::tempdir().expect("dir");
    let client = fs::read(scenario("connect-refused").join("client.trace")).expect("trace");
    fs::write(dir.path().join("client.trace"), gzip(&client)).expect("written");
    let out = run_in(dir.path(), &["diagnose", "client.trace"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("client.trace: not strace output (gzip-compressed data)")
            && stderr(&out).contains(".gz"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn binary_logs_and_empty_files_are_refused_naming_the_file() {
    let dir = tempfile::tempdir().expect("dir");
    fs::write(dir.path().join("a.bin"), [0x7f, b'E', b'L', b'F', 0, 1, 2]).expect("written");
    fs::write(
        dir.path().join("app.log"),
        "2026-12-06 10:00:00 INFO started\n2026-12-06 10:00:01 INFO ready\n",
    )
    .expect("written");
    fs::write(dir.path().join("empty.trace"), "").expect("written");
    let cases = [
        ("a.bin", "a.bin: not strace output (binary data)"),
        (
            "app.log",
            "app.log: not strace output (first unparsed line: 2026-12-06 10:00:00 INFO started)",
        ),
        ("empty.trace", "empty.trace: empty trace (0 lines)"),
    ];
    for (file, message) in cases {
        for command in ["diagnose", "parse", "order"] {
            let out = run_in(dir.path(), &[command, file]);
            assert_eq!(
                out.status.code(),
                Some(2),
                "{command} {file}: {}",
                stderr(&out)
            );
            assert!(
                stderr(&out).contains(message),
                "{command} {file}: {}",
                stderr(&out)
            );
        }
    }
}

#[test]
fn endless_devices_are_refused_quickly() {
    let dir = tempfile::tempdir().expect("dir");
    let link = dir.path().join("zero.trace");
    std::os::unix::fs::symlink("/dev/zero", &link).expect("symlink");
    let link = link.to_string_lossy().into_owned();
    let config = dir.path().join("netcheck.conf");
    fs::write(&config, "host a\n trace /dev/urandom\n").expect("written");
    let config = config.to_string_lossy().into_owned();
    for args in [
        vec!["diagnose", "/dev/zero"],
        vec!["diagnose", "/dev/urandom"],
        vec!["diagnose", link.as_str()],
        vec!["parse", link.as_str()],
        vec!["diagnose", config.as_str()],
    ] {
        let out = run_bounded(&args, Duration::from_secs(20));
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("not strace output"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}

/// `bash -c` runs `netcheck` with process substitutions (`<(cat FILE)`) in `dir`.
fn through_pipes(dir: &Path, script: &str) -> Output {
    Command::new("bash")
        .arg("-c")
        .arg(script.replace("NETCHECK", binary()))
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("bash runs")
}

#[test]
fn traces_and_configs_given_as_pipes_are_read_whole() {
    let lab = scenario("nat-undeclared");
    let files = run_in(&lab, &["diagnose", "--format", "json", "netcheck.conf"]);
    assert!(rules(&files).contains(&"nat-undeclared".to_string()));

    let config = through_pipes(&lab, "NETCHECK diagnose --format json <(cat netcheck.conf)");
    assert_eq!(
        config.status.code(),
        files.status.code(),
        "{}",
        stderr(&config)
    );
    assert_eq!(rules(&config), rules(&files));

    let zero_config = run_in(
        &lab,
        &[
            "diagnose",
            "--format",
            "json",
            "client.trace",
            "server.trace",
        ],
    );
    let piped = through_pipes(
        &lab,
        "NETCHECK diagnose --format json <(cat client.trace) <(gzip -c server.trace)",
    );
    assert_eq!(
        piped.status.code(),
        zero_config.status.code(),
        "{}",
        stderr(&piped)
    );
    assert_eq!(rules(&piped), rules(&zero_config));
    assert!(!rules(&piped).is_empty());

    let stdin = through_pipes(
        &lab,
        "NETCHECK diagnose --format json - server.trace < client.trace",
    );
    assert_eq!(rules(&stdin), rules(&zero_config), "{}", stderr(&stdin));
}

#[test]
fn a_fifo_named_in_a_config_is_read_once_without_hanging() {
    let lab = scenario("connect-refused");
    let dir = tempfile::tempdir().expect("dir");
    let fifo = dir.path().join("client.fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    fs::copy(lab.join("server.trace"), dir.path().join("server.trace")).expect("copied");
    let conf = fs::read_to_string(lab.join("netcheck.conf"))
        .expect("config")
        .replace("client.trace", "client.fifo");
    fs::write(dir.path().join("netcheck.conf"), conf).expect("written");
    let client = fs::read(lab.join("client.trace")).expect("trace");
    let writer = std::thread::spawn(move || fs::write(fifo, client));
    let conf = dir.path().join("netcheck.conf");
    let out = run_bounded(
        &["diagnose", "--format", "json", &conf.to_string_lossy()],
        Duration::from_secs(30),
    );
    writer.join().expect("writer").expect("fifo written");
    assert!(
        rules(&out).contains(&"connect-refused".to_string()),
        "{}",
        stderr(&out)
    );
}

#[test]
fn one_file_under_two_names_is_refused() {
    let lab = scenario("connect-refused");
    let dir = tempfile::tempdir().expect("dir");
    let trace = dir.path().join("client.trace");
    fs::copy(lab.join("client.trace"), &trace).expect("copied");
    std::os::unix::fs::symlink(&trace, dir.path().join("link.trace")).expect("symlink");
    fs::hard_link(&trace, dir.path().join("hard.trace")).expect("hard link");
    let absolute = trace.to_string_lossy().into_owned();
    for other in [
        "./client.trace",
        absolute.as_str(),
        "link.trace",
        "hard.trace",
    ] {
        let out = run_in(dir.path(), &["diagnose", "client.trace", other]);
        assert_eq!(out.status.code(), Some(2), "{other}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("is the same file as client.trace"),
            "{other}: {}",
            stderr(&out)
        );
    }
    let conf = "host a\n trace client.trace\nhost b\n trace ./hard.trace\n";
    fs::write(dir.path().join("netcheck.conf"), conf).expect("written");
    let out = run_in(dir.path(), &["diagnose", "netcheck.conf"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(
            "netcheck.conf:4: trace './hard.trace' is the file already declared at line 2"
        ),
        "{}",
        stderr(&out)
    );
}

#[test]
fn two_traces_with_one_name_are_refused() {
    let lab = scenario("connect-refused");
    let dir = tempfile::tempdir().expect("dir");
    for sub in ["a", "b"] {
        fs::create_dir(dir.path().join(sub)).expect("dir");
    }
    fs::copy(lab.join("client.trace"), dir.path().join("a/x.trace")).expect("copied");
    fs::copy(lab.join("server.trace"), dir.path().join("b/x.trace")).expect("copied");
    let out = run_in(dir.path(), &["diagnose", "a/x.trace", "b/x.trace"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("another trace is also named x.trace"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn control_characters_from_inputs_never_reach_the_terminal_raw() {
    let dir = tempfile::tempdir().expect("dir");
    // A missing file whose name carries an OSC "set title" sequence.
    let evil_name = "evil\x1b]0;owned\x07.trace";
    let out = run_in(dir.path(), &["diagnose", evil_name]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!out.stderr.contains(&0x1b), "{:?}", stderr(&out));
    assert!(
        stderr(&out).contains("evil\\x1b]0;owned\\x07.trace"),
        "{}",
        stderr(&out)
    );

    // An unparsed trace line carrying the same sequence, in every text output.
    let trace = dir.path().join("t.trace");
    let mut text = fs::read(scenario("connect-refused").join("client.trace")).expect("trace");
    text.extend_from_slice(b"123 bogus\x1b]0;owned\x07(\r\n");
    fs::write(&trace, text).expect("written");
    for command in ["diagnose", "parse", "order"] {
        let out = run_in(dir.path(), &[command, "t.trace"]);
        assert!(out.status.code().is_some(), "{command}");
        for stream in [&out.stdout, &out.stderr] {
            assert!(
                !stream.contains(&0x1b),
                "{command}: {}",
                String::from_utf8_lossy(stream)
            );
            assert!(!stream.contains(&0x07), "{command}");
        }
    }
    let out = run_in(dir.path(), &["parse", "t.trace"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("\\x1b]0;owned\\x07"));
}

#[test]
fn a_config_may_start_with_a_byte_order_mark() {
    let lab = scenario("connect-refused");
    let dir = tempfile::tempdir().expect("dir");
    for file in ["client.trace", "server.trace"] {
        fs::copy(lab.join(file), dir.path().join(file)).expect("copied");
    }
    let conf = fs::read_to_string(lab.join("netcheck.conf")).expect("config");
    fs::write(dir.path().join("netcheck.conf"), format!("\u{feff}{conf}")).expect("written");
    let out = run_in(
        dir.path(),
        &["diagnose", "--format", "json", "netcheck.conf"],
    );
    assert!(
        rules(&out).contains(&"connect-refused".to_string()),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_path_that_is_not_utf8_is_reported_in_json_without_a_panic() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().expect("dir");
    let name = std::ffi::OsStr::from_bytes(b"trace-\xff.txt");
    fs::copy(
        scenario("connect-refused").join("client.trace"),
        dir.path().join(name),
    )
    .expect("copied");
    let out = Command::new(binary())
        .arg("parse")
        .arg("--format")
        .arg("json")
        .arg(name)
        .current_dir(dir.path())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let last = String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .map(str::to_string)
        .unwrap_or_default();
    let summary: serde_json::Value = serde_json::from_str(&last).expect("JSON summary");
    assert_eq!(summary["path"], "trace-\u{fffd}.txt");
}

#[test]
fn a_trace_without_f_whose_program_started_threads_is_flagged() {
    let traces = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/parse/traces");
    let out = run_in(
        &traces,
        &["diagnose", "--trace", "tcp_pair.nofollow-t.strace"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("untraced-children") && text.contains("recorded without -f"),
        "{text}"
    );
    let out = run_in(&traces, &["diagnose", "--trace", "tcp_pair.f.strace"]);
    assert!(!String::from_utf8_lossy(&out.stdout).contains("untraced-children"));
}
