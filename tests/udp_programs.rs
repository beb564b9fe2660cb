//! UDP programs and daemons (tests/fixtures/udp, recorded by lab/udp.sh from
//! lab/programs/udp_probe.{py,js,go}, unbound with dig and drill, socat, chronyc and iperf3):
//! request/response over Python's connected, unconnected and asyncio sockets, Node.js's dgram
//! and Go's net, multicast, healthy and under real faults (no server, firewall DROP and REJECT
//! with several ICMP codes, random loss, a wrong port, an answer from another address of a
//! multi-homed server, a link that drops large fragments, a sender without a multicast route, a
//! server stopped while asked), under thirteen strace flag sets, each in the full view and in
//! the one-sided views.

use netcheck::testkit::rules::rules_of;
use netcheck::testkit::table::diagnose_texts;

use netcheck::diagnose::Class;
use netcheck::testkit::table::Corpus;

/// Rows whose expectation the diagnosis does not meet yet, each with what netcheck says instead.
/// A row listed here must still fail: fixing one means removing it from this list.
const KNOWN_GAPS: &[(&str, &str)] = &[
    (
        "dns-other-address--vnone",
        "misses the main issue: under -e verbose=none strace prints every socket address as a \
         pointer, so no datagram's destination or source is known; undecoded-addresses says \
         the trace cannot be checked",
    ),
    (
        "dns-other-address--vnone @client",
        "reports nothing: dig's addresses are pointers under -e verbose=none, so its requests \
         name no peer to be unanswered by",
    ),
    (
        "dns-stalled--record",
        "reports no-reply: unbound answered the first query 0.47 s after dig closed the socket \
         that asked it, within the 0.5 s margin between two hosts' clocks, and nothing in the \
         traces orders that answer after the close; from its socket bound to 0.0.0.0 on a host \
         with two addresses, it may also have left from another address than the one dig asked",
    ),
    (
        "dns-stalled--record @client",
        "reports no-reply: dig's first query went unanswered on its socket (its retry, from \
         another socket, was answered)",
    ),
];

static CORPUS: Corpus = Corpus {
    name: "udp",
    min_scenarios: 60,
    max_bytes: 5 << 20,
    known_gaps: KNOWN_GAPS,
};

netcheck::corpus_tests!(CORPUS);

// ---- behaviours, on the recorded lines that show them ----------------------------------------

/// The client's requests, each answered by the server's firewall with ICMP host prohibited
/// (`echo-reject-host-prohibited--record`, client.trace:522-543).
const PROHIBITED_CLIENT: &str = r#"1221  1796653114.233407 socket(AF_INET, SOCK_DGRAM|SOCK_CLOEXEC, IPPROTO_IP) = 3<UDP:[2031647]> <0.000119>
1221  1796653114.234171 connect(3<UDP:[2031647]>, {sa_family=AF_INET, sin_port=htons(7300), sin_addr=inet_addr("10.93.1.1")}, 16) = 0 <0.000105>
1221  1796653114.234519 poll([{fd=3<UDP:[10.93.1.2:42060->10.93.1.1:7300]>, events=POLLOUT}], 1, 500) = 1 ([{fd=3, revents=POLLOUT}]) <0.000098>
1221  1796653114.234820 sendto(3<UDP:[10.93.1.2:42060->10.93.1.1:7300]>, "q000:xxxxxxxxxxxxxxxxxxxxxxxxxxx", 32, 0, NULL, 0) = 32 <0.000137>
1221  1796653114.235083 poll([{fd=3<UDP:[10.93.1.2:42060->10.93.1.1:7300]>, events=POLLIN}], 1, 500) = 1 ([{fd=3, revents=POLLERR}]) <0.000070>
1221  1796653114.235268 recvfrom(3<UDP:[10.93.1.2:42060->10.93.1.1:7300]>, 0x30f6cf00, 65535, 0, NULL, NULL) = -1 EHOSTUNREACH (No route to host) <0.000070>
1221  1796653114.736905 poll([{fd=3<UDP:[10.93.1.2:42060->10.93.1.1:7300]>, events=POLLOUT}], 1, 500) = 1 ([{fd=3, revents=POLLOUT}]) <0.000017>
1221  1796653114.737110 sendto(3<UDP:[10.93.1.2:42060->10.93.1.1:7300]>, "q000:xxxxxxxxxxxxxxxxxxxxxxxxxxx", 32, 0, NULL, 0) = 32 <0.000076>
1221  1796653114.737312 poll([{fd=3<UDP:[10.93.1.2:42060->10.93.1.1:7300]>, events=POLLIN}], 1, 500) = 1 ([{fd=3, revents=POLLERR}]) <0.000041>
1221  1796653114.737478 recvfrom(3<UDP:[10.93.1.2:42060->10.93.1.1:7300]>, 0x30f6cf00, 65535, 0, NULL, NULL) = -1 EHOSTUNREACH (No route to host) <0.000007>
1221  1796653115.238108 poll([{fd=3<UDP:[10.93.1.2:42060->10.93.1.1:7300]>, events=POLLOUT}], 1, 500) = 1 ([{fd=3, revents=POLLOUT}]) <0.000014>
1221  1796653115.238332 sendto(3<UDP:[10.93.1.2:42060->10.93.1.1:7300]>, "q000:xxxxxxxxxxxxxxxxxxxxxxxxxxx", 32, 0, NULL, 0) = 32 <0.000101>
1221  1796653115.238479 poll([{fd=3<UDP:[10.93.1.2:42060->10.93.1.1:7300]>, events=POLLIN}], 1, 500) = 1 ([{fd=3, revents=POLLERR}]) <0.000005>
1221  1796653115.238667 recvfrom(3<UDP:[10.93.1.2:42060->10.93.1.1:7300]>, 0x30f6cf00, 65535, 0, NULL, NULL) = -1 EHOSTUNREACH (No route to host) <0.000008>
1221  1796653115.740132 close(3<UDP:[10.93.1.2:42060->10.93.1.1:7300]>) = 0 <0.000068>
1221  1796653115.762050 +++ exited with 1 +++
"#;

