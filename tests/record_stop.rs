//! Stopping a recorded server: SIGTERM or SIGINT sent to `netcheck record` reaches the traced
//! program, and netcheck still prints the stanza (with a trace path that works from where the
//! stanza goes). Skipped (with a note) where strace, python3 or ptrace is unavailable.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn available(program: &str, version_flag: &str) -> bool {
    Command::new(program)
        .arg(version_flag)
        .output()
        .is_ok_and(|out| out.status.success())
}

/// A server that waits for a connection forever.
const SERVER: &str = "\
import socket
s = socket.socket()
s.bind(('127.0.0.1', 0))
s.listen(1)
print('listening', flush=True)
s.accept()
";

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("traces")).expect("scratch directory");
    dir
}

/// Records the server, sends `signal` to netcheck once the server listens, and returns
/// (exit code, stderr, stanza).
fn record_then_stop(signal: &str) -> Option<(Option<i32>, String, String)> {
    let dir = scratch(&format!("record-stop-{signal}"));
    let trace = dir.join("traces/server.trace");
    let stanza = dir.join("netcheck.conf");
    let mut child = Command::new(env!("CARGO_BIN_EXE_netcheck"))
        .args(["record", "--host", "server", "-o"])
        .arg(&trace)
        .arg("--stanza")
        .arg(&stanza)
        .args(["--", "python3", "-I", "-c", SERVER])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("netcheck runs");
    let started = Instant::now();
    let listening = loop {
        let text = std::fs::read_to_string(&trace).unwrap_or_default();
        if text.contains("listen(") && text.contains("accept") {
            break true;
        }
        if started.elapsed() > Duration::from_secs(10) || child.try_wait().ok().flatten().is_some()
        {
            break false;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    if !listening {
        let _ = child.kill();
        let out = child.wait_with_output().expect("netcheck ends");
        eprintln!(
            "note: could not record here; skipping: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return None;
    }
    let sent = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(child.id().to_string())
        .status()
        .expect("kill runs");
    assert!(sent.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait().ok().flatten().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("netcheck record did not stop on SIG{signal}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("netcheck ends");
    let stanza = std::fs::read_to_string(&stanza).unwrap_or_default();
    Some((
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        stanza,
    ))
}

#[test]
fn sigterm_and_sigint_stop_the_program_and_the_stanza_follows() {
    if !available("strace", "-V") || !available("python3", "--version") {
        eprintln!("note: strace or python3 missing; skipping");
        return;
    }
    for (signal, number) in [("TERM", 15), ("INT", 2)] {
        let Some((code, stderr, stanza)) = record_then_stop(signal) else {
            return;
        };
        assert_eq!(code, Some(0), "SIG{signal}: {stderr}");
        assert!(stderr.contains("stop it with Ctrl-C"), "{stderr}");
        // The program died of the signal (Python ends an uncaught KeyboardInterrupt with SIGINT).
        let ended = format!("was killed by signal {number}");
        assert!(stderr.contains(&ended), "SIG{signal}: {stderr}");
        // The stanza sits next to the traces directory: its path is relative to it.
        assert!(
            stanza.starts_with("host server\n trace traces/server.trace\n"),
            "{stanza}"
        );
    }
}

/// A server already running: it prints its port, then answers one connection at a time.
const RUNNING_SERVER: &str = "\
import socket
s = socket.socket()
s.bind(('127.0.0.1', 0))
s.listen(4)
print(s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept()
    c.sendall(c.recv(64))
    c.close()
";

#[test]
fn attached_to_a_running_server_the_stop_detaches_and_leaves_it_running() {
    use std::io::{BufRead, Read, Write};
    if !available("strace", "-V") || !available("python3", "--version") {
        eprintln!("note: strace or python3 missing; skipping");
        return;
    }
    let dir = scratch("record-attach");
    let trace = dir.join("traces/server.trace");
    let stanza = dir.join("netcheck.conf");
    let mut server = Command::new("python3")
        .args(["-I", "-c", RUNNING_SERVER])
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let mut port = String::new();
    if let Some(out) = server.stdout.take() {
        let _ = std::io::BufReader::new(out).read_line(&mut port);
    }
    let port: u16 = port.trim().parse().expect("the server prints its port");
    let mut recorder = Command::new(env!("CARGO_BIN_EXE_netcheck"))
        .args([
            "record",
            "--host",
            "server",
            "--pid",
            &server.id().to_string(),
            "-o",
        ])
        .arg(&trace)
        .arg("--stanza")
        .arg(&stanza)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("netcheck runs");
    // Talk to the server until the trace shows the exchange (strace needs a moment to attach).
    let started = Instant::now();
    let traced = loop {
        if let Ok(mut c) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            let _ = c.write_all(b"ping");
            let mut answer = Vec::new();
            let _ = c.read_to_end(&mut answer);
        }
        let text = std::fs::read_to_string(&trace).unwrap_or_default();
        if text.contains("accept") && text.contains("ping") {
            break true;
        }
        if started.elapsed() > Duration::from_secs(10)
            || recorder.try_wait().ok().flatten().is_some()
        {
            break false;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    if !traced {
        let _ = recorder.kill();
        let _ = server.kill();
        let _ = server.wait();
        let out = recorder.wait_with_output().expect("netcheck ends");
        eprintln!(
            "note: could not attach here; skipping: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return;
    }
    let sent = Command::new("kill")
        .arg("-INT")
        .arg(recorder.id().to_string())
        .status()
        .expect("kill runs");
    assert!(sent.success());
    let out = recorder.wait_with_output().expect("netcheck ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("keeps running"), "{stderr}");
    let still_running = server.try_wait().ok().flatten().is_none();
    let _ = server.kill();
    let _ = server.wait();
    assert!(still_running, "the attached server was left running");
    let stanza = std::fs::read_to_string(&stanza).unwrap_or_default();
    assert!(
        stanza.starts_with("host server\n trace traces/server.trace\n"),
        "{stanza}"
    );
    // The listener was opened before the trace began: the accept on it is what the trace has.
    let text = std::fs::read_to_string(&trace).unwrap_or_default();
    assert!(!text.contains("listen("), "{text}");
    // Every line reads, the call strace left when it detached (`<detached ...>`) included.
    let parsed = Command::new(env!("CARGO_BIN_EXE_netcheck"))
        .args(["parse", "--summary"])
        .arg(&trace)
        .output()
        .expect("netcheck parse runs");
    let summary = String::from_utf8_lossy(&parsed.stdout);
    assert!(summary.contains(" 0 unparsed lines"), "{summary}");
}
