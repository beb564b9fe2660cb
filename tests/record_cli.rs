//! `netcheck record` end to end: the built binary traces a small Python program talking over
//! loopback. Skipped (with a note) where strace, python3 or ptrace is unavailable.

use std::path::PathBuf;
use std::process::{Command, Output};

fn netcheck() -> Command {
    Command::new(env!("CARGO_BIN_EXE_netcheck"))
}

fn scratch_trace(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "netcheck-record-{}-{name}.trace",
        std::process::id()
    ))
}

fn available(program: &str, version_flag: &str) -> bool {
    Command::new(program)
        .arg(version_flag)
        .output()
        .is_ok_and(|out| out.status.success())
}

/// Runs `netcheck record`, or returns None (after printing why) when this machine cannot trace.
fn record(trace: &PathBuf, host: &str, command: &[&str]) -> Option<Output> {
    if !available("strace", "-V") || !available("python3", "--version") {
        eprintln!("note: strace or python3 missing; skipping the record integration test");
        return None;
    }
    let out = netcheck()
        .args(["record", "-o"])
        .arg(trace)
        .args(["--host", host, "--"])
        .args(command)
        .output()
        .expect("netcheck runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(2) && stderr.contains("ptrace") {
        eprintln!("note: ptrace is not permitted here; skipping: {stderr}");
        return None;
    }
    Some(out)
}

const LOOPBACK_PROGRAM: &str = "\
import socket
server = socket.socket()
server.bind(('127.0.0.1', 0))
server.listen(1)
client = socket.create_connection(server.getsockname())
conn, _ = server.accept()
client.sendall(b'ping')
assert conn.recv(16) == b'ping'
conn.close(); client.close(); server.close()
";

#[test]
fn records_a_loopback_exchange_and_prints_the_stanza() {
    let trace = scratch_trace("loopback");
    let Some(out) = record(&trace, "looper", &["python3", "-I", "-c", LOOPBACK_PROGRAM]) else {
        return;
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    assert!(
        stdout.starts_with(&format!("host looper\n trace {}\n", trace.display())),
        "stanza: {stdout}"
    );
    for line in stdout.lines().skip(2) {
        let address = line.strip_prefix(" ip ").expect("only ip lines follow");
        let address: std::net::IpAddr = address.parse().expect("an address");
        assert!(!address.is_loopback(), "loopback listed: {address}");
    }
    assert!(stderr.contains("exited with status 0"), "stderr: {stderr}");

    let text = std::fs::read_to_string(&trace).expect("trace written");
    let _ = std::fs::remove_file(&trace);
    // -f -ttt: every line starts with a pid and a seconds.micros timestamp.
    let first = text.lines().next().expect("non-empty trace");
    let mut fields = first.split_whitespace();
    assert!(
        fields.next().is_some_and(|p| p.parse::<u32>().is_ok()),
        "{first}"
    );
    assert!(
        fields.next().is_some_and(|t| t.parse::<f64>().is_ok()),
        "{first}"
    );
    // -yy decorations, -T durations, full payloads, and the socket calls themselves.
    assert!(
        text.contains("<TCP:[127.0.0.1:"),
        "no -yy socket decoration"
    );
    assert!(text
        .lines()
        .any(|l| l.contains("connect(") && l.ends_with('>')));
    assert!(text.contains("\"ping\", 4"), "payload missing");
    assert!(text.contains("accept4(") || text.contains("accept("));
    assert!(text.contains("+++ exited with 0 +++"));
    // The filter drops stat and mmap noise.
    assert!(
        !text.contains("newfstatat("),
        "stat calls should be filtered out"
    );
}

#[test]
fn reports_the_programs_exit_status() {
    let trace = scratch_trace("status");
    let Some(out) = record(&trace, "h", &["python3", "-I", "-c", "raise SystemExit(3)"]) else {
        return;
    };
    let _ = std::fs::remove_file(&trace);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    assert!(stderr.contains("exited with status 3"), "stderr: {stderr}");
}

#[test]
fn stanza_file_keeps_the_stanza_apart_from_program_output() {
    let trace = scratch_trace("stanza");
    let stanza_file = scratch_trace("stanza-out");
    if !available("strace", "-V") || !available("python3", "--version") {
        eprintln!("note: strace or python3 missing; skipping");
        return;
    }
    let out = netcheck()
        .args(["record", "--host", "quiet", "-o"])
        .arg(&trace)
        .arg("--stanza")
        .arg(&stanza_file)
        .args(["--", "python3", "-I", "-c", "print('program says hi')"])
        .output()
        .expect("netcheck runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(2) && stderr.contains("ptrace") {
        eprintln!("note: ptrace is not permitted here; skipping");
        return;
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stanza = std::fs::read_to_string(&stanza_file).expect("stanza written");
    let _ = std::fs::remove_file(&trace);
    let _ = std::fs::remove_file(&stanza_file);
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    assert_eq!(stdout.trim(), "program says hi");
    assert!(
        stanza.starts_with("host quiet\n trace "),
        "stanza: {stanza}"
    );
    assert!(!stanza.contains("program says hi"));
}

#[test]
fn missing_strace_is_a_clear_error() {
    let out = netcheck()
        .args(["record", "--strace", "/nonexistent/strace", "-o"])
        .arg(scratch_trace("missing"))
        .args(["--", "true"])
        .output()
        .expect("netcheck runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr.contains("apt-get install strace"),
        "stderr: {stderr}"
    );
}