/// The server, bound and waiting behind that firewall until it is stopped (server.trace:522-527).
const PROHIBITED_SERVER: &str = r#"1200  1796653113.836486 socket(AF_INET, SOCK_DGRAM|SOCK_CLOEXEC, IPPROTO_IP) = 3<UDP:[2031490]> <0.000103>
1200  1796653113.836968 setsockopt(3<UDP:[2031490]>, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0 <0.000122>
1200  1796653113.837271 bind(3<UDP:[2031490]>, {sa_family=AF_INET, sin_port=htons(7300), sin_addr=inet_addr("0.0.0.0")}, 16) = 0 <0.000241>
1200  1796653113.837735 recvfrom(3<UDP:[0.0.0.0:7300]>, 0x107f6520, 65535, 0, 0x7fffc3c4f040, [16]) = ? ERESTARTSYS (To be restarted if SA_RESTART is set) <1.974290>
1200  1796653115.812213 --- SIGTERM {si_signo=SIGTERM, si_code=SI_USER, si_pid=1015, si_uid=0} ---
1200  1796653115.813723 +++ killed by SIGTERM +++
"#;

/// A multicast sender on a host without a route to the group (`mcast-no-route--record`,
/// client.trace:522-532).
const NO_ROUTE_SENDER: &str = r#"9082  1796653798.378554 socket(AF_INET, SOCK_DGRAM|SOCK_CLOEXEC, IPPROTO_IP) = 3<UDP:[2043026]> <0.000019>
9082  1796653798.378710 setsockopt(3<UDP:[2043026]>, SOL_IP, IP_MULTICAST_TTL, [1], 4) = 0 <0.000006>
9082  1796653798.378792 sendto(3<UDP:[2043026]>, "tick 0", 6, 0, {sa_family=AF_INET, sin_port=htons(7400), sin_addr=inet_addr("239.1.2.3")}, 16) = -1 ENETUNREACH (Network is unreachable) <0.000010>
9082  1796653798.579128 sendto(3<UDP:[0.0.0.0:37311]>, "tick 1", 6, 0, {sa_family=AF_INET, sin_port=htons(7400), sin_addr=inet_addr("239.1.2.3")}, 16) = -1 ENETUNREACH (Network is unreachable) <0.000013>
9082  1796653798.779635 sendto(3<UDP:[0.0.0.0:37311]>, "tick 2", 6, 0, {sa_family=AF_INET, sin_port=htons(7400), sin_addr=inet_addr("239.1.2.3")}, 16) = -1 ENETUNREACH (Network is unreachable) <0.000010>
9082  1796653798.980006 close(3<UDP:[0.0.0.0:37311]>) = 0 <0.000018>
9082  1796653798.991963 +++ exited with 0 +++
"#;

/// A multicast sender whose member is on another host (`mcast-healthy--record`,
/// client.trace:522-531).
const GROUP_SENDER: &str = r#"8628  1796653776.291229 socket(AF_INET, SOCK_DGRAM|SOCK_CLOEXEC, IPPROTO_IP) = 3<UDP:[2042031]> <0.004074>
8628  1796653776.299356 setsockopt(3<UDP:[2042031]>, SOL_IP, IP_MULTICAST_TTL, [1], 4) = 0 <0.000054>
8628  1796653776.299647 sendto(3<UDP:[2042031]>, "tick 0", 6, 0, {sa_family=AF_INET, sin_port=htons(7400), sin_addr=inet_addr("239.1.2.3")}, 16) = 6 <0.000229>
8628  1796653776.500287 sendto(3<UDP:[0.0.0.0:46867]>, "tick 1", 6, 0, {sa_family=AF_INET, sin_port=htons(7400), sin_addr=inet_addr("239.1.2.3")}, 16) = 6 <0.000085>
8628  1796653776.700868 sendto(3<UDP:[0.0.0.0:46867]>, "tick 2", 6, 0, {sa_family=AF_INET, sin_port=htons(7400), sin_addr=inet_addr("239.1.2.3")}, 16) = 6 <0.000099>
8628  1796653776.901404 sendto(3<UDP:[0.0.0.0:46867]>, "tick 3", 6, 0, {sa_family=AF_INET, sin_port=htons(7400), sin_addr=inet_addr("239.1.2.3")}, 16) = 6 <0.000075>
8628  1796653777.101838 sendto(3<UDP:[0.0.0.0:46867]>, "tick 4", 6, 0, {sa_family=AF_INET, sin_port=htons(7400), sin_addr=inet_addr("239.1.2.3")}, 16) = 6 <0.000078>
8628  1796653777.302229 close(3<UDP:[0.0.0.0:46867]>) = 0 <0.000018>
8628  1796653777.332598 +++ exited with 0 +++
"#;

/// A client connected to the server's second address, asking three times
/// (`echo-connected-other-address--record`, client.trace:522-537).
const OTHER_ADDRESS_CLIENT: &str = r#"27346 1796652674.283159 socket(AF_INET, SOCK_DGRAM|SOCK_CLOEXEC, IPPROTO_IP) = 3<UDP:[2015170]> <0.000021>
27346 1796652674.283434 connect(3<UDP:[2015170]>, {sa_family=AF_INET, sin_port=htons(7300), sin_addr=inet_addr("10.93.1.3")}, 16) = 0 <0.000016>
27346 1796652674.283526 poll([{fd=3<UDP:[10.93.1.2:54492->10.93.1.3:7300]>, events=POLLOUT}], 1, 500) = 1 ([{fd=3, revents=POLLOUT}]) <0.000013>
27346 1796652674.283602 sendto(3<UDP:[10.93.1.2:54492->10.93.1.3:7300]>, "q000:xxxxxxxxxxxxxxxxxxxxxxxxxxx", 32, 0, NULL, 0) = 32 <0.000053>
27346 1796652674.284282 poll([{fd=3<UDP:[10.93.1.2:54492->10.93.1.3:7300]>, events=POLLIN}], 1, 500) = 0 (Timeout) <0.500591>
27346 1796652674.784976 poll([{fd=3<UDP:[10.93.1.2:54492->10.93.1.3:7300]>, events=POLLOUT}], 1, 500) = 1 ([{fd=3, revents=POLLOUT}]) <0.000007>
27346 1796652674.785061 sendto(3<UDP:[10.93.1.2:54492->10.93.1.3:7300]>, "q000:xxxxxxxxxxxxxxxxxxxxxxxxxxx", 32, 0, NULL, 0) = 32 <0.000047>
27346 1796652674.785283 poll([{fd=3<UDP:[10.93.1.2:54492->10.93.1.3:7300]>, events=POLLIN}], 1, 500) = 0 (Timeout) <0.500596>
27346 1796652675.285975 poll([{fd=3<UDP:[10.93.1.2:54492->10.93.1.3:7300]>, events=POLLOUT}], 1, 500) = 1 ([{fd=3, revents=POLLOUT}]) <0.000006>
27346 1796652675.286053 sendto(3<UDP:[10.93.1.2:54492->10.93.1.3:7300]>, "q000:xxxxxxxxxxxxxxxxxxxxxxxxxxx", 32, 0, NULL, 0) = 32 <0.000049>
27346 1796652675.287317 poll([{fd=3<UDP:[10.93.1.2:54492->10.93.1.3:7300]>, events=POLLIN}], 1, 500) = 0 (Timeout) <0.500585>
27346 1796652675.788073 close(3<UDP:[10.93.1.2:54492->10.93.1.3:7300]>) = 0 <0.000019>
27346 1796652675.817076 +++ exited with 1 +++
"#;

/// The server reads each request on its wildcard socket and answers from a second socket bound
/// to its first address (server.trace:522-536).
const OTHER_ADDRESS_SERVER: &str = r#"27329 1796652674.015666 socket(AF_INET, SOCK_DGRAM|SOCK_CLOEXEC, IPPROTO_IP) = 3<UDP:[2015134]> <0.003610>
27329 1796652674.019493 setsockopt(3<UDP:[2015134]>, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0 <0.000007>
27329 1796652674.019579 bind(3<UDP:[2015134]>, {sa_family=AF_INET, sin_port=htons(7300), sin_addr=inet_addr("0.0.0.0")}, 16) = 0 <0.000008>
27329 1796652674.019643 socket(AF_INET, SOCK_DGRAM|SOCK_CLOEXEC, IPPROTO_IP) = 4<UDP:[2015138]> <0.000006>
27329 1796652674.019697 bind(4<UDP:[2015138]>, {sa_family=AF_INET, sin_port=htons(0), sin_addr=inet_addr("10.93.1.1")}, 16) = 0 <0.000009>
27329 1796652674.019766 recvfrom(3<UDP:[0.0.0.0:7300]>, "q000:xxxxxxxxxxxxxxxxxxxxxxxxxxx", 65535, 0, {sa_family=AF_INET, sin_port=htons(54492), sin_addr=inet_addr("10.93.1.2")}, [16]) = 32 <0.263871>
27329 1796652674.283757 sendto(4<UDP:[10.93.1.1:54255]>, "re:q000:xxxxxxxxxxxxxxxxxxxxxxxxxxx", 35, 0, {sa_family=AF_INET, sin_port=htons(54492), sin_addr=inet_addr("10.93.1.2")}, 16) = 35 <0.000390>
27329 1796652674.284236 recvfrom(3<UDP:[0.0.0.0:7300]>, "q000:xxxxxxxxxxxxxxxxxxxxxxxxxxx", 65535, 0, {sa_family=AF_INET, sin_port=htons(54492), sin_addr=inet_addr("10.93.1.2")}, [16]) = 32 <0.500883>
27329 1796652674.785206 sendto(4<UDP:[10.93.1.1:54255]>, "re:q000:xxxxxxxxxxxxxxxxxxxxxxxxxxx", 35, 0, {sa_family=AF_INET, sin_port=htons(54492), sin_addr=inet_addr("10.93.1.2")}, 16) = 35 <0.000027>
27329 1796652674.785263 recvfrom(3<UDP:[0.0.0.0:7300]>, "q000:xxxxxxxxxxxxxxxxxxxxxxxxxxx", 65535, 0, {sa_family=AF_INET, sin_port=htons(54492), sin_addr=inet_addr("10.93.1.2")}, [16]) = 32 <0.500861>
27329 1796652675.286202 sendto(4<UDP:[10.93.1.1:54255]>, "re:q000:xxxxxxxxxxxxxxxxxxxxxxxxxxx", 35, 0, {sa_family=AF_INET, sin_port=htons(54492), sin_addr=inet_addr("10.93.1.2")}, 16) = 35 <0.000029>
27329 1796652675.286271 close(3<UDP:[0.0.0.0:7300]>) = 0 <0.000016>
27329 1796652675.286302 close(4<UDP:[10.93.1.1:54255]>) = 0 <0.000006>
27329 1796652675.316680 +++ exited with 0 +++
"#;

/// Node.js's dgram client asks a host where nothing is bound, three times: each request draws
/// an ICMP port unreachable that the next recvmsg reports, then the program's timer runs out in
/// epoll_pwait (`node-down--tt`, client.trace:411-838).
const NODE_REFUSED_CLIENT: &str = r#"15128 14:39:44.387911 epoll_create1(EPOLL_CLOEXEC) = 14
15128 14:39:44.465005 socket(AF_INET, SOCK_DGRAM|SOCK_CLOEXEC|SOCK_NONBLOCK, IPPROTO_IP) = 18
15128 14:39:44.465577 connect(18, {sa_family=AF_INET, sin_port=htons(7300), sin_addr=inet_addr("10.93.1.1")}, 16) = 0
15128 14:39:44.465913 sendmsg(18, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="q0", iov_len=2}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, 0) = 2
15128 14:39:44.466655 epoll_ctl(14, EPOLL_CTL_ADD, 18, {events=EPOLLIN, data={u32=18, u64=18}}) = 0
15128 14:39:44.466681 epoll_pwait(14, [{events=EPOLLERR, data={u32=18, u64=18}}], 1024, 0, NULL, 8) = 1
15128 14:39:44.466705 recvmsg(18, {msg_namelen=128}, 0) = -1 ECONNREFUSED (Connection refused)
15128 14:39:44.472930 epoll_pwait(14, [], 1024, 0, NULL, 8) = 0
15128 14:39:44.472956 epoll_pwait(14, [], 1024, 494, NULL, 8) = 0
15128 14:39:44.967702 sendmsg(18, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="q0", iov_len=2}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, 0) = 2
15128 14:39:44.967898 epoll_pwait(14, [{events=EPOLLERR, data={u32=18, u64=18}}], 1024, 0, NULL, 8) = 1
15128 14:39:44.967932 recvmsg(18, {msg_namelen=128}, 0) = -1 ECONNREFUSED (Connection refused)
15128 14:39:44.968158 epoll_pwait(14, [], 1024, 0, NULL, 8) = 0
15128 14:39:44.968175 epoll_pwait(14, [], 1024, 500, NULL, 8) = 0
15128 14:39:45.471476 sendmsg(18, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="q0", iov_len=2}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, 0) = 2
15128 14:39:45.471616 epoll_pwait(14, [{events=EPOLLERR, data={u32=18, u64=18}}], 1024, 0, NULL, 8) = 1
15128 14:39:45.471649 recvmsg(18, {msg_namelen=128}, 0) = -1 ECONNREFUSED (Connection refused)
15128 14:39:45.471897 epoll_pwait(14, [], 1024, 0, NULL, 8) = 0
15128 14:39:45.471914 epoll_pwait(14, [], 1024, 500, NULL, 8) = 0
15128 14:39:45.983673 close(18)         = 0
15128 14:39:45.984076 epoll_pwait(14, [], 1024, 0, NULL, 8) = 0
15128 14:39:45.994107 +++ exited with 0 +++
"#;

