//! `admission-limit`: a server turned connections away while it held others open: a connection
//! limit.

use std::collections::BTreeMap;

use super::claim_socket_deviations;
use crate::diagnose::claims::Direction;
use crate::diagnose::context::plural;
use crate::diagnose::rule::Rule;
use crate::diagnose::{Claims, Class, Context, Evidence, Finding};
use crate::model::{DeviationKind, TcpConnection};
use crate::source::{Loc, SockId};

mod queue;

pub use queue::syn_dropped_by_full_queue;

pub const RULE: Rule = Rule {
    id: "admission-limit",
    class: Class::Application,
    title: "A server turned connections away while it held others open",
    explanation: EXPLANATION,
    detect,
};

const EXPLANATION: &str = "\
## What it detects
A server at its limit of clients served at once, seen in the system calls alone: it accepted a
connection, sent one short message (at most 512 bytes) or nothing at all without reading what
the client had sent, and closed it first, while it kept open another connection accepted earlier from the same
listener that it did not treat that way (memcached's `-c`). A connection held by a client no trace
shows counts too: the server's own trace counts the connections of the listener it held when it
accepted the turned-away one (git daemon's `--max-connections` with an untraced client in the
slot).

512 bytes is the size every IP path carries in one piece (RFC 791's 576-byte datagram less its
headers; the bound RFC 1035 sets on DNS messages): one error line or packet, not a response.
The order of calls inside the server's trace (one file, in time order) tells which connections
were open together; clocks of different hosts are not compared.

With the clients untraced (declared hosts without a trace), the server's trace alone shows the
same: a connection it accepted while it held others of the listener open, answered with one
short message without reading anything, and closed itself (not by its exit on a stop or a
kill); or closed without a word: nothing read, nothing sent, never watched for readiness, and
closed by the thread that accepted it before that thread waited for anything (a connection
dropped for being idle was waited on first). Only calls on the server's own socket count, so nothing is assumed about what the client
sent.

A server that reads the client's request before refusing it (PostgreSQL reads the startup
packet before `too many clients`) looks like any short request and answer. It is reported only
when it answered short exactly at the most connections it ever held (at least two), and every
connection it accepted with fewer open was served in full: a limit refuses only at the limit,
while a health check or an HTTP/1.0 exchange ends short at any load.

## Why it matters
The network and the server are up, yet some clients fail: the ones that arrived while the server
was full. The failure depends on load and timing, so it comes and goes.

## Evidence
The accept and close of each turned-away connection, and a connection the server held
meanwhile.

## What to do
Raise the limit (`max_connections`, memcached `-c`, Apache `MaxRequestWorkers` / `MaxClients`,
nginx `worker_connections`), add workers, or make clients pool and reuse connections.

A server that serves a fixed number of connections at a time (one Apache worker, a
single-threaded server) shows it differently: a client's connection waits in the listen queue
while the server is busy with others, and the client gives up before the server takes it. The
server accepts it after the client closed, at a time when it had already answered other
connections of the listener (so it was serving, not starting: see `accepted-after-client-left`),
and the client had waited at least 0.2 s before closing (Linux's minimum retransmission timeout,
the least a program waiting for a network answer gives it). Both facts about the server come
from its own trace, in its own order. A connection the server never accepted at all, while it
answered other connections of the listener, counts the same when its client closed by itself
after waiting: a listen queue hands out connections in order, so the server accepted nothing
after it arrived (lighttpd at `server.max-connections` stops watching its listener).

A connection served in the end shows it too: its client waited for the answer (from its request
to the answer's first byte, on its own clock) longer than the server took to answer it (from its
accept to its first byte of answer, on the server's clock) plus one round trip (its connect's
duration), by at least 0.2 s, and the server
accepted it only after closing a connection it held when this one was made. The replay's order
says so, or, since the replay may run the server's trace ahead of a client's, the clocks as they
read (the client's connect before the server's close): they only confirm the wait the client's
own clock measured, which the server's handling does not explain.

