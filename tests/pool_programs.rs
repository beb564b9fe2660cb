//! Real middle daemons on three hosts (tests/fixtures/pool, recorded by lab/pool.sh): PgBouncer
//! in front of PostgreSQL (clients psql and pgbench), dnsdist in front of unbound serving a
//! local zone (clients dig, drill, kdig over TCP), a syslog-ng relay in front of a second
//! syslog-ng (client logger over TCP and UDP), and nghttpd serving HTTP/2 without TLS (clients
//! nghttp, h2load, curl --http2-prior-knowledge); healthy and under real faults (the back end
//! down, firewall DROP and REJECT on either link, the back end killed or crashed while it holds
//! a request, random loss, PgBouncer's max_client_conn reached), each scenario under another
//! strace flag set, in the full view and in the one-sided views.

use netcheck::testkit::table::{problem_rules, Corpus};

/// Rows whose expectation the diagnosis does not meet yet, each with what netcheck says instead.
/// A row listed here must still fail: fixing one means removing it from this list.
const KNOWN_GAPS: &[(&str, &str)] = &[
    (
        "dnsdist-drop-dig--vnone",
        "reports only ordering-incomplete and undecoded-addresses (info): under -e verbose=none \
         dig's bind and its connected UDP socket's address are pointers, so its query is matched \
         to no destination and its socket has no peer to count an unanswered request against",
    ),
    (
        "dnsdist-drop-dig--vnone @client",
        "reports only undecoded-addresses (info), for the same reason: the client's trace alone \
         never names the address its lost query went to",
    ),
    (
        "h2-loss-h2load--yy @client",
        "reports nothing: the 1.49 s round trip stands out only against nghttpd's own handling \
         time, which the client's trace alone does not show; its other waits are HTTP/2 frames \
         on an epoll loop",
    ),
    (
        "pgb-loss-pgbench--ttt @client",
        "reports nothing: pgbench's slow queries are visible as network time only against \
         PgBouncer's handling time; from the client alone a slow answer and a slow path look \
         the same",
    ),
    (
        "pgb-backend-crashed-psql--T @middle",
        "reports nothing: PgBouncer's server connection had carried answers (the start-up, a \
         SET) before the end of the stream met the query; from PgBouncer's side alone that is \
         the race of a server closing an idle connection as a request crosses it, and its \
         epoll waits name no socket, so the 1.4 s between the query and the close is not \
         measured against its quickest answer",
    ),
    (
        "pgb-pool-limit1-pgbench--i",
        "reports nothing: with max_client_conn 1 the refused connection was accepted while only \
         one other was open, below the two connections the read-then-refused pattern needs; and \
         pgbench, aborting at the refusal, ends its served session as short as the refused one \
         (pgb-pool-limit2-psql--Xv shows the limit found at two)",
    ),
    (
        "pgb-pool-limit1-pgbench--i @middle",
        "reports nothing, for the same reason: a ceiling of one connection, and the served \
         session cut short by pgbench's abort",
    ),
];

static CORPUS: Corpus = Corpus {
    name: "pool",
    min_scenarios: 32,
    max_bytes: 3 << 20,
    known_gaps: KNOWN_GAPS,
};

netcheck::corpus_tests!(CORPUS);

/// syslog-healthy-tcp--s0: the relay sends each message to the second syslog-ng and watches
/// the socket only to notice a close; after SIGTERM it waits 100 ms in its shutdown and
/// closes. That wait is the shutdown's, not one for an answer: no no-reply.
#[test]
fn a_relays_shutdown_wait_is_no_wait_for_an_answer() {
    for scenario in ["syslog-healthy-tcp--s0", "syslog-healthy-udp--r"] {
        let analysis = CORPUS.analyse(scenario);
        let problems = problem_rules(&analysis);
        assert!(problems.is_empty(), "{scenario}: {problems:?}");
    }
}

/// pgb-backend-crashed-psql--T: every PostgreSQL process is sent SIGKILL; the session's back
/// end, not killed in time, sees its postmaster gone and exits with status 1 with PgBouncer's
/// query read and unanswered. Its failed exit left the query as a kill would.
#[test]
fn a_back_end_exiting_in_failure_with_the_query_read_left_it_unanswered() {
    let summary = CORPUS
        .only_finding("pgb-backend-crashed-psql--T", "no-reply")
        .summary;
    assert!(summary.starts_with("host middle "), "{summary}");
    assert!(summary.contains("10.102.2.2:5432"), "{summary}");
}

/// pgb-pool-limit2-psql--Xv: PgBouncer reads the SSL request and the startup packet of the
/// third client before it refuses it with one short FATAL message, at the most connections it
/// ever held: a connection limit.
#[test]
fn pgbouncers_max_client_conn_is_an_admission_limit() {
    let rules = CORPUS.rules_of("pgb-pool-limit2-psql--Xv");
    assert!(rules.contains(&"admission-limit"), "{rules:?}");
    assert!(!rules.contains(&"connect-refused"), "{rules:?}");
}

/// dnsdist-backend-down-drill--n: dnsdist asks unbound from connected UDP sockets; nothing is
/// bound there, and Linux reports the ICMP port unreachable on the socket's next receive as
/// ECONNREFUSED: the refusal is dnsdist's, on the second link.
#[test]
fn a_refused_udp_back_end_is_the_middles_refusal() {
    let analysis = CORPUS.analyse("dnsdist-backend-down-drill--n");
    let refused: Vec<_> = analysis
        .findings
        .iter()
        .filter(|f| f.rule == "connect-refused")
        .collect();
    assert!(!refused.is_empty(), "{:?}", analysis.findings);
    assert!(
        refused
            .iter()
            .all(|f| f.summary.starts_with("host middle ")),
        "{refused:?}"
    );
}
