//! Real network services on two and three hosts (tests/fixtures/svc, recorded by lab/svc.sh):
//! FreeRADIUS with radclient, MIT Kerberos's KDC with kinit (UDP, and TCP), coturn with
//! turnutils_stunclient, dnsmasq's DHCP server with busybox udhcpc (a packet socket and
//! broadcast), avahi-daemon asked by a Python mDNS query and two avahi-daemons announcing to
//! each other, PowerDNS Recursor forwarding to NSD on a third host, Kamailio answering SIP
//! OPTIONS over UDP and TCP; healthy and under real faults (server down, firewall DROP and
//! REJECT, random loss, a wrong port, an answer from another address, a daemon killed), each
//! scenario under another strace flag set, in the full view and in the one-sided views.

use netcheck::testkit::table::{problem_rules, Corpus};

/// Rows whose expectation the diagnosis does not meet yet, each with what netcheck says instead.
/// A row listed here must still fail: fixing one means removing it from this list.
const KNOWN_GAPS: &[(&str, &str)] = &[(
    "avahi-dropped--seccomp @client",
    "reports nothing: a question sent to a multicast group is answered (when it is) from a \
         member's own address, so the model keeps no request/answer exchange for it and the two \
         unanswered questions are no no-reply",
)];

static CORPUS: Corpus = Corpus {
    name: "svc",
    min_scenarios: 25,
    max_bytes: 4 << 20,
    known_gaps: KNOWN_GAPS,
};

netcheck::corpus_tests!(CORPUS);

/// avahi-pair--tt: two avahi-daemons on one link probe for and announce their names to
/// 224.0.0.251:5353. Each datagram reaches the other member and, looped back
/// (IP_MULTICAST_LOOP), its sender: every member reads its own copy, so no receive waits for a
/// datagram another member took, and nothing is "data no traced call sent".
#[test]
fn every_member_of_a_multicast_group_reads_its_own_copy() {
    let analysis = CORPUS.analyse("avahi-pair--tt");
    assert!(
        analysis.outcome.blocked.is_empty(),
        "{:?}",
        analysis.outcome.blocked
    );
    let problems = problem_rules(&analysis);
    assert!(problems.is_empty(), "{problems:?}");
}

/// avahi-healthy--k: avahi-daemon sizes its buffer with ioctl(FIONREAD) and reads the 30-byte
/// question into exactly 30 bytes; recvmsg's msg_flags=0 says it was not cut (no MSG_TRUNC).
#[test]
fn a_datagram_read_whole_into_a_buffer_of_its_size_is_not_truncated() {
    let analysis = CORPUS.analyse("avahi-healthy--k");
    let rules: Vec<_> = analysis.findings.iter().map(|f| f.rule).collect();
    assert!(!rules.contains(&"datagram-truncated"), "{rules:?}");
}

/// dhcp-healthy--record: udhcpc's DISCOVER and REQUEST leave its packet socket with source
/// 0.0.0.0 (it has no address yet); dnsmasq reads them on its UDP socket and answers the
/// address it offers. Datagrams from 0.0.0.0 are a host without an address, not data a traced
/// socket failed to send, and a server that answers such hosts talks to its clients.
#[test]
fn a_dhcp_server_answering_hosts_without_an_address_is_healthy() {
    let analysis = CORPUS.analyse("dhcp-healthy--record");
    let problems = problem_rules(&analysis);
    assert!(problems.is_empty(), "{problems:?}");
}

/// krb5-down--record: kinit's nonblocking TCP connect to the KDC's host, where nothing listens,
/// is reported by poll as POLLOUT|POLLERR|POLLHUP 2 ms later; kinit closes it without reading
/// SO_ERROR. A failed connect (refused), not one that never completed.
#[test]
fn a_connect_reported_failed_by_a_wait_and_closed_is_refused_not_left_pending() {
    let rules = CORPUS.rules_of("krb5-down--record");
    assert!(rules.contains(&"connect-refused"), "{rules:?}");
    assert!(!rules.contains(&"connect-never-completed"), "{rules:?}");
}

/// radius-down--i: radclient spins on pselect6 with a zero timeout for 1 s after each
/// Access-Request, resends twice and gives up; the requests went unanswered.
#[test]
fn a_program_polling_without_a_timeout_long_after_its_request_waits_for_it() {
    let rules = CORPUS.rules_of("radius-down--i");
    assert!(rules.contains(&"no-reply"), "{rules:?}");
}

/// stun-wrong-port--unix: the binding requests go to port 3479 of the traced server's host,
/// where no traced socket ever was; they found nothing bound (ICMP port unreachable, unseen
/// by the client's unconnected socket): unanswered requests, no datagrams lost on the path.
#[test]
fn datagrams_to_a_port_nothing_ever_had_are_unanswered_not_lost() {
    let rules = CORPUS.rules_of("stun-wrong-port--unix");
    assert!(rules.contains(&"no-reply"), "{rules:?}");
    assert!(!rules.contains(&"udp-all-lost"), "{rules:?}");
}
