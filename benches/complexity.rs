//! Cost on input shapes that real programs produce at scale. Each shape is generated as strace
//! text at three sizes, each ten times the one before, and diagnosed by the release binary; the
//! bench prints wall and CPU time and peak RSS (through `/usr/bin/time`, Debian package `time`). Near-
//! linear cost shows as time and memory growing about tenfold from one size to the next.
//!
//! Run: `cargo bench --bench complexity` (all shapes), or name shapes:
//! `NETCHECK_BENCH_SHAPES=forks,listeners cargo bench --bench complexity`. A run longer than
//! `NETCHECK_BENCH_LIMIT` seconds (default 60) is stopped and shown as `>LIMIT`.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A shape: its name, what it is, the base count of units, and the trace text for N units.
struct Shape {
    name: &'static str,
    what: &'static str,
    base: usize,
    generate: fn(usize) -> String,
}

const SOCKET: &str = "socket(AF_INET, SOCK_STREAM, IPPROTO_TCP)";
const CLONE: &str = "clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f0000000a10)";

fn sockaddr(port: usize) -> String {
    sockaddr_on(1, port)
}

/// Port `port` on loopback address 127.0.x.y numbered `host` (1 is 127.0.0.1).
fn sockaddr_on(host: usize, port: usize) -> String {
    let (x, y) = ((host >> 8) & 0xff, host & 0xff);
    format!("{{sa_family=AF_INET, sin_port=htons({port}), sin_addr=inet_addr(\"127.0.{x}.{y}\")}}")
}

/// Listener `i`'s address: 50,000 ports on each loopback address, so no two listeners share
/// one (a real kernel refuses the second bind, so a trace never shows it succeed).
fn listener_addr(i: usize) -> String {
    sockaddr_on(1 + i / 50_000, 10_000 + i % 50_000)
}

/// N sockets opened by one process, then N children forked while they are all open.
fn forks(n: usize) -> String {
    let mut t = String::new();
    for i in 0..n {
        let _ = writeln!(t, "1 {SOCKET} = {}", 3 + i);
    }
    for i in 0..n {
        let child = 100_000 + i;
        let _ = writeln!(t, "1 {CLONE} = {child}");
        let _ = writeln!(t, "{child} close({}) = 0", 3 + i);
    }
    t
}

/// N processes, each started and still alive at the end, each with one socket.
fn live_processes(n: usize) -> String {
    let mut t = String::new();
    for i in 0..n {
        let child = 100_000 + i;
        let _ = writeln!(t, "1 {CLONE} = {child}");
        let _ = writeln!(t, "{child} {SOCKET} = 3");
    }
    t
}

/// N listeners on their own ports, each connected to and accepted once (over loopback).
fn listeners(n: usize) -> String {
    let mut t = String::new();
    for i in 0..n {
        let (addr, listener, client) = (listener_addr(i), 3 + 2 * i, 3 + i);
        let _ = writeln!(t, "1 {SOCKET} = {listener}");
        let _ = writeln!(t, "1 bind({listener}, {addr}, 16) = 0");
        let _ = writeln!(t, "1 listen({listener}, 128) = 0");
        let _ = writeln!(t, "2 {SOCKET} = {client}");
        let _ = writeln!(t, "2 connect({client}, {addr}, 16) = 0");
        let _ = writeln!(
            t,
            "1 accept4({listener}, {}, [16], SOCK_CLOEXEC) = {}",
            sockaddr(60_000 - i % 50_000),
            4 + 2 * i
        );
    }
    t
}

/// N listening sockets that are never closed.
fn open_listeners(n: usize) -> String {
    let mut t = String::new();
    for i in 0..n {
        let (addr, fd) = (listener_addr(i), 3 + i);
        let _ = writeln!(t, "1 {SOCKET} = {fd}");
        let _ = writeln!(t, "1 bind({fd}, {addr}, 16) = 0");
        let _ = writeln!(t, "1 listen({fd}, 128) = 0");
    }
    t
}

/// N connections, each sending a request and then waiting for an answer that never comes.
fn unanswered_reads(n: usize) -> String {
    let mut t = String::new();
    let _ = writeln!(t, "1 {SOCKET} = 3");
    let _ = writeln!(t, "1 bind(3, {}, 16) = 0", sockaddr(80));
    let _ = writeln!(t, "1 listen(3, 4096) = 0");
    let payload = "x".repeat(1200);
    for i in 0..n {
        let fd = 4 + i;
        let _ = writeln!(t, "2 {SOCKET} = {fd}");
        let _ = writeln!(t, "2 connect({fd}, {}, 16) = 0", sockaddr(80));
        let _ = writeln!(
            t,
            "1 accept4(3, {}, [16], SOCK_CLOEXEC) = {fd}",
            sockaddr(10_000 + i % 50_000)
        );
        let _ = writeln!(t, "2 sendto({fd}, \"{payload}\", 1200, 0, NULL, 0) = 1200");
        let _ = writeln!(
            t,
            "2 poll([{{fd={fd}, events=POLLIN}}], 1, 1000) = 0 (Timeout)"
        );
    }
    t
}

