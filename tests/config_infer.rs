//! `netcheck config --infer` on real strace text: needs the trace parser to turn the lines into
//! calls.

use std::fs;
use std::path::PathBuf;
use std::process::Command;

fn scratch(name: &str, traces: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("netcheck-infer-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    for (file, text) in traces {
        fs::write(dir.join(file), text).unwrap();
    }
    dir
}

fn infer(dir: &PathBuf, traces: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_netcheck"))
        .current_dir(dir)
        .arg("config")
        .arg("--infer")
        .args(traces)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const FORWARDED_SERVER: &str = r#"1000  socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3
1000  bind(3, {sa_family=AF_INET, sin_port=htons(3005), sin_addr=inet_addr("192.168.1.50")}, 16) = 0
1000  listen(3, 5) = 0
1000  accept4(3, {sa_family=AF_INET, sin_port=htons(40000), sin_addr=inet_addr("198.51.100.9")}, [16], 0) = 4
1000  read(4, "hi", 1024) = 2
1000  close(4) = 0
1000  +++ exited with 0 +++
"#;

const FORWARDED_CLIENT: &str = r#"2000  socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3
2000  connect(3, {sa_family=AF_INET, sin_port=htons(3001), sin_addr=inet_addr("96.250.21.150")}, 16) = 0
2000  getsockname(3, {sa_family=AF_INET, sin_port=htons(40000), sin_addr=inet_addr("198.51.100.9")}, [16]) = 0
2000  write(3, "hi", 2) = 2
2000  close(3) = 0
2000  +++ exited with 0 +++
"#;

#[test]
fn a_port_forward_is_inferred_from_real_traces() {
    let dir = scratch(
        "forward",
        &[
            ("server.trace", FORWARDED_SERVER),
            ("client.trace", FORWARDED_CLIENT),
        ],
    );
    let printed = infer(&dir, &["server.trace", "client.trace"]);
    assert!(printed.contains("host server\n trace server.trace  # A\n ip 192.168.1.50\n"));
    assert!(
        printed.contains(" nat 192.168.1.50,3005 96.250.21.150,3001  # inferred: "),
        "{printed}"
    );
    assert!(printed.contains("host client\n trace client.trace  # B\n ip 198.51.100.9\n"));
    fs::remove_dir_all(&dir).unwrap();
}

const NAT_SERVER_YY: &str = r#"1000  socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3<TCP:[1001]>
1000  bind(3<TCP:[1001]>, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("0.0.0.0")}, 16) = 0
1000  listen(3<TCP:[0.0.0.0:80]>, 5) = 0
1000  accept4(3<TCP:[0.0.0.0:80]>, {sa_family=AF_INET, sin_port=htons(51000), sin_addr=inet_addr("203.0.113.7")}, [16], 0) = 4<TCP:[198.51.100.2:80->203.0.113.7:51000]>
1000  read(4<TCP:[198.51.100.2:80->203.0.113.7:51000]>, "hi", 1024) = 2
1000  close(4<TCP:[198.51.100.2:80->203.0.113.7:51000]>) = 0
"#;

const NAT_CLIENT_YY: &str = r#"2000  socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3<TCP:[2001]>
2000  connect(3<TCP:[2001]>, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("198.51.100.2")}, 16) = 0
2000  write(3<TCP:[192.168.1.10:40000->198.51.100.2:80]>, "hi", 2) = 2
2000  close(3<TCP:[192.168.1.10:40000->198.51.100.2:80]>) = 0
"#;

#[test]
fn a_natted_client_is_inferred_from_yy_decorations() {
    let dir = scratch(
        "client-nat",
        &[
            ("web.trace", NAT_SERVER_YY),
            ("laptop.trace", NAT_CLIENT_YY),
        ],
    );
    let printed = infer(&dir, &["web.trace", "laptop.trace"]);
    assert!(printed.contains("host web\n trace web.trace  # A\n ip 198.51.100.2\n"));
    assert!(
        printed.contains(
            "host laptop\n trace laptop.trace  # B\n ip 192.168.1.10\n \
             nat 192.168.1.10 203.0.113.7  # inferred: "
        ),
        "{printed}"
    );
    fs::remove_dir_all(&dir).unwrap();
}

/// Traces recorded by `tests/fixtures/config/record.sh` through a real NAT in network
/// namespaces.
fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/config")
        .join(name)
}

#[test]
fn a_real_masquerading_nat_is_inferred() {
    let printed = infer(&fixture("nat-client"), &["laptop.trace", "web.trace"]);
    assert!(
        printed.contains(
            "host laptop\n trace laptop.trace  # A\n ip 192.168.77.2\n \
             nat 192.168.77.2 198.51.100.1  # inferred: "
        ),
        "{printed}"
    );
    assert!(printed.contains("host web\n trace web.trace  # B\n ip 198.51.100.2\n"));
    assert!(!printed.contains("not inferred"), "{printed}");
}

#[test]
fn a_real_port_forward_is_inferred() {
    let printed = infer(&fixture("port-forward"), &["home.trace", "visitor.trace"]);
    assert!(
        printed.contains(
            "host home\n trace home.trace  # A\n ip 192.168.77.2\n \
             nat 192.168.77.2,3005 198.51.100.1,3001  # inferred: "
        ),
        "{printed}"
    );
    assert!(printed.contains("host visitor\n trace visitor.trace  # B\n ip 198.51.100.2\n"));
    assert!(!printed.contains("not inferred"), "{printed}");
}

#[test]
fn the_inferred_nat_lets_the_accept_match_the_connect() {
    use netcheck::config::matching::{MatchNote, Matcher, Role};
    use netcheck::config::{load, Inputs, TopologyOrigin};
    use netcheck::source::TraceId;

    let dir = fixture("nat-client");
    let topology = load(&Inputs {
        paths: vec![dir.join("laptop.trace"), dir.join("web.trace")],
        one_host: Vec::new(),
    })
    .unwrap();
    assert_eq!(topology.origin, TopologyOrigin::Inferred);
    let matcher = Matcher::new(&topology);
    // The web server accepted from 198.51.100.1:34664; the laptop's socket was
    // 192.168.77.2:34664 (the NAT kept the port).
    let seen = "198.51.100.1:34664".parse().unwrap();
    assert!(!matcher.is_outside(seen));
    let answer = matcher.can_be(
        TraceId(0),
        "192.168.77.2:34664".parse().unwrap(),
        TraceId(1),
        seen,
        Role::Client,
    );
    assert!(answer.matched);
    assert_eq!(answer.notes, [MatchNote::ThroughNat { declared: false }]);
    // The server's wildcard listener is what the laptop connected to.
    let listener = matcher.can_be(
        TraceId(1),
        "0.0.0.0:8080".parse().unwrap(),
        TraceId(0),
        "198.51.100.2:8080".parse().unwrap(),
        Role::Server,
    );
    assert!(listener.matched && listener.notes.is_empty());
}
