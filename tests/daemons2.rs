//! RabbitMQ (the Erlang VM) with amqp-tools clients, recorded by `lab/daemons2.sh` into
//! `tests/fixtures/daemons2`: every scenario's `expected.json` holds in the full view and in
//! each one-sided view, and the socket lines behind each model behaviour they taught, cut from
//! the recordings, are checked on their own.

use netcheck::testkit::rules::rules_of;
use netcheck::testkit::table::diagnose_texts;
use netcheck::testkit::table::Corpus;

static CORPUS: Corpus = Corpus {
    name: "daemons2",
    min_scenarios: 4,
    max_bytes: 4 << 20,
    known_gaps: &[],
};

netcheck::corpus_tests!(CORPUS);

/// The Erlang VM asks whether its IPv6 listeners are dual-stack: it binds `[::]:49152`
/// (IPV6_V6ONLY unset), then `0.0.0.0:49152`, which Linux refuses with EADDRINUSE because the
/// first socket already receives IPv4 there; it closes both and goes on
/// (`daemons2/rabbitmq-healthy`, server.trace, pid 17172).
const ERLANG_DUAL_STACK_PROBE_V6: &str = "17172 1796639540.393433 socket(AF_INET6, SOCK_STREAM, IPPROTO_TCP) = 35<TCPv6:[1217363]> <0.000026>\n\
17172 1796639540.397631 fcntl(35<TCPv6:[1217363]>, F_GETFL <unfinished ...>\n\
17172 1796639540.399172 <... fcntl resumed>) = 0x2 (flags O_RDWR) <0.000075>\n\
17172 1796639540.399188 fcntl(35<TCPv6:[1217363]>, F_SETFL, O_RDWR|O_NONBLOCK <unfinished ...>\n\
17172 1796639540.405680 <... fcntl resumed>) = 0 <0.005123>\n\
17172 1796639540.405765 bind(35<TCPv6:[1217363]>, {sa_family=AF_INET6, sin6_port=htons(49152), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, \"::\", &sin6_addr), sin6_scope_id=0}, 28 <unfinished ...>\n\
17172 1796639540.407326 <... bind resumed>) = 0 <0.000064>\n\
17172 1796639540.407352 listen(35<TCPv6:[[::]:49152]>, 5) = 0 <0.000051>\n\
";
const ERLANG_DUAL_STACK_PROBE_V4: &str = "17172 1796639540.409400 socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 36<TCP:[1217369]> <0.000015>\n\
17172 1796639540.411061 fcntl(36<TCP:[1217369]>, F_GETFL) = 0x2 (flags O_RDWR) <0.000029>\n\
17172 1796639540.413312 fcntl(36<TCP:[1217369]>, F_SETFL, O_RDWR|O_NONBLOCK <unfinished ...>\n\
17172 1796639540.416414 <... fcntl resumed>) = 0 <0.000092>\n\
17172 1796639540.416462 bind(36<TCP:[1217369]>, {sa_family=AF_INET, sin_port=htons(49152), sin_addr=inet_addr(\"0.0.0.0\")}, 16) = -1 EADDRINUSE (Address already in use) <0.000024>\n\
17172 1796639540.418386 getsockopt(36<TCP:[1217369]>, SOL_SOCKET, SO_LINGER, {l_onoff=0, l_linger=0}, [8]) = 0 <0.000026>\n\
17172 1796639540.420353 close(36<TCP:[1217369]>) = 0 <0.000028>\n\
";
const ERLANG_DUAL_STACK_PROBE_END: &str = "17172 1796639540.421883 getsockopt(35<TCPv6:[[::]:49152]>, SOL_SOCKET, SO_LINGER, {l_onoff=0, l_linger=0}, [8]) = 0 <0.000005>\n\
17172 1796639540.421933 close(35<TCPv6:[[::]:49152]>) = 0 <0.000011>\n\
17172 1796639540.422023 socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 35<TCP:[1217377]> <0.000011>\n\
17172 1796639540.426199 bind(35<TCP:[1217377]>, {sa_family=AF_INET, sin_port=htons(49152), sin_addr=inet_addr(\"0.0.0.0\")}, 16) = 0 <0.000080>\n\
17172 1796639540.427798 listen(35<TCP:[0.0.0.0:49152]>, 5) = 0 <0.000033>\n\
17172 1796639540.430167 close(35<TCP:[0.0.0.0:49152]>) = 0 <0.000017>\n\
";

/// An IPv4 bind refused because the program's own dual-stack IPv6 wildcard socket holds the
/// port is the kernel's answer to the program's question, not an address in use: the port is
/// served by the program itself.
#[test]
fn a_bind_refused_by_the_programs_own_dual_stack_socket_is_no_address_in_use() {
    let trace = format!(
        "{ERLANG_DUAL_STACK_PROBE_V6}{ERLANG_DUAL_STACK_PROBE_V4}{ERLANG_DUAL_STACK_PROBE_END}"
    );
    let analysis = diagnose_texts(
        "daemons2-own",
        "host server\n trace server.trace\n ip 10.79.1.10\n",
        &[("server.trace", &trace)],
    );
    assert!(
        !rules_of(&analysis.findings).contains(&"address-in-use"),
        "{:?}",
        rules_of(&analysis.findings)
    );
}

/// The same two binds from two programs of one host are a conflict: IPv4 clients of the port
/// reach the other program's dual-stack socket.
#[test]
fn a_bind_refused_by_another_programs_dual_stack_socket_is_an_address_in_use() {
    let analysis = diagnose_texts(
        "daemons2-other",
        "host server\n trace a.trace\n trace b.trace\n ip 10.79.1.10\n",
        &[
            ("a.trace", ERLANG_DUAL_STACK_PROBE_V6),
            ("b.trace", ERLANG_DUAL_STACK_PROBE_V4),
        ],
    );
    assert!(
        rules_of(&analysis.findings).contains(&"address-in-use"),
        "{:?}",
        rules_of(&analysis.findings)
    );
}