/// N processes each in a call that never resumes.
fn unfinished(n: usize) -> String {
    let mut t = String::new();
    for i in 0..n {
        let pid = 100_000 + i;
        let _ = writeln!(t, "{pid} read(0,  <unfinished ...>");
    }
    t
}

/// N sockets opened and never closed.
fn open_sockets(n: usize) -> String {
    let mut t = String::new();
    for i in 0..n {
        let _ = writeln!(t, "1 {SOCKET} = {}", 3 + i);
    }
    t
}

const SHAPES: [Shape; 7] = [
    Shape {
        name: "forks",
        what: "N sockets open, then N forks",
        base: 1_000,
        generate: forks,
    },
    Shape {
        name: "processes",
        what: "N live processes",
        base: 10_000,
        generate: live_processes,
    },
    Shape {
        name: "listeners",
        what: "N listeners, each connected once",
        base: 10_000,
        generate: listeners,
    },
    Shape {
        name: "open-listeners",
        what: "N listening sockets never closed",
        base: 10_000,
        generate: open_listeners,
    },
    Shape {
        name: "unanswered",
        what: "N connections blocked on a read",
        base: 1_000,
        generate: unanswered_reads,
    },
    Shape {
        name: "unfinished",
        what: "N calls never resumed, distinct pids",
        base: 10_000,
        generate: unfinished,
    },
    Shape {
        name: "sockets",
        what: "N sockets never closed",
        base: 10_000,
        generate: open_sockets,
    },
];

/// Wall time, user CPU time and peak RSS of `netcheck diagnose --trace FILE`, or `None` past
/// `limit`. CPU time is what to compare on a busy machine.
fn measure(trace: &Path, limit: Duration) -> Option<(f64, f64, u64)> {
    let report = trace.with_extension("time");
    let mut child = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%e %U %M")
        .arg("-o")
        .arg(&report)
        .arg(env!("CARGO_BIN_EXE_netcheck"))
        .args(["diagnose", "--format", "json", "--trace"])
        .arg(trace)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let start = Instant::now();
    loop {
        if child.try_wait().ok()?.is_some() {
            break;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let text = fs::read_to_string(&report).ok()?;
    let mut fields = text.split_whitespace().rev().take(3);
    let rss_kb: u64 = fields.next()?.parse().ok()?;
    let cpu: f64 = fields.next()?.parse().ok()?;
    let wall: f64 = fields.next()?.parse().ok()?;
    Some((wall, cpu, rss_kb))
}

fn main() {
    if !Path::new("/usr/bin/time").exists() {
        eprintln!("complexity bench: needs /usr/bin/time (apt-get install time)");
        return;
    }
    let wanted = std::env::var("NETCHECK_BENCH_SHAPES").unwrap_or_default();
    let limit = std::env::var("NETCHECK_BENCH_LIMIT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let dir = std::env::temp_dir().join(format!("netcheck-complexity-{}", std::process::id()));
    let _ = fs::create_dir_all(&dir);
    println!("| shape | N | trace MB | wall s | CPU s | peak RSS MB |");
    println!("| --- | --- | --- | --- | --- | --- |");
    for shape in SHAPES
        .iter()
        .filter(|s| wanted.is_empty() || wanted.split(',').any(|w| w == s.name))
    {
        for scale in [1, 10, 100] {
            let n = shape.base * scale;
            let trace = dir.join(format!("{}-{n}.trace", shape.name));
            let text = (shape.generate)(n);
            if fs::write(&trace, &text).is_err() {
                eprintln!("cannot write {}", trace.display());
                return;
            }
            let mb = text.len() as f64 / 1e6;
            drop(text);
            let shown = match measure(&trace, Duration::from_secs(limit)) {
                Some((wall, cpu, rss_kb)) => {
                    format!("{wall:.2} | {cpu:.2} | {:.0}", rss_kb as f64 / 1024.0)
                }
                None => format!(">{limit} | ? | ?"),
            };
            println!(
                "| {} ({}) | {n} | {mb:.1} | {shown} |",
                shape.name, shape.what
            );
            let _ = fs::remove_file(&trace);
        }
    }
    let _ = fs::remove_dir_all(&dir);
}
