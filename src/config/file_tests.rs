//! Config file parsing and loading, on small files written into a scratch folder.

use std::fs;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use super::*;
use crate::config::{load, Endpoint, Inputs};

/// A scratch folder with two traces, a `-ff` set `out.123`, and a sub-folder `dir`.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("netcheck-file-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.join("dir")).unwrap();
    for file in ["server.trace", "client.trace", "out.123"] {
        fs::write(dir.join(file), "1 close(3) = 0\n").unwrap();
    }
    dir
}

fn parse_in(dir: &Path, text: &str) -> Result<Topology, Vec<String>> {
    let path = dir.join("netcheck.conf");
    fs::write(&path, text).unwrap();
    parse(text, &path, dir)
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn ep(text: &str, port: Option<u16>) -> Endpoint {
    Endpoint { ip: ip(text), port }
}

#[test]
fn a_full_config_is_read_with_defaults_and_comments() {
    let dir = scratch("full");
    let text = "\
# a comment line
ignore 8.8.8.8            # a trailing comment
HOST server
  trace server.trace web front
  ip 10.0.0.2
  IP fd00::2
  Nat 192.168.0.8 128.238.38.67
host
\tTrace client.trace
  nat 192.168.1.50,3005 96.250.21.150,3001
  nat [fd00::1],53 2001:db8::1,5353

ignore 10.0.0.1,0
host ff
 trace out
 trace dir/../client.trace#not-a-comment-inside-a-token
";
    fs::write(
        dir.join("client.trace#not-a-comment-inside-a-token"),
        "1 close(3) = 0\n",
    )
    .unwrap();
    let topology = parse_in(&dir, text).unwrap();
    let names: Vec<&str> = topology.hosts.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(names, ["server", "host1", "ff"]);
    let traces: Vec<(&str, PathBuf, usize)> = topology
        .traces
        .iter()
        .map(|t| (t.name.as_str(), t.path.clone(), t.host))
        .collect();
    assert_eq!(
        traces,
        [
            ("web front", dir.join("server.trace"), 0),
            ("client.trace", dir.join("client.trace"), 1),
            ("out", dir.join("out"), 2),
            (
                "client.trace#not-a-comment-inside-a-token",
                dir.join("dir/../client.trace#not-a-comment-inside-a-token"),
                2
            ),
        ]
    );
    assert_eq!(topology.hosts[2].traces, [TraceId(2), TraceId(3)]);
    assert_eq!(topology.hosts[0].ips, [ip("10.0.0.2"), ip("fd00::2")]);
    let nats: Vec<(Endpoint, Endpoint, bool)> = topology
        .hosts
        .iter()
        .flat_map(|h| h.nats.iter().map(|n| (n.private, n.public, n.inferred)))
        .collect();
    assert_eq!(
        nats,
        [
            (ep("192.168.0.8", None), ep("128.238.38.67", None), false),
            (
                ep("192.168.1.50", Some(3005)),
                ep("96.250.21.150", Some(3001)),
                false
            ),
            (
                ep("fd00::1", Some(53)),
                ep("2001:db8::1", Some(5353)),
                false
            ),
        ]
    );
    assert_eq!(
        topology.ignores,
        [
            ep("127.0.0.1", Some(53)),
            ep("127.0.0.53", Some(53)),
            ep("8.8.8.8", None),
            ep("10.0.0.1", None),
        ]
    );
    assert_eq!(topology.origin, TopologyOrigin::ConfigFile);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn every_error_of_a_file_is_reported_with_its_line() {
    let dir = scratch("errors");
    let text = "\
hots server
trace server.trace
ip 10.0.0.1
nat 1.1.1.1 2.2.2.2
host a
ip
ip 10.0.0.1 10.0.0.2
ip 10.0.0.300
ip 10.0.0.1,80
ip 0.0.0.0
nat 10.0.0.1
nat 10.0.0.1,99999 1.2.3.4
nat x y
ignore
ignore 10.0.0.1:53
trace
trace missing.trace
trace dir
host a
host b
trace server.trace
TRACE server.trace other name
ignore [fd00::1]:53
";
    let problems = parse_in(&dir, text).unwrap_err();
    let file = dir.join("netcheck.conf");
    let f = file.display();
    let missing = dir.join("missing.trace");
    let expected = [
        format!("{f}:1: unknown command 'hots' (expected host, trace, ip, nat or ignore)"),
        format!("{f}:2: 'trace' before any 'host' line"),
        format!("{f}:3: 'ip' before any 'host' line"),
        format!("{f}:4: 'nat' before any 'host' line"),
        format!("{f}:6: 'ip' takes one address, got 0"),
        format!("{f}:7: 'ip' takes one address, got 2"),
        format!("{f}:8: bad address '10.0.0.300': expected an IPv4 or IPv6 address"),
        format!("{f}:9: 'ip' takes an address without a port, got '10.0.0.1,80'"),
        format!("{f}:10: 'ip 0.0.0.0' is the unspecified address; declare the host's real address"),
        format!("{f}:11: 'nat' takes two addresses (PRIVATE[,PORT] PUBLIC[,PORT]), got 1"),
        format!("{f}:12: bad port '99999' in '10.0.0.1,99999': expected a number from 0 to 65535"),
        format!(
            "{f}:13: bad address 'x': expected an IPv4 or IPv6 address; \
             bad address 'y': expected an IPv4 or IPv6 address"
        ),
        format!("{f}:14: 'ignore' takes one address (IP or IP,PORT), got 0"),
        format!("{f}:15: bad address '10.0.0.1:53': separate the port with a comma (IP,PORT)"),
        format!("{f}:16: 'trace' takes a file name and an optional name, got 0"),
        format!(
            "{f}:17: trace 'missing.trace': no such file, nor a -ff set {}.PID",
            missing.display()
        ),
        format!("{f}:18: trace 'dir': is a directory, not a trace file"),
        format!("{f}:19: host 'a' is already declared at line 5"),
        format!("{f}:22: trace 'server.trace' is already declared at line 21"),
        format!("{f}:23: bad address '[fd00::1]:53': separate the port with a comma (IP,PORT)"),
    ];
    assert_eq!(problems, expected);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_config_without_traces_is_an_error() {
    let dir = scratch("empty");
    let problems = parse_in(&dir, "# nothing\nhost lonely\n ip 10.0.0.1\n").unwrap_err();
    assert_eq!(
        problems,
        [format!(
            "{}: no traces declared (a config needs at least one 'host' with a 'trace FILE' line)",
            dir.join("netcheck.conf").display()
        )]
    );
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn absolute_trace_paths_are_kept() {
    let dir = scratch("absolute");
    let absolute = dir.join("server.trace");
    let text = format!("host h\n trace {}\n", absolute.display());
    let other = scratch("absolute-elsewhere");
    let topology = parse_in(&other, &text).unwrap();
    assert_eq!(topology.traces[0].path, absolute);
    fs::remove_dir_all(&dir).unwrap();
    fs::remove_dir_all(&other).unwrap();
}

#[test]
fn load_reads_a_config_file_by_content() {
    let dir = scratch("load-config");
    let config = dir.join("setup.txt");
    fs::write(&config, "# setup\nhost h\n trace server.trace\n").unwrap();
    let topology = load(&Inputs {
        paths: vec![config],
        one_host: Vec::new(),
    })
    .unwrap();
    assert_eq!(topology.origin, TopologyOrigin::ConfigFile);
    assert_eq!(topology.traces[0].path, dir.join("server.trace"));
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn load_makes_one_host_per_trace_without_a_config() {
    let dir = scratch("load-traces");
    let topology = load(&Inputs {
        paths: vec![dir.join("server.trace"), dir.join("client.trace")],
        one_host: Vec::new(),
    })
    .unwrap();
    assert_eq!(topology.origin, TopologyOrigin::Inferred);
    let hosts: Vec<(&str, Vec<TraceId>)> = topology
        .hosts
        .iter()
        .map(|h| (h.name.as_str(), h.traces.clone()))
        .collect();
    assert_eq!(
        hosts,
        [("server", vec![TraceId(0)]), ("client", vec![TraceId(1)])]
    );
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn load_puts_every_trace_on_one_host_in_one_host_mode() {
    let dir = scratch("load-one-host");
    let topology = load(&Inputs {
        paths: Vec::new(),
        one_host: vec![dir.join("server.trace"), dir.join("out")],
    })
    .unwrap();
    assert_eq!(topology.origin, TopologyOrigin::OneHost);
    assert_eq!(topology.hosts.len(), 1);
    assert_eq!(topology.hosts[0].name, "host0");
    assert!(topology.hosts[0].ips.is_empty());
    assert_eq!(topology.hosts[0].traces, [TraceId(0), TraceId(1)]);
    assert_eq!(topology.traces[1].host, 0);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn load_rejects_inconsistent_inputs_with_every_problem() {
    let dir = scratch("load-errors");
    let config = dir.join("netcheck.conf");
    fs::write(&config, "host h\n trace server.trace\n").unwrap();
    let trace = dir.join("server.trace");
    let missing = dir.join("nope.trace");
    let cases = [
        (
            Inputs::default(),
            vec!["no input: give a config file, trace files, or --trace FILES".to_string()],
        ),
        (
            Inputs {
                paths: vec![trace.clone()],
                one_host: vec![trace.clone()],
            },
            vec![
                "give traces either as arguments (one host each) or with --trace (all on one \
                 host), not both"
                    .to_string(),
            ],
        ),
        (
            Inputs {
                paths: vec![trace.clone(), config.clone()],
                one_host: Vec::new(),
            },
            vec![format!(
                "{}: is a config file; give one config file alone, or only trace files",
                config.display()
            )],
        ),
        (
            Inputs {
                paths: vec![missing.clone(), dir.join("dir")],
                one_host: Vec::new(),
            },
            vec![
                format!(
                    "{}: no such file, nor a -ff set {}.PID",
                    missing.display(),
                    missing.display()
                ),
                format!(
                    "{}: is a directory, not a trace file",
                    dir.join("dir").display()
                ),
            ],
        ),
        (
            Inputs {
                paths: Vec::new(),
                one_host: vec![trace.clone(), config.clone(), trace.clone()],
            },
            vec![
                format!("{}: is a config file, not a trace", config.display()),
                format!("{}: is given twice", trace.display()),
            ],
        ),
        (
            Inputs {
                paths: Vec::new(),
                one_host: vec![missing.clone()],
            },
            vec![format!(
                "{}: no such file, nor a -ff set {}.PID",
                missing.display(),
                missing.display()
            )],
        ),
    ];
    for (inputs, expected) in cases {
        let error = load(&inputs).unwrap_err();
        assert_eq!(error.problems, expected, "{inputs:?}");
        assert_eq!(error.message, expected.join("\n"));
    }
    fs::remove_dir_all(&dir).unwrap();
}

proptest::proptest! {
    /// Whatever the text, parsing never panics, and every problem names the file.
    #[test]
    fn any_text_gives_a_topology_or_located_problems(
        lines in proptest::collection::vec(
            "(host|trace|ip|nat|ignore|HOST|Nat|#|x)( [0-9a-f:.,\\[\\]#]{0,14}){0,3}",
            0..12,
        )
    ) {
        let text = lines.join("\n");
        let source = Path::new("/nonexistent-netcheck-dir/x.conf");
        match parse(&text, source, source.parent().unwrap_or(Path::new(""))) {
            Ok(topology) => proptest::prop_assert!(!topology.traces.is_empty()),
            Err(problems) => {
                proptest::prop_assert!(!problems.is_empty());
                for problem in problems {
                    proptest::prop_assert!(problem.starts_with("/nonexistent-netcheck-dir/x.conf:"));
                }
            }
        }
    }
}
