//! Real web programs on three hosts (tests/fixtures/web, recorded by lab/web.sh): Varnish
//! (`varnishd -F`: a manager and a threaded cache process) as a cache in front of gunicorn or
//! uWSGI on a third host, and clients aria2c, lftp, httpie, w3m, lynx, ab, ncat, busybox wget
//! and nc; healthy (through Varnish, a cache hit, straight to the app server) and under real
//! faults (server down, firewall DROP, REJECT with host unreachable, the back end down,
//! filtered, slow or killed behind Varnish, the app server killed while answering, random loss
//! on either link, a PMTU black hole), each scenario under another strace flag set, in the full
//! view and in the one-sided views.

use netcheck::testkit::table::{problem_rules, Corpus};

/// Rows whose expectation the diagnosis does not meet yet, each with what netcheck says instead.
/// A row listed here must still fail: fixing one means removing it from this list.
const KNOWN_GAPS: &[(&str, &str)] = &[
    (
        "mtu-black-hole-aria2c--y @client",
        "reports nothing: aria2c got the 200 headers of /big (a small segment), then nothing for \
         its 5 s timeout, and closed; from the client alone a transfer that stops mid-answer \
         and a server that sends no more look the same without reading the HTTP length",
    ),
    (
        "varnish-healthy-ab--f @cache",
        "reports connection-reset (ambiguous): uWSGI closes every connection after its answer \
         without saying so (HTTP/1.1, no Connection: close); Varnish reuses the pooled \
         connection and its next request meets a reset, after which it retries on a new one. \
         With both ends traced this is an info (the peer closed with the request unread); from \
         Varnish's side alone that and a reset on the path look the same",
    ),
];

static CORPUS: Corpus = Corpus {
    name: "web",
    min_scenarios: 24,
    max_bytes: 4 << 20,
    known_gaps: KNOWN_GAPS,
};

netcheck::corpus_tests!(CORPUS);

/// varnish-healthy-aria2c--record: varnishd's manager binds 10.99.1.1:6081 and its cache
/// process (a fork) listens and accepts on it in a thread. At shutdown the main thread closes
/// the listener while that thread still waits in accept; the exit ends the accept. The accept
/// keeps the listener it started on: no socket "opened before the trace began" appears bound
/// to the same address (address-in-use), and every connection is accepted where aria2c sent it.
#[test]
fn an_accept_outliving_its_listeners_close_is_no_second_listener() {
    let rules = CORPUS.rules_of("varnish-healthy-aria2c--record");
    assert!(!rules.contains(&"address-in-use"), "{rules:?}");
    assert!(!rules.contains(&"port-forwarding"), "{rules:?}");
}

/// varnish-healthy-w3m--r: before its real listener, varnishd's manager listens on a socket
/// bound to port 0 and closes it. Without decorations the probe's port is unknown, but the
/// kernel chose it from the ephemeral range: w3m's connects to 6081 are not the probe's, and
/// the cache process accepts them (no port-forwarding, no unknown data).
#[test]
fn a_probe_listener_on_port_zero_takes_no_connect_to_a_service_port() {
    let analysis = CORPUS.analyse("varnish-healthy-w3m--r");
    let problems = problem_rules(&analysis);
    assert!(problems.is_empty(), "{problems:?}");
    assert!(
        analysis.outcome.blocked.is_empty(),
        "{:?}",
        analysis.outcome.blocked
    );
}

/// backend-down-lynx--i: no app server runs behind Varnish; the client gets Varnish's 503.
/// The refused connect is Varnish's, to the back end: the fault is on the second link.
#[test]
fn a_503_from_the_cache_points_at_the_cache_to_back_end_link() {
    let summary = CORPUS
        .only_finding("backend-down-lynx--i", "connect-refused")
        .summary;
    assert!(summary.starts_with("host cache "), "{summary}");
    assert!(summary.contains("10.99.2.2:8000"), "{summary}");
}

/// mtu-black-hole-busybox-wget--seccomp: the short page crosses the 1000-byte link, the 200 KB
/// one's full-sized segments do not (the router drops its ICMP fragmentation-needed).
#[test]
fn a_large_answer_lost_after_a_small_one_passed_is_an_mtu_black_hole() {
    let rules = CORPUS.rules_of("mtu-black-hole-busybox-wget--seccomp");
    assert!(rules.contains(&"mtu-black-hole"), "{rules:?}");
    assert!(!rules.contains(&"connect-filtered"), "{rules:?}");
}