A server whose listen backlog is small shows one more sign: Linux drops the SYN of a client that
arrives while the accept queue holds more connections than the backlog (`listen()`'s argument,
capped at `net.core.somaxconn`), so that client's connect completes only after retransmitting
its SYN (1 s, 3 s... later). Such a connect, made while the replay's queue was full at a
listener whose clients' clocks show connections kept waiting, is listed with that finding and
not reported as `network-stall`: the server's queue dropped the SYNs, not the network.

Precedence: the bytes the turned-away clients sent are not reported again as `data-unreceived`,
and the server's answers to clients that had given up are not reported as
`send-after-peer-closed`.
";

/// The fewest connections a server must hold at once before a short answer to a request read
/// in full counts as a rejection: with one, a health check beside one long-lived connection
/// looks the same.
pub const MIN_CEILING: u32 = 2;

/// Whether `a` comes before `b` in the same trace file (its lines are in time order).
fn before(a: Loc, b: Loc) -> bool {
    a.trace == b.trace && a.file == b.file && a.line < b.line
}

/// Accepted, told something short (or nothing) without the server reading what the client
/// sent, and closed by the server first.
fn turned_away(c: &TcpConnection) -> bool {
    let unread =
        c.to_server.stats.received == 0 || c.to_server.stats.received < c.to_server.stats.sent;
    (c.answered_short() && unread) || c.refused_in_silence()
}

/// A connection of the same listener, accepted before `c` and still open when `c` was closed.
fn held_meanwhile<'a>(
    others: &[(usize, &'a TcpConnection)],
    c: &TcpConnection,
) -> Option<&'a TcpConnection> {
    let (accepted, closed) = (c.accept_loc?, c.server_close?);
    others.iter().map(|(_, o)| *o).find(|o| {
        !turned_away(o)
            && o.accept_loc.is_some_and(|a| before(a, accepted))
            && o.server_close.is_none_or(|end| before(closed, end))
    })
}

/// How many connections of the listener that no traced connect made the server held open when
/// it accepted `c`: more connections were open then (`open_at_accept`, whoever their clients)
/// than the traced ones accepted before `c` and not yet closed. An untraced client's connection
/// is held the way a traced one is (`tcpd/git-limit--k`: an idle connection from an untraced
/// host holds git daemon's one slot).
fn untraced_held_at_accept(others: &[(usize, &TcpConnection)], c: &TcpConnection) -> u32 {
    let Some(accepted) = c.accept_loc else {
        return 0;
    };
    let traced_open = others
        .iter()
        .filter(|(_, o)| {
            o.accept_loc.is_some_and(|a| before(a, accepted))
                && o.server_close.is_none_or(|end| before(accepted, end))
        })
        .count();
    let traced_open = u32::try_from(traced_open).unwrap_or(u32::MAX);
    c.open_at_accept.saturating_sub(traced_open)
}

fn detect(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    let mut findings = turned_away_findings(cx, claims);
    findings.extend(queue::queued_past_patience(cx, claims));
    findings.extend(queue::kept_waiting(cx));
    findings
}

/// One listener's turned-away connections: their evidence, and the streams to claim.
#[derive(Default)]
struct TurnedAway {
    evidence: Vec<Evidence>,
    count: u64,
    streams: Vec<usize>,
    /// Connections the server accepted from that listener, traced clients or not.
    accepted: usize,
    /// The most connections of untraced clients it held when it turned a traced one away.
    untraced_held: u32,
}

impl TurnedAway {
    fn add(&mut self, accept: Loc, close: Option<Loc>, closed_how: String) {
        self.count += 1;
        self.evidence.push(Evidence::new(accept, "accepted"));
        if let Some(close) = close {
            self.evidence.push(Evidence::new(close, closed_how));
        }
    }
}