const BOTH: &str = "host client\n trace client.trace\n ip 10.93.1.2\nhost server\n trace server.trace\n ip 10.93.1.1\n ip 10.93.1.3\n";
const CLIENT_ONLY: &str =
    "host client\n trace client.trace\n ip 10.93.1.2\nhost server\n ip 10.93.1.1\n ip 10.93.1.3\n";

/// Linux hands a connected UDP socket the ICMP destination unreachable its datagram drew: host
/// prohibited (a firewall's REJECT) comes back as EHOSTUNREACH on the next receive. The path
/// turned the requests back, a filtered path; they are no loss.
#[test]
fn an_unreachable_error_on_a_connected_udp_socket_is_a_filtered_path() {
    for (tag, conf, traces) in [
        (
            "prohibited-both",
            BOTH,
            &[
                ("client.trace", PROHIBITED_CLIENT),
                ("server.trace", PROHIBITED_SERVER),
            ][..],
        ),
        (
            "prohibited-client",
            CLIENT_ONLY,
            &[("client.trace", PROHIBITED_CLIENT)][..],
        ),
    ] {
        let analysis = diagnose_texts(&format!("udp-programs-{tag}"), conf, traces);
        assert_eq!(
            rules_of(&analysis.findings),
            vec!["connect-filtered"],
            "{tag}"
        );
        let finding = &analysis.findings[0];
        assert_eq!(finding.evidence.len(), 3, "{tag}: {finding:#?}");
        assert!(
            finding.summary.contains("10.93.1.1:7300"),
            "{tag}: {finding:#?}"
        );
    }
}

