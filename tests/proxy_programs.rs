//! Proxies, relays and tunnels on three hosts (tests/fixtures/proxy, recorded by lab/proxy.sh):
//! a client, a proxy host with two interfaces and an HTTP back end
//! (lab/programs/proxy_backend.py). socat's TCP relay (a child per connection), nginx's stream
//! proxy, Caddy's reverse_proxy, HAProxy in HTTP mode, tinyproxy's CONNECT tunnel and an ssh -L
//! port forward, with curl, wget, Python's http.client and nc as clients, healthy (kept-alive connections, several
//! requests) and under real faults (back end down, firewalled, reset after the handshake or
//! mid-answer, slower than the proxy's timeout; loss between client and proxy; proxy down), each
//! scenario under another strace flag set (`-f`, `-ff -tt`, `-r`, `-tt`, `-k`, `-i`,
//! `-X verbose`, `--seccomp-bpf` with a filter, `-e trace=%network,read,write,close`, `-xx`,
//! `-s 0`, `netcheck record`), in the full view and in the one-sided views.

use std::path::PathBuf;

use netcheck::diagnose::Class;
use netcheck::testkit::table::Corpus;

/// Rows whose expectation the diagnosis does not meet yet, each with what netcheck says instead.
/// A row listed here must still fail: fixing one means removing it from this list.
const KNOWN_GAPS: &[(&str, &str)] = &[];

static CORPUS: Corpus = Corpus {
    name: "proxy",
    min_scenarios: 20,
    max_bytes: 4 << 20,
    known_gaps: KNOWN_GAPS,
};

netcheck::corpus_tests!(CORPUS);

/// socat-reset--enet: the back end's firewall answers the relayed request with a reset
/// (`REJECT --reject-with tcp-reset` on segments carrying data), 3.7 s before the back end's
/// program closes the connection it accepted. The replay places that close before the relay's
/// ECONNRESET (the receive waits for it), but the clocks put it after: the reset came from the
/// path while both ends were open, a network fault, not a close with unread bytes.
#[test]
fn a_reset_the_clocks_put_before_the_peers_close_came_from_the_path() {
    let findings = CORPUS.analyse("socat-reset--enet").findings;
    let reset = findings
        .iter()
        .find(|f| f.rule == "connection-reset")
        .expect("connection-reset");
    assert_eq!(reset.class, Class::Network, "{reset:#?}");
    assert_eq!(reset.evidence.len(), 1, "no counterpart close: {reset:#?}");
}

/// caddy-slow--s0: the back end answers 4 s after the request, Caddy gave up at 2 s
/// (`response_header_timeout`) and closed its connection. The answer was sent to a closed
/// socket, unread by the proxy's choice: not data the network lost.
#[test]
fn an_answer_sent_after_the_proxy_closed_is_not_unreceived_data() {
    let findings = CORPUS.analyse("caddy-slow--s0").findings;
    let rules: Vec<_> = findings.iter().map(|f| f.rule).collect();
    assert!(!rules.contains(&"data-unreceived"), "{findings:#?}");
}