/// Connections turned away with a short message while the server held others.
fn turned_away_findings(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    let mut by_listener: BTreeMap<SockId, Vec<(usize, &TcpConnection)>> = BTreeMap::new();
    for (i, c) in cx.outcome.tcp.iter().enumerate() {
        if let Some(listener) = c.listener {
            by_listener.entry(listener).or_default().push((i, c));
        }
    }
    // A server that reads the request before refusing (PostgreSQL's startup packet) looks like
    // any short exchange, except that it answers so only at its most connections.
    let at_ceiling = |listener: SockId| {
        cx.outcome
            .listener_loads
            .iter()
            .find(|l| l.listener == listener)
            .filter(|l| l.short_only_at_ceiling(MIN_CEILING))
    };
    let mut turned: BTreeMap<SockId, TurnedAway> = BTreeMap::new();
    for (&listener, conns) in &by_listener {
        let ceiling = at_ceiling(listener).is_some();
        for &(i, c) in conns {
            let read_then_refused = ceiling && c.answered_short();
            if !(turned_away(c) || read_then_refused) || claims.stream(i, Direction::ToServer) {
                continue;
            }
            let held = held_meanwhile(conns, c);
            let untraced_held = untraced_held_at_accept(conns, c);
            if held.is_none() && !read_then_refused && untraced_held == 0 {
                continue;
            }
            let entry = turned.entry(listener).or_default();
            entry.untraced_held = entry.untraced_held.max(untraced_held);
            let closed_how = format!(
                "closed after {} sent and {} of the client's {} read",
                plural(c.to_client.stats.sent, "byte", "bytes"),
                c.to_server.stats.received,
                c.to_server.stats.sent,
            );
            if let Some(accept) = c.accept_loc {
                entry.add(accept, c.server_close, closed_how);
            }
            entry.streams.push(i);
            // The client's request was still unread when the server closed: the kernel answered
            // it with a reset, which is part of the refusal, not a fault of its own.
            claim_socket_deviations(cx, claims, c.client, |k| {
                matches!(k, DeviationKind::ConnectionReset)
            });
            if let Some(a) = held.and_then(|h| h.accept_loc) {
                entry
                    .evidence
                    .push(Evidence::new(a, "a connection held open meanwhile"));
            }
        }
    }
    // Clients no trace shows: the server's side alone. Turned away is answered short without
    // reading anything, with another connection of the listener held open meanwhile.
    for r in &cx.outcome.unobserved_short_answers {
        let read_then_refused = at_ceiling(r.listener).is_some();
        let alone_turned_away = !r.read_bytes && r.open_at_accept >= 1;
        if !(alone_turned_away || read_then_refused) {
            continue;
        }
        let closed_how = format!(
            "closed after {} sent, {} read, with {} other {} open",
            plural(r.sent, "byte", "bytes"),
            if r.read_bytes {
                "the request"
            } else {
                "nothing"
            },
            r.open_at_accept,
            if r.open_at_accept == 1 {
                "connection"
            } else {
                "connections"
            },
        );
        turned
            .entry(r.listener)
            .or_default()
            .add(r.accept_loc, r.close_loc, closed_how);
    }
    let mut findings = Vec::new();
    for (listener, mut entry) in turned {
        entry.accepted = by_listener.get(&listener).map_or(0, |conns| {
            conns.iter().filter(|(_, c)| c.server.is_some()).count()
        });
        let held = match at_ceiling(listener) {
            Some(load) => format!(
                "while it held {} others open, the most it ever held",
                load.most_open_at_accept
            ),
            None if entry.untraced_held > 0 => format!(
                "while it held {} open (of clients not traced)",
                plural(u64::from(entry.untraced_held), "other", "others")
            ),
            None if entry.accepted > 0 => {
                format!("while it held others open ({} accepted)", entry.accepted)
            }
            None => "while it held others open".to_string(),
        };
        let summary = format!(
            "{} turned away {} on {} (accepted, then closed with a short message or none) {held}: a \
             connection limit",
            cx.who(listener.trace),
            plural(entry.count, "connection", "connections"),
            cx.sock(listener),
        );
        findings.push(
            RULE.finding(
                summary,
                "raise the server's connection limit (max_connections, memcached -c, MaxRequestWorkers) or add workers",
            )
            .with_evidence(entry.evidence),
        );
        for i in entry.streams {
            claims.claim_stream(i, Direction::ToServer);
            claims.claim_stream(i, Direction::ToClient);
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::model::tcp::load::ListenerLoad;
    use crate::model::TcpConnection;
    use crate::testkit::fixtures::*;
    use crate::testkit::rules::*;

    /// A connection from client trace `client` accepted at server line `accept`, closed by the
    /// server at line `close` (None: still open).
    fn served(client: u32, accept: u64, close: Option<u64>) -> TcpConnection {
        let mut c = connection(
            sock(client, 0),
            "10.0.0.1:40000",
            sock(0, 0),
            Some(sock(0, accept as u32)),
            "10.0.0.2:11211",
            loc(client, 5),
            Some(loc(0, accept)),
        );
        c.server_close = close.map(|l| loc(0, l));
        c
    }

    fn turned_away_at(client: u32, accept: u64, close: u64) -> TcpConnection {
        let mut c = served(client, accept, Some(close));
        c.server_closed_first = true;
        c.to_client = stream(33, 33, 33, 1, loc(0, accept + 1));
        c.to_server = stream(14, 0, 14, 1, loc(client, 6));
        c
    }

    fn topology3() -> crate::config::Topology {
        topology(&[
            ("server", &["10.0.0.2"]),
            ("idle", &["10.0.0.1"]),
            ("late", &["10.0.0.3"]),
        ])
    }

    #[test]
    fn fires_alone_on_a_admission_limit_pattern() {
        let outcome = tcp(vec![served(1, 10, None), turned_away_at(2, 20, 22)]);
        let found = assert_fires_alone(&RULE, topology3(), outcome, none());
        assert!(
            found[0].summary.contains("turned away 1 connection"),
            "{}",
            found[0].summary
        );
    }

    /// Mosquitto at `max_connections`: the publisher's CONNECT is never read, nothing is sent,
    /// and the broker closes (apps/mqtt-max-connections, broker.trace:256-266).
    #[test]
    fn a_connection_closed_unread_without_a_word_is_turned_away_too() {
        let mut silent = turned_away_at(2, 20, 22);
        silent.to_client = stream(0, 0, 0, 0, loc(0, 21));
        let outcome = tcp(vec![served(1, 10, None), silent.clone()]);
        assert_fires_alone(&RULE, topology3(), outcome, none());
        // A client that sent nothing and a server that closed: an idle connection dropped.
        silent.to_server = stream(0, 0, 0, 0, loc(2, 6));
        let outcome = tcp(vec![served(1, 10, None), silent]);
        assert!(!fired(topology3(), outcome).contains(&RULE.id));
    }

    /// git daemon `--max-connections=1` while an untraced host's idle connection holds the slot
    /// (tcpd/git-limit--k, server.trace:4915 `accept(3, {... sin_addr=inet_addr("10.97.1.2")},
    /// [28 => 16]) = 4`, :4939 `close(4) = 0`): the traced client's connection is closed
    /// unread with one other open, a connection no traced connect made.
    #[test]
    fn a_connection_turned_away_while_an_untraced_clients_is_held_is_a_limit() {
        let mut refused = turned_away_at(2, 4915, 4939);
        refused.to_client = stream(0, 0, 0, 0, loc(0, 4916));
        refused.to_server = stream(55, 0, 55, 1, loc(2, 6));
        refused.open_at_accept = 1;
        let found = assert_fires_alone(&RULE, topology3(), tcp(vec![refused.clone()]), none());
        assert!(
            found[0]
                .summary
                .contains("1 other open (of clients not traced)"),
            "{}",
            found[0].summary
        );
        // Nothing else open when it was accepted: an idle connection dropped, no limit.
        refused.open_at_accept = 0;
        assert!(!fired(topology3(), tcp(vec![refused.clone()])).contains(&RULE.id));
        // The one open was a traced client's: that connection is the one held, none untraced.
        refused.open_at_accept = 1;
        let outcome = tcp(vec![served(1, 10, None), refused]);
        let found = assert_fires_alone(&RULE, topology3(), outcome, none());
        assert!(
            !found[0].summary.contains("not traced"),
            "{}",
            found[0].summary
        );
    }

    #[test]
    fn short_exchanges_closed_by_the_server_alike_are_not_a_limit() {
        // Every connection answered briefly and closed by the server: an HTTP server without
        // keep-alive, not a rejection.
        let outcome = tcp(vec![turned_away_at(1, 10, 30), turned_away_at(2, 20, 22)]);
        assert!(!fired(topology3(), outcome).contains(&RULE.id));
    }

    #[test]
    fn a_short_answer_to_a_request_read_whole_is_not_a_rejection() {
        // A health check: the server read the whole request, answered and closed.
        let mut c = turned_away_at(2, 20, 22);
        c.to_server = stream(18, 18, 18, 1, loc(2, 6));
        let outcome = tcp(vec![served(1, 10, None), c]);
        assert!(!fired(topology3(), outcome).contains(&RULE.id));
    }

    fn load(most: u32, fewest_short: Option<u32>) -> ListenerLoad {
        ListenerLoad {
            listener: sock(0, 0),
            open: 0,
            answered: most + 1,
            closes: 0,
            last_close_at: None,
            most_open_at_accept: most,
            answered_short: u32::from(fewest_short.is_some()),
            fewest_open_at_short: fewest_short,
        }
    }

    /// PostgreSQL at `max_connections = 3`: the fourth backend reads the startup packet, sends
    /// `too many clients` and exits, while three sessions are held.
    fn read_then_refused(loads: Vec<ListenerLoad>) -> Vec<&'static str> {
        let mut refused = turned_away_at(3, 40, 42);
        refused.to_server = stream(71, 71, 71, 1, loc(3, 6));
        let mut outcome = tcp(vec![served(1, 10, None), served(2, 20, None), refused]);
        outcome.listener_loads = loads;
        fired(topology3(), outcome)
    }

    #[test]
    fn a_short_answer_only_at_the_most_connections_held_is_a_rejection() {
        assert!(read_then_refused(vec![load(3, Some(3))]).contains(&RULE.id));
    }

    #[test]
    fn a_short_answer_also_given_below_the_most_is_no_limit() {
        assert!(!read_then_refused(vec![load(3, Some(1))]).contains(&RULE.id));
        // One held connection is not enough: a health check beside a long session.
        assert!(!read_then_refused(vec![load(1, Some(1))]).contains(&RULE.id));
    }

    #[test]
    fn a_rejection_after_the_others_closed_is_not_a_limit() {
        let outcome = tcp(vec![served(1, 10, Some(12)), turned_away_at(2, 20, 22)]);
        assert!(!fired(topology3(), outcome).contains(&RULE.id));
    }

    #[test]
    fn fires_on_recorded_admission_limit() {
        assert_recorded_scenarios_report(
            &RULE,
            &[
                "admission-limit--nc--python--record",
                "admission-limit--nc--python--plain",
                "admission-limit--python--python--record",
                "admission-limit--python--python--plain",
            ],
        );
    }

    /// Apache's one worker (apps/apache-backlog-give-up): client2's connection waited in the
    /// queue while the worker served client1's download; curl gave up after 0.975 s and the
    /// worker took it from the queue afterwards, answering into the closed connection.
    fn taken_after_giving_up(while_starting: bool) -> crate::model::ReplayOutcome {
        let mut c = accepted(78, 78, 78);
        c.to_client = stream(450, 0, 450, 1, loc(1, 312));
        c.late_accept = Some(crate::model::LateAccept { while_starting });
        c.client_held = Some(0.975);
        let mut outcome = tcp(vec![c]);
        outcome.deviations.push(deviation(
            crate::model::DeviationKind::SendAfterPeerClosed { errno: None },
            loc(1, 312),
            Some(sock(1, 1)),
        ));
        outcome
    }

    #[test]
    fn fires_alone_on_a_connection_taken_after_its_client_gave_up() {
        let found = assert_fires_on(&RULE, taken_after_giving_up(false));
        assert!(
            found[0].summary.contains("given up"),
            "{}",
            found[0].summary
        );
    }

    #[test]
    fn a_server_still_starting_is_not_at_its_limit() {
        assert_eq!(
            fired(two_hosts(), taken_after_giving_up(true)),
            ["accepted-after-client-left"]
        );
    }

    #[test]
    fn fires_on_a_recorded_one_worker_apache() {
        let analysis = recorded("apps", "apache-backlog-give-up");
        let rules: Vec<&str> = analysis.findings.iter().map(|f| f.rule).collect();
        assert_eq!(rules, [RULE.id]);
    }

    /// lighttpd at `server.max-connections = 1` (apps/lighty-backlog-give-up): client2's
    /// connection is never accepted while lighttpd serves client1; client2 gives up after 1 s.
    #[test]
    fn fires_on_a_connection_never_taken_while_the_server_served_another() {
        for name in ["lighty-backlog-give-up", "lighty-backlog-give-up-plain"] {
            let analysis = recorded("apps", name);
            let found: Vec<_> = analysis
                .findings
                .iter()
                .filter(|f| f.rule == RULE.id)
                .collect();
            assert!(
                found.iter().any(|f| f.summary.contains("never took")),
                "{name}: {:?}",
                analysis.findings
            );
        }
    }

    /// A server that never answered anyone (lab/listen-never-accepts) is not at a limit.
    #[test]
    fn a_listener_that_served_nobody_is_not_at_a_limit() {
        let analysis = recorded("lab", "listen-never-accepts");
        assert!(analysis.findings.iter().all(|f| f.rule != RULE.id));
    }

    /// lighttpd and Apache serving one connection at a time (apps/lighty-backlog-wait,
    /// -plain, apps/apache-backlog-wait): the second client's connect completes at once, its
    /// answer comes 1.4 to 2.5 s later, and the server accepts it right after closing the first.
    #[test]
    fn fires_on_connections_kept_waiting_in_the_queue() {
        for name in [
            "lighty-backlog-wait",
            "lighty-backlog-wait-plain",
            "apache-backlog-wait",
        ] {
            let analysis = recorded("apps", name);
            assert!(
                analysis
                    .findings
                    .iter()
                    .any(|f| f.rule == RULE.id && f.summary.contains("waiting in the queue")),
                "{name}: {:?}",
                analysis.findings
            );
        }
    }

    /// The same servers with their clients one after the other are clean.
    #[test]
    fn clients_one_after_the_other_wait_in_no_queue() {
        for name in ["lighty-healthy", "lighty-healthy-plain", "apache-healthy"] {
            let analysis = recorded("apps", name);
            assert!(
                analysis.findings.iter().all(|f| f.rule != RULE.id),
                "{name}"
            );
        }
    }

    #[test]
    fn fires_alone_on_a_connection_kept_waiting() {
        let mut c = accepted(60, 60, 60);
        c.to_client = stream(40, 40, 40, 1, loc(1, 70));
        c.queue_wait = Some(2.14);
        assert_fires_on(&RULE, tcp(vec![c]));
    }

    /// The server's trace alone: its clients are declared but not traced, so their connections
    /// are not replayed, yet the server shows each refusal (Python's limit server and
    /// memcached write one line and close without reading; PostgreSQL reads the startup packet
    /// and refuses only at its most connections).
    #[test]
    fn fires_on_the_servers_trace_alone() {
        for (corpus, name) in [
            ("lab", "admission-limit--nc--python--record"),
            ("lab", "admission-limit--python--python--plain"),
            ("apps", "mc-conn-limit"),
            ("apps", "pg-max-connections"),
            ("apps", "mqtt-max-connections"),
        ] {
            let server = if name.starts_with("mqtt") {
                "broker"
            } else {
                "server"
            };
            let analysis = recorded_view(corpus, name, server);
            let rules: Vec<&str> = analysis.findings.iter().map(|f| f.rule).collect();
            assert!(rules.contains(&RULE.id), "{name}: {rules:?}");
        }
    }

    /// A server that holds two idle connections and closes them together before it exits (lab
    /// fd-exhaustion, server.trace:109-139): it waited between accept and close, no refusal.
    #[test]
    fn connections_held_then_closed_unread_are_no_refusal() {
        let analysis = recorded_view("lab", "fd-exhaustion--nc--python--record", "server");
        let rules: Vec<&str> = analysis.findings.iter().map(|f| f.rule).collect();
        assert!(!rules.contains(&RULE.id), "{rules:?}");
    }

    /// etcd's peer connections, seen from one member: a connection it answered briefly is closed
    /// by the SIGTERM that stops it, not by the program: no refusal.
    #[test]
    fn a_connection_closed_by_the_stop_is_no_refusal() {
        let analysis = recorded_view("apps", "etcd-healthy", "e2");
        let rules: Vec<&str> = analysis.findings.iter().map(|f| f.rule).collect();
        assert!(!rules.contains(&RULE.id), "{rules:?}");
    }
}