/// A send to a multicast group from a host with no route to it fails at once with ENETUNREACH:
/// the sender's routing table, a filtered path, not a silent one.
#[test]
fn a_send_without_a_route_is_a_filtered_path() {
    let analysis = diagnose_texts(
        "udp-programs-no-route",
        CLIENT_ONLY,
        &[("client.trace", NO_ROUTE_SENDER)],
    );
    assert_eq!(rules_of(&analysis.findings), vec!["connect-filtered"]);
    assert!(
        analysis.findings[0].summary.contains("239.1.2.3:7400"),
        "{:#?}",
        analysis.findings
    );
}

/// Every host hears a multicast group's datagrams: with the member's host declared but not
/// traced, nothing says the group's datagrams were lost.
#[test]
fn datagrams_to_a_group_whose_members_are_unobserved_are_not_lost() {
    let analysis = diagnose_texts(
        "udp-programs-group",
        CLIENT_ONLY,
        &[("client.trace", GROUP_SENDER)],
    );
    assert_eq!(rules_of(&analysis.findings), Vec::<&str>::new());
    let flow = &analysis.outcome.udp[0];
    assert_eq!(flow.receiver_addr.to_string(), "239.1.2.3:7400");
}

/// The server reads each request and answers from a socket bound to its first address while the
/// client's socket is connected to its second: Linux discards those answers on arrival. No
/// loss: the server's program answered from the wrong address, which `no-reply` names.
#[test]
fn an_answer_from_another_address_than_the_connected_peer_is_the_servers_fault() {
    let analysis = diagnose_texts(
        "udp-programs-other-address",
        BOTH,
        &[
            ("client.trace", OTHER_ADDRESS_CLIENT),
            ("server.trace", OTHER_ADDRESS_SERVER),
        ],
    );
    assert_eq!(rules_of(&analysis.findings), vec!["no-reply"]);
    let finding = &analysis.findings[0];
    assert_eq!(finding.class, Class::Application);
    assert!(
        finding
            .facts
            .iter()
            .any(|f| f.contains("answered from 10.93.1.1:54255, not from 10.93.1.3:7300")),
        "{finding:#?}"
    );
    let flow = analysis
        .outcome
        .udp
        .iter()
        .find(|f| f.receiver_addr.to_string() == "10.93.1.2:54492")
        .expect("the answers' flow");
    let elsewhere = flow
        .receiver_connected_elsewhere
        .expect("connected elsewhere");
    assert_eq!(elsewhere.peer.to_string(), "10.93.1.3:7300");
}

