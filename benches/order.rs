//! Ordering throughput. TCP: N synthetic connections (request, answer, orderly close) between one
//! server trace and four client traces; UDP: N query/answer datagram pairs. Events are built in
//! memory, then replayed. Prints events/s and time
//! per connection for 1k, 10k and 100k connections: a flat time per connection shows linear
//! cost.
//!
//! Run: `cargo bench --bench order`

use std::time::Instant;

use netcheck::fold::SocketEvent;
use netcheck::order::{replay_with_stats, Step};
use netcheck::testkit::script::{topology, Script};

const CLIENTS: usize = 4;

fn build(connections: usize) -> (netcheck::config::Topology, Vec<Script>) {
    let ips: Vec<String> = (0..=CLIENTS).map(|i| format!("10.0.{}.1", i)).collect();
    let hosts: Vec<[&str; 1]> = ips.iter().map(|ip| [ip.as_str()]).collect();
    let host_refs: Vec<&[&str]> = hosts.iter().map(|h| &h[..]).collect();
    let topo = topology(&host_refs);
    let mut server = Script::new(0);
    let l = server.tcp();
    server.bind(l, "10.0.0.1:80");
    server.listen(l);
    let mut clients: Vec<Script> = (1..=CLIENTS).map(|i| Script::new(i as u32)).collect();
    for n in 0..connections {
        let k = n % CLIENTS;
        let client_addr = format!("10.0.{}.1:{}", k + 1, 10000 + (n / CLIENTS) % 50000);
        let request = format!("GET /{n} HTTP/1.1\r\n\r\n").into_bytes();
        let answer = format!("HTTP/1.1 200 OK\r\n\r\nbody {n}").into_bytes();
        let c = &mut clients[k];
        let fd = c.tcp();
        c.bind(fd, &client_addr);
        c.connect(fd, "10.0.0.1:80");
        c.send(fd, &request);
        c.recv(fd, &answer);
        c.close(fd);
        let s = server.accept(l, &client_addr);
        server.recv(s, &request);
        server.send(s, &answer);
        server.recv_eof(s);
        server.close(s);
    }
    let mut scripts = vec![server];
    scripts.extend(clients);
    (topo, scripts)
}

/// N query/answer datagram pairs between four clients and one server port (DNS-like).
fn build_udp(exchanges: usize) -> (netcheck::config::Topology, Vec<Script>) {
    let ips: Vec<String> = (0..=CLIENTS).map(|i| format!("10.0.{}.1", i)).collect();
    let hosts: Vec<[&str; 1]> = ips.iter().map(|ip| [ip.as_str()]).collect();
    let host_refs: Vec<&[&str]> = hosts.iter().map(|h| &h[..]).collect();
    let topo = topology(&host_refs);
    let mut server = Script::new(0);
    let srv = server.udp();
    server.bind(srv, "10.0.0.1:53");
    let mut clients: Vec<Script> = (1..=CLIENTS).map(|i| Script::new(i as u32)).collect();
    let client_fds: Vec<_> = clients
        .iter_mut()
        .enumerate()
        .map(|(k, c)| {
            let fd = c.udp();
            c.bind(fd, &format!("10.0.{}.1:5353", k + 1));
            fd
        })
        .collect();
    for n in 0..exchanges {
        let k = n % CLIENTS;
        let client_addr = format!("10.0.{}.1:5353", k + 1);
        let query = format!("query {n}").into_bytes();
        let answer = format!("answer {n}").into_bytes();
        clients[k].sendto(client_fds[k], &query, "10.0.0.1:53");
        clients[k].recvfrom(client_fds[k], &answer, "10.0.0.1:53");
        server.recvfrom(srv, &query, &client_addr);
        server.sendto(srv, &answer, &client_addr);
    }
    let mut scripts = vec![server];
    scripts.extend(clients);
    (topo, scripts)
}

fn measure(kind: &str, n: usize, topo: &netcheck::config::Topology, scripts: Vec<Script>) {
    let events: usize = scripts.iter().map(Script::len).sum();
    let traces: Vec<Box<dyn Iterator<Item = SocketEvent>>> = scripts
        .into_iter()
        .map(|s| Box::new(s.events().into_iter()) as Box<dyn Iterator<Item = SocketEvent>>)
        .collect();
    let start = Instant::now();
    let mut placed = 0u64;
    let (outcome, stats) = replay_with_stats(topo, traces, &mut |_: &Step| placed += 1);
    let elapsed = start.elapsed();
    assert_eq!(placed as usize, events, "every event placed");
    assert!(outcome.deviations.is_empty() && outcome.blocked.is_empty());
    let secs = elapsed.as_secs_f64();
    println!(
        "{kind:>5} {n:>10} {events:>10} {:>10.1} {:>14.0} {:>14.0} {:>10.2}",
        secs * 1e3,
        events as f64 / secs,
        secs * 1e9 / n as f64,
        stats.simulations as f64 / events as f64
    );
}

fn main() {
    println!(
        "{:>5} {:>10} {:>10} {:>10} {:>14} {:>14} {:>10}",
        "kind", "n", "events", "ms", "events/s", "ns/unit", "sims/event"
    );
    for n in [1_000, 10_000, 100_000] {
        let (topo, scripts) = build(n);
        measure("tcp", n, &topo, scripts);
    }
    for n in [1_000, 10_000, 100_000] {
        let (topo, scripts) = build_udp(n);
        measure("udp", n, &topo, scripts);
    }
}
