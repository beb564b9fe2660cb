//! Zero-config inference on the lab's NAT scenarios finds the NAT a person would write by hand.

use std::path::{Path, PathBuf};

use netcheck::config::{load, Inputs, Topology};

fn scenario(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/lab")
        .join(name)
}

fn traces(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("scenario folder")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "trace"))
        .collect();
    found.sort();
    found
}

/// Every NAT rule as `(host that owns the trace file, "nat PRIVATE PUBLIC" line)`.
fn nat_lines(topology: &Topology) -> Vec<(String, String)> {
    let mut lines = Vec::new();
    for host in &topology.hosts {
        let owner = host
            .traces
            .first()
            .and_then(|t| topology.traces.get(t.0 as usize))
            .and_then(|spec| spec.path.file_stem())
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        for nat in &host.nats {
            let side = |e: netcheck::config::Endpoint| match e.port {
                Some(port) => format!("{},{port}", e.ip),
                None => e.ip.to_string(),
            };
            lines.push((
                owner.clone(),
                format!("nat {} {}", side(nat.private), side(nat.public)),
            ));
        }
    }
    lines.sort();
    lines
}

fn inferred(name: &str) -> Vec<(String, String)> {
    let dir = scenario(name);
    let topology = load(&Inputs {
        paths: traces(&dir),
        one_host: Vec::new(),
    })
    .expect("traces load");
    assert!(topology
        .hosts
        .iter()
        .flat_map(|h| &h.nats)
        .all(|n| n.inferred));
    nat_lines(&topology)
}

fn declared(name: &str) -> Vec<(String, String)> {
    let topology = load(&Inputs {
        paths: vec![scenario(name).join("netcheck.conf")],
        one_host: Vec::new(),
    })
    .expect("config loads");
    nat_lines(&topology)
}

#[test]
fn a_masquerading_nat_is_inferred_as_declared() {
    let declared = declared("nat-declared");
    assert_eq!(
        declared,
        vec![("client".into(), "nat 10.77.2.21 10.77.1.254".into())]
    );
    assert_eq!(inferred("nat-declared"), declared);
}

#[test]
fn an_undeclared_nat_is_inferred_as_a_person_would_declare_it() {
    // lab/README.md: the client 10.77.2.21 sits behind a MASQUERADE router whose public
    // address is 10.77.1.254; the hand-written config of nat-declared says exactly that.
    assert_eq!(inferred("nat-undeclared"), declared("nat-declared"));
}

#[test]
fn a_port_forward_is_inferred_on_the_server() {
    // lab/README.md: the router forwards 10.77.1.254:8080 to the server's 10.77.3.10:8000.
    assert_eq!(
        inferred("port-forward-undeclared"),
        vec![(
            "server".into(),
            "nat 10.77.3.10,8000 10.77.1.254,8080".into()
        )]
    );
}