/// socat-reset--enet's client (curl) under `-e trace=%network,read,write,close`: the fcntl
/// that made its socket nonblocking is not in the trace, so its EINPROGRESS is no portability
/// trap; the filter explains it.
#[test]
fn a_would_block_under_a_filter_that_hides_fcntl_is_explained_by_the_filter() {
    let findings = CORPUS.analyse("socat-reset--enet").findings;
    assert!(
        !findings.iter().any(|f| f.rule == "unexpected-blocking"),
        "{findings:#?}"
    );
    let filtered = findings
        .iter()
        .find(|f| f.rule == "filtered-trace")
        .expect("filtered-trace");
    assert!(filtered.summary.contains("client"), "{filtered:#?}");
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("netcheck-proxy-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

/// Runs the pipeline on traces given as text, one per host, `(name, ips, text)`.
fn diagnose(name: &str, hosts: &[(&str, &str, &str)]) -> Vec<netcheck::diagnose::Finding> {
    let dir = scratch(name);
    let mut config = String::new();
    for (host, ips, text) in hosts {
        let path = dir.join(format!("{host}.trace"));
        std::fs::write(&path, text).expect("trace written");
        config.push_str(&format!("host {host}\ntrace {}\n", path.display()));
        for ip in ips.split_whitespace() {
            config.push_str(&format!("ip {ip}\n"));
        }
    }
    let conf = dir.join("netcheck.conf");
    std::fs::write(&conf, config).expect("config written");
    let inputs = netcheck::config::Inputs {
        paths: vec![conf],
        one_host: Vec::new(),
    };
    let analysis = netcheck::pipeline::run_pipeline(&inputs).expect("pipeline");
    std::fs::remove_dir_all(&dir).ok();
    analysis.findings
}

/// The relay's and the back end's lines of socat-reset--enet (proxy.trace:56-74, one child
/// process; backend.trace:92-98): the relay's read fails with ECONNRESET at 56.151806, the back
/// end closes the connection at 59.899022.
const RELAY: &str = "\
32046 14:15:56.150798 socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 5
32046 14:15:56.150876 connect(5, {sa_family=AF_INET, sin_port=htons(9000), sin_addr=inet_addr(\"10.93.2.2\")}, 16) = 0
32046 14:15:56.151694 write(5, \"GET /a HTTP/1.1\\r\\nHost: 10.93.1.1:8080\\r\\nUser-Agent: curl/7.88.1\\r\\nAccept: */*\\r\\n\\r\\n\", 79) = 79
32046 14:15:56.151806 read(5, 0x55922a5f3000, 8192) = -1 ECONNRESET (Connection reset by peer)
32046 14:15:56.152140 shutdown(5, SHUT_RDWR) = -1 ENOTCONN (Transport endpoint is not connected)
32046 14:15:56.152549 +++ exited with 0 +++
";

fn back_end(close_at: &str) -> String {
    format!(
        "\
32023 14:15:55.894505 socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_IP) = 3
32023 14:15:55.894765 bind(3, {{sa_family=AF_INET, sin_port=htons(9000), sin_addr=inet_addr(\"0.0.0.0\")}}, 16) = 0
32023 14:15:55.894906 listen(3, 16)     = 0
32023 14:15:56.151076 accept4(3, {{sa_family=AF_INET, sin_port=htons(59868), sin_addr=inet_addr(\"10.93.2.1\")}}, [16], SOCK_CLOEXEC) = 4
32023 14:15:56.151339 getsockname(4, {{sa_family=AF_INET, sin_port=htons(9000), sin_addr=inet_addr(\"10.93.2.2\")}}, [128 => 16]) = 0
32023 {close_at} close(4)          = 0
32023 14:15:59.899259 close(3)          = 0
32023 14:15:59.905568 +++ exited with 0 +++
"
    )
}

#[test]
fn a_reset_before_the_peers_close_by_the_clocks_is_the_network() {
    let findings = diagnose(
        "reset-early",
        &[
            ("proxy", "10.93.2.1", RELAY),
            ("backend", "10.93.2.2", &back_end("14:15:59.899022")),
        ],
    );
    let reset = findings
        .iter()
        .find(|f| f.rule == "connection-reset")
        .expect("connection-reset");
    assert_eq!(reset.class, Class::Network, "{reset:#?}");
    // The same close within the clock margin of the reset may have caused it: the peer's
    // close with 79 bytes unread, the back end program's doing.
    let findings = diagnose(
        "reset-close",
        &[
            ("proxy", "10.93.2.1", RELAY),
            ("backend", "10.93.2.2", &back_end("14:15:56.151500")),
        ],
    );
    let reset = findings
        .iter()
        .find(|f| f.rule == "connection-reset")
        .expect("connection-reset");
    assert_eq!(reset.class, Class::Application, "{reset:#?}");
}

/// Caddy's and the back end's lines of caddy-slow--s0 (`-s 0`; proxy.trace:1305-1398, the
/// Go runtime's threads shown as one, after one of its first mmaps; backend.trace:527-540):
/// the proxy closes its connection at 02.364765, the back end answers at 04.364184.
fn slow_answer(answer_at: &str) -> [String; 2] {
    let proxy = "\
32163 14:16:00.180304 mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7ff5c0a76000
32163 14:16:00.361899 socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK, IPPROTO_IP) = 8
32163 14:16:00.361977 connect(8, {sa_family=AF_INET, sin_port=htons(9000), sin_addr=inet_addr(\"10.93.2.2\")}, 16) = -1 EINPROGRESS (Operation now in progress)
32163 14:16:00.362569 getsockopt(8, SOL_SOCKET, SO_ERROR, [0], [4]) = 0
32163 14:16:00.363383 read(8, 0xc00056c000, 4096) = -1 EAGAIN (Resource temporarily unavailable)
32163 14:16:00.363391 write(8, \"\"..., 189) = 189
32163 14:16:02.364765 close(8)          = 0
"
    .to_string();
    let backend = format!(
        "\
32149 14:16:00.126440 socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_IP) = 3
32149 14:16:00.126886 bind(3, {{sa_family=AF_INET, sin_port=htons(9000), sin_addr=inet_addr(\"0.0.0.0\")}}, 16) = 0
32149 14:16:00.127052 listen(3, 16)     = 0
32149 14:16:00.362295 accept4(3, {{sa_family=AF_INET, sin_port=htons(35594), sin_addr=inet_addr(\"10.93.2.1\")}}, [16], SOCK_CLOEXEC) = 4
32149 14:16:00.363561 recvfrom(4, \"\"..., 4096, 0, NULL, NULL) = 189
32149 {answer_at} sendto(4, \"\"..., 800, 0, NULL, 0) = 800
32149 14:16:04.364479 recvfrom(4, \"\", 4096, 0, NULL, NULL) = 0
32149 14:16:04.364525 close(4)          = 0
"
    );
    [proxy, backend]
}

#[test]
fn an_answer_the_clocks_put_after_the_receivers_close_was_unread_by_its_choice() {
    let [proxy, backend] = slow_answer("14:16:04.364184");
    let findings = diagnose(
        "late-answer",
        &[
            ("proxy", "10.93.2.1", &proxy),
            ("backend", "10.93.2.2", &backend),
        ],
    );
    assert!(
        !findings.iter().any(|f| f.rule == "data-unreceived"),
        "{findings:#?}"
    );
    // Sent before the close (by the clocks too): the proxy closed with the answer unread.
    let [proxy, backend] = slow_answer("14:16:01.364184");
    let findings = diagnose(
        "early-answer",
        &[
            ("proxy", "10.93.2.1", &proxy),
            ("backend", "10.93.2.2", &backend),
        ],
    );
    assert!(
        findings.iter().any(|f| f.rule == "data-unreceived"),
        "{findings:#?}"
    );
}

/// curl's and socat's lines of socat-reset--enet (client.trace:99-113, proxy.trace:29-45 and
/// 74-85, the relay's child shown as its parent; the request cut to its first line), both under
/// `-e trace=%network,read,write,close`: curl's connect returns EINPROGRESS on a socket the
/// trace never shows made nonblocking, since the filter hid the fcntl (and every mmap, brk and
/// ioctl).
const FILTERED_CURL: &str = "\
32045 14:15:56.149279 socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 5
32045 14:15:56.149389 connect(5, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr(\"10.93.1.1\")}, 16) = -1 EINPROGRESS (Operation now in progress)
32045 14:15:56.149635 getsockopt(5, SOL_SOCKET, SO_ERROR, [0], [4]) = 0
32045 14:15:56.149750 sendto(5, \"GET /a HTTP/1.1\\r\\n\\r\\n\", 19, MSG_NOSIGNAL, NULL, 0) = 19
32045 14:15:56.151948 recvfrom(5, \"\", 102400, 0, NULL, NULL) = 0
32045 14:15:56.152001 close(5)          = 0
";

const FILTERED_SOCAT: &str = "\
32036 14:15:56.001367 socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 5
32036 14:15:56.001496 bind(5, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr(\"10.93.1.1\")}, 16) = 0
32036 14:15:56.001558 listen(5, 5)      = 0
32036 14:15:56.149608 accept(5, {sa_family=AF_INET, sin_port=htons(48332), sin_addr=inet_addr(\"10.93.1.2\")}, [16]) = 6
32036 14:15:56.151616 read(6, \"GET /a HTTP/1.1\\r\\n\\r\\n\", 8192) = 19
32036 14:15:56.151849 shutdown(6, SHUT_WR) = 0
32036 14:15:56.152085 read(6, \"\", 8192) = 0
32036 14:15:56.152200 close(6)          = 0
";

#[test]
fn a_trace_without_fcntl_ioctl_or_mmap_hides_how_its_sockets_became_nonblocking() {
    let findings = diagnose(
        "filtered",
        &[
            ("client", "10.93.1.2", FILTERED_CURL),
            ("proxy", "10.93.1.1", FILTERED_SOCAT),
        ],
    );
    let rules: Vec<_> = findings.iter().map(|f| f.rule).collect();
    assert!(!rules.contains(&"unexpected-blocking"), "{findings:#?}");
    assert!(rules.contains(&"filtered-trace"), "{findings:#?}");
    // The same lines after a loader's mmap: an unfiltered trace, whose socket never set
    // O_NONBLOCK, so the EINPROGRESS is a blocking socket's surprise.
    let unfiltered = format!(
        "32045 14:15:56.100000 mmap(NULL, 8192, PROT_READ|PROT_WRITE, \
         MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000000000\n{FILTERED_CURL}"
    );
    let findings = diagnose(
        "unfiltered",
        &[
            ("client", "10.93.1.2", &unfiltered),
            ("proxy", "10.93.1.1", FILTERED_SOCAT),
        ],
    );
    assert!(
        findings.iter().any(|f| f.rule == "unexpected-blocking"),
        "{findings:#?}"
    );
}

/// socat's lines of socat-reset--enet (proxy.trace:29-45 and 55-80, the request cut to its
/// first line): the filter hides the fork, and the parent closes the accepted socket (fd 6)
/// right after it; the child, appearing from nowhere, reads the request on fd 6.
const HIDDEN_FORK: &str = "\
32036 14:15:56.001367 socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 5
32036 14:15:56.001496 bind(5, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr(\"10.93.1.1\")}, 16) = 0
32036 14:15:56.001558 listen(5, 5)      = 0
32036 14:15:56.149608 accept(5, {sa_family=AF_INET, sin_port=htons(48332), sin_addr=inet_addr(\"10.93.1.2\")}, [16]) = 6
32036 14:15:56.150211 close(6)          = 0
32046 14:15:56.150743 close(5)          = 0
32046 14:15:56.151616 read(6, \"GET /a HTTP/1.1\\r\\n\\r\\n\", 8192) = 19
32046 14:15:56.152085 read(6, \"\", 8192) = 0
32046 14:15:56.152549 +++ exited with 0 +++
";

#[test]
fn bytes_a_child_whose_fork_a_filter_hid_read_are_explained_by_the_filter() {
    let findings = diagnose(
        "hidden-fork",
        &[
            ("client", "10.93.1.2", FILTERED_CURL),
            ("proxy", "10.93.1.1", HIDDEN_FORK),
        ],
    );
    let rules: Vec<_> = findings.iter().map(|f| f.rule).collect();
    assert!(!rules.contains(&"data-unreceived"), "{findings:#?}");
    assert!(
        findings
            .iter()
            .any(|f| f.rule == "filtered-trace" && f.summary.contains("proxy")),
        "{findings:#?}"
    );
    // A trace that maps memory was not filtered: the unread request stands.
    let unfiltered = format!(
        "32036 14:15:56.000000 mmap(NULL, 8192, PROT_READ|PROT_WRITE, \
         MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000000000\n{HIDDEN_FORK}"
    );
    let findings = diagnose(
        "shown-fork",
        &[
            ("client", "10.93.1.2", FILTERED_CURL),
            ("proxy", "10.93.1.1", &unfiltered),
        ],
    );
    assert!(
        findings.iter().any(|f| f.rule == "data-unreceived"),
        "{findings:#?}"
    );
}

/// HAProxy's and wget's lines of haproxy-healthy-wget--enet (proxy.trace:362-391 and
/// client.trace:54-63, the answers cut to their headers, the request to its first line): the
/// filter hides the clone that made HAProxy's thread 30979, which accepts the connection as
/// fd 11; the main thread 30972 reads the request and answers on fd 11.
const HIDDEN_THREAD: &str = "\
30972 14:54:58.303716 socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 4
30972 14:54:58.303880 bind(4, {sa_family=AF_INET, sin_port=htons(8083), sin_addr=inet_addr(\"10.93.1.1\")}, 16) = 0
30972 14:54:58.304156 listen(4, 9991)   = 0
30979 14:54:58.471470 accept4(4, {sa_family=AF_INET, sin_port=htons(46032), sin_addr=inet_addr(\"10.93.1.2\")}, [128 => 16], SOCK_NONBLOCK) = 11
30972 14:54:58.471543 recvfrom(11, \"GET /a HTTP/1.1\\r\\n\\r\\n\", 15360, 0, NULL, NULL) = 19
30972 14:54:58.487544 sendto(11, \"HTTP/1.1 200 OK\\r\\n\\r\\n\", 19, MSG_DONTWAIT|MSG_NOSIGNAL, NULL, 0) = 19
30972 14:54:58.489100 recvfrom(11, \"\", 15360, 0, NULL, NULL) = 0
30972 14:54:58.489200 close(11)         = 0
";

const WGET: &str = "\
30987 14:54:58.464323 socket(AF_INET, SOCK_STREAM, IPPROTO_IP) = 4
30987 14:54:58.464379 connect(4, {sa_family=AF_INET, sin_port=htons(8083), sin_addr=inet_addr(\"10.93.1.1\")}, 16) = 0
30987 14:54:58.464542 write(4, \"GET /a HTTP/1.1\\r\\n\\r\\n\", 19) = 19
30987 14:54:58.487727 recvfrom(4, \"HTTP/1.1 200 OK\\r\\n\\r\\n\", 19, 0, NULL, NULL) = 19
30987 14:54:58.489000 close(4)          = 0
";

#[test]
fn a_thread_whose_clone_a_filter_hid_shares_the_first_processs_descriptors() {
    let findings = diagnose(
        "hidden-thread",
        &[
            ("client", "10.93.1.2", WGET),
            ("proxy", "10.93.1.1", HIDDEN_THREAD),
        ],
    );
    let problems: Vec<_> = findings.iter().filter(|f| f.class != Class::Info).collect();
    assert!(problems.is_empty(), "{problems:#?}");
}
