//! Real Debian daemons with their own clients (tests/fixtures/coord, recorded by lab/coord.sh)
//! on two and three hosts: Gearman (gearmand, the `gearman` command as client and as worker on
//! the third host), Samba (smbd with smbclient), Prosody (XMPP, a raw-protocol client) and
//! OpenVPN (a static-key tunnel over UDP, curl through it to Python's http.server) and Exim
//! (swaks's mail relayed to an SMTP sink on the third host); healthy and under real faults
//! (server down, a wrong port, firewall DROP and REJECT, the worker's link dropped, the worker
//! or the daemon killed, data dropped mid-session, a reset of the first data, random loss, the
//! tunnel's UDP dropped or lossy, the relay's next hop down or dropped), each scenario under
//! another strace flag set, in the full view and in the one-sided views.

use netcheck::diagnose::Class;
use netcheck::testkit::table::{problem_rules, Corpus};

/// Rows whose expectation the diagnosis does not meet yet, each with what netcheck says instead.
/// A row listed here must still fail: fixing one means removing it from this list.
const KNOWN_GAPS: &[(&str, &str)] = &[
    (
        "gearman-drop--r @worker",
        "reports no-reply (application): the worker's PRE_SLEEP, which gearmand answers only \
         when a job arrives, was read by gearmand and never answered before the lab stopped the \
         worker (SIGTERM) inside its poll with no time-out; a long poll and a request the peer \
         ignored look the same in the calls (not counting waits without a time-out that a stop \
         signal ended would lose the lab's Go clients blocked in epoll_wait behind an MTU black \
         hole, stopped by SIGTERM: their no-reply is real)",
    ),
    (
        "gearman-reject--y @worker",
        "reports no-reply (application), as gearman-drop--r @worker: the worker's PRE_SLEEP \
         waits for a job that never comes, and the stop signal ends the wait",
    ),
    (
        "gearman-killed--ff @client",
        "reports nothing: gearmand answered the job with JOB_CREATED at once and owed the \
         result; from the client alone, the end of stream 1.5 s later follows an answer, as a \
         server closing an idle connection would; only gearmand's trace shows it was killed",
    ),
];

static CORPUS: Corpus = Corpus {
    name: "coord",
    min_scenarios: 26,
    max_bytes: 4 << 20,
    known_gaps: KNOWN_GAPS,
};

netcheck::corpus_tests!(CORPUS);

/// samba-healthy--f: smbd answers with `sendmsg` and four or five iovecs (the NetBIOS length,
/// an empty one, the SMB2 header, the body, the file's bytes); smbclient sends with `writev`.
/// A buffer that ends in a NUL before one that starts with a digit is `"\0"`, `"1..."` in the
/// sender's trace and `"\0001..."` in the receiver's: the same bytes, no mismatch, nothing
/// unreceived.
#[test]
fn iovec_buffers_decoded_apart_match_the_receivers_bytes() {
    let analysis = CORPUS.analyse("samba-healthy--f");
    let rules: Vec<_> = analysis.findings.iter().map(|f| f.rule).collect();
    for wrong in ["data-mismatch", "data-unreceived"] {
        assert!(!rules.contains(&wrong), "{wrong}: {:#?}", analysis.findings);
    }
}

/// gearman-healthy--record: the gearman command makes a job's unique id with libuuid, which
/// first asks uuidd at /run/uuidd/request (ENOENT: uuidd is not installed) and then makes the
/// UUID itself. A system library's probe, not the application's fault.
#[test]
fn libuuids_probe_of_uuidd_is_not_reported() {
    let analysis = CORPUS.analyse("gearman-healthy--record");
    assert!(
        !analysis
            .findings
            .iter()
            .any(|f| f.rule == "unix-connect-failed"),
        "{:#?}",
        analysis.findings
    );
}

/// gearman-loss--ttt (`-f -ttt`, no `-T`): libgearman connects without blocking, polls for
/// POLLOUT and sends the job; one connect's first SYN was dropped and the send came 1.03 s
/// after it. The send after the writable report times the connect.
#[test]
fn a_connect_completed_by_a_send_after_a_writable_poll_is_timed() {
    let analysis = CORPUS.analyse("gearman-loss--ttt");
    let stall = analysis
        .findings
        .iter()
        .find(|f| f.rule == "network-stall")
        .unwrap_or_else(|| panic!("no network-stall: {:#?}", analysis.findings));
    assert!(stall.summary.contains("connect"), "{}", stall.summary);
}

/// gearman-killed--ff: gearmand answers the job with JOB_CREATED and is killed (SIGKILL) before
/// a worker could do it; the client, still reading, gets the end of the stream. The death cut
/// the answer short: the request went unanswered.
#[test]
fn a_job_server_killed_after_acknowledging_the_job_left_it_unanswered() {
    let analysis = CORPUS.analyse("gearman-killed--ff");
    assert!(
        problem_rules(&analysis).contains(&"no-reply"),
        "{:#?}",
        analysis.findings
    );
}

/// prosody-killed--xx: Prosody is killed (SIGKILL); the client's ping, sent 2 s later into the
/// closed connection, is answered with a reset. What a killed server left unread is no
/// goodbye that crossed a close: the reset is reported as a problem, not as information.
#[test]
fn a_request_left_to_a_killed_server_is_no_closing_message() {
    let analysis = CORPUS.analyse("prosody-killed--xx");
    let reset = analysis
        .findings
        .iter()
        .find(|f| f.rule == "connection-reset")
        .unwrap_or_else(|| panic!("no connection-reset: {:#?}", analysis.findings));
    assert_ne!(reset.class, Class::Info, "{reset:#?}");
}
