//! Real Debian TCP daemons and clients (tests/fixtures/tcpd, recorded by lab/tcpd.sh) on two
//! or three hosts: beanstalkd, git daemon with git clone, ngIRCd, Dante's SOCKS5 server with
//! curl, nats-server, prometheus-node-exporter scraped by wget2 and curl (raw-protocol Python
//! clients for beanstalkd, ngIRCd and NATS: lab/programs/tcpd_client.py), healthy and under
//! real faults (server down, wrong port, wrong address, SYNs or data dropped by a firewall, a
//! reset of the client's first data, the daemon killed with SIGKILL, 30% random loss, a
//! daemon's connection limit, the SOCKS back end down or resetting), each scenario under
//! another strace flag set, in the full view and in the one-sided views.

use netcheck::diagnose::Class;
use netcheck::testkit::table::Corpus;

/// Rows whose expectation the diagnosis does not meet yet, each with what netcheck says instead.
/// A row listed here must still fail: fixing one means removing it from this list.
const KNOWN_GAPS: &[(&str, &str)] = &[];

static CORPUS: Corpus = Corpus {
    name: "tcpd",
    min_scenarios: 19,
    max_bytes: 6 << 20,
    known_gaps: KNOWN_GAPS,
};

netcheck::corpus_tests!(CORPUS);

/// dante-healthy--X (`-X verbose`): Dante's mother process accepts each client and hands the
/// connection to a child with SCM_RIGHTS, whose level and type `-X verbose` prints as numbers
/// with their names in comments. The child's relay is the accepted connection: no bytes appear
/// from nowhere and no connect is left unfinished.
#[test]
fn descriptors_passed_under_x_verbose_are_the_senders_connections() {
    let analysis = CORPUS.analyse("dante-healthy--X");
    let rules: Vec<_> = analysis.findings.iter().map(|f| f.rule).collect();
    for wrong in [
        "data-mismatch",
        "send-after-peer-closed",
        "connect-never-completed",
    ] {
        assert!(!rules.contains(&wrong), "{wrong}: {:#?}", analysis.findings);
    }
}

/// ngircd-healthy--i: ngIRCd takes a newly registered client out of its epoll set's read
/// interest for a second (its flood penalty) and reads the JOIN that waited meanwhile: the
/// server's choice, not a network stall.
#[test]
fn a_server_that_stopped_watching_a_socket_is_no_network_stall() {
    let analysis = CORPUS.analyse("ngircd-healthy--i");
    assert!(
        !analysis.findings.iter().any(|f| f.rule == "network-stall"),
        "{:#?}",
        analysis.findings
    );
}

/// nats-reset--unixus: the server's firewall answers the client's CONNECT with a reset; the
/// client's next send fails with ECONNRESET 2.5 s before the server's program closes the
/// connection at its authentication timeout. A send sees the reset as a receive does: it came
/// from the path, not from a close the clocks put after it.
#[test]
fn a_send_reset_before_the_peers_close_by_the_clocks_is_the_network() {
    let findings = CORPUS.analyse("nats-reset--unixus").findings;
    assert!(
        !findings.iter().any(|f| f.rule == "send-after-peer-closed"),
        "{findings:#?}"
    );
    let reset = findings
        .iter()
        .find(|f| f.rule == "connection-reset")
        .expect("connection-reset");
    assert_eq!(reset.class, Class::Network, "{reset:#?}");
}