/// A request answered by ICMP port unreachable got its answer from the peer's host: the refusal
/// is reported (`connect-refused`), and the program's timer that runs out afterwards leaves no
/// request unanswered.
#[test]
fn a_udp_request_refused_by_the_peers_host_is_not_unanswered() {
    let analysis = diagnose_texts(
        "udp-programs-refused",
        CLIENT_ONLY,
        &[("client.trace", NODE_REFUSED_CLIENT)],
    );
    assert_eq!(rules_of(&analysis.findings), vec!["connect-refused"]);
    assert_eq!(
        analysis.findings[0].evidence.len(),
        3,
        "{:#?}",
        analysis.findings
    );
}

/// unbound and socat, bound to 0.0.0.0 on a host with two addresses, asked at the second: each
/// answer leaves from the address the route prefers, which no call shows, and the client's
/// connected socket never gets it. The answers are no loss the network alone explains: either
/// the client's host discarded them as from a stranger, or they were lost on the way.
#[test]
fn answers_from_a_wildcard_socket_of_a_multi_homed_host_are_ambiguous() {
    for scenario in ["dns-other-address--record", "socat-second-address--i"] {
        let analysis = CORPUS.analyse(scenario);
        assert_eq!(rules_of(&analysis.findings), vec!["no-reply"], "{scenario}");
        let finding = &analysis.findings[0];
        assert_eq!(finding.class, Class::Ambiguous, "{scenario}");
        assert!(
            finding
                .facts
                .iter()
                .any(|f| f.contains("answered from a socket bound to 0.0.0.0:")),
            "{scenario}: {finding:#?}"
        );
        let maybe = analysis
            .outcome
            .udp
            .iter()
            .filter_map(|f| f.receiver_connected_elsewhere)
            .next()
            .expect("a flow its receiver may have discarded");
        assert!(!maybe.certain, "{scenario}");
        assert_eq!(maybe.peer.ip().to_string(), "10.93.1.3", "{scenario}");
    }
}
