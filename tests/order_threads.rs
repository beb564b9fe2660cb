//! Threads of one process talking to each other over loopback, in one `-f` trace: blocking
//! calls overlap across threads, so the order of the lines is not the order of the effects.

use std::path::PathBuf;

use netcheck::config::Inputs;
use netcheck::parse::{SyscallName, TraceEvent, TraceReader};
use netcheck::pipeline::run_pipeline;
use netcheck::source::TraceId;

/// The socket lines of a real `netcheck record` trace of a python program whose main thread
/// accepts and echoes while a second thread connects and sends "ping" (strace 6.1,
/// `-f -ttt -T -yy`): the accept4 returns before the blocked connect does.
const TRACE: &str = "25647 1795570179.047048 socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_IP) = 3<TCP:[249360]> <0.000030>\n\
25647 1795570179.057605 bind(3<TCP:[249360]>, {sa_family=AF_INET, sin_port=htons(0), sin_addr=inet_addr(\"127.0.0.1\")}, 16) = 0 <0.000035>\n\
25647 1795570179.065599 listen(3<TCP:[127.0.0.1:38989]>, 128) = 0 <0.000036>\n\
25647 1795570179.073609 getsockname(3<TCP:[127.0.0.1:38989]>, {sa_family=AF_INET, sin_port=htons(38989), sin_addr=inet_addr(\"127.0.0.1\")}, [16]) = 0 <0.000011>\n\
25647 1795570179.074017 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, child_tid=0x7fa9dde1e990, parent_tid=0x7fa9dde1e990, exit_signal=0, stack=0x7fa9dd61e000, stack_size=0x7fff80, tls=0x7fa9dde1e6c0} => {parent_tid=[25703]}, 88) = 25703 <0.000064>\n\
25647 1795570179.078882 accept4(3<TCP:[127.0.0.1:38989]>,  <unfinished ...>\n\
25703 1795570179.087886 socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_TCP) = 5<TCP:[250344]> <0.001535>\n\
25703 1795570179.094094 connect(5<TCP:[250344]>, {sa_family=AF_INET, sin_port=htons(38989), sin_addr=inet_addr(\"127.0.0.1\")}, 16 <unfinished ...>\n\
25647 1795570179.109681 <... accept4 resumed>{sa_family=AF_INET, sin_port=htons(53034), sin_addr=inet_addr(\"127.0.0.1\")}, [16], SOCK_CLOEXEC) = 4<TCP:[127.0.0.1:38989->127.0.0.1:53034]> <0.030696>\n\
25703 1795570179.121705 <... connect resumed>) = 0 <0.016117>\n\
25647 1795570179.121873 getsockname(4<TCP:[127.0.0.1:38989->127.0.0.1:53034]>, {sa_family=AF_INET, sin_port=htons(38989), sin_addr=inet_addr(\"127.0.0.1\")}, [128 => 16]) = 0 <0.000038>\n\
25647 1795570179.122148 recvfrom(4<TCP:[127.0.0.1:38989->127.0.0.1:53034]>,  <unfinished ...>\n\
25703 1795570179.122258 sendto(5<TCP:[127.0.0.1:53034->127.0.0.1:38989]>, \"ping\", 4, 0, NULL, 0 <unfinished ...>\n\
25647 1795570179.133832 <... recvfrom resumed>\"ping\", 10, 0, NULL, NULL) = 4 <0.011658>\n\
25703 1795570179.133881 <... sendto resumed>) = 4 <0.000172>\n\
25647 1795570179.133936 sendto(4<TCP:[127.0.0.1:38989->127.0.0.1:53034]>, \"ping\", 4, 0, NULL, 0 <unfinished ...>\n\
25703 1795570179.133974 recvfrom(5<TCP:[127.0.0.1:53034->127.0.0.1:38989]>,  <unfinished ...>\n\
25647 1795570179.134065 <... sendto resumed>) = 4 <0.000099>\n\
25703 1795570179.134081 <... recvfrom resumed>\"ping\", 10, 0, NULL, NULL) = 4 <0.000023>\n\
25647 1795570179.134126 close(4<TCP:[127.0.0.1:38989->127.0.0.1:53034]> <unfinished ...>\n\
25647 1795570179.134228 <... close resumed>) = 0 <0.000087>\n\
25703 1795570179.134439 close(5<TCP:[127.0.0.1:53034->127.0.0.1:38989]>) = 0 <0.000061>\n\
25703 1795570179.137504 exit(0)         = ?\n\
25703 1795570179.137635 +++ exited with 0 +++\n\
25647 1795570179.144629 getsockname(3<TCP:[127.0.0.1:38989]>, {sa_family=AF_INET, sin_port=htons(38989), sin_addr=inet_addr(\"127.0.0.1\")}, [16]) = 0 <0.000045>\n\
25647 1795570179.144849 getpeername(3<TCP:[127.0.0.1:38989]>, 0x7ffd1aad8240, [16]) = -1 ENOTCONN (Transport endpoint is not connected) <0.000027>\n\
25647 1795570179.144980 close(3<TCP:[127.0.0.1:38989]>) = 0 <0.000055>\n\
";

fn write_trace(tag: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!(
        "netcheck-threads-{tag}-{}.trace",
        std::process::id()
    ));
    std::fs::write(&path, TRACE).expect("temporary trace");
    path
}

#[test]
fn a_blocked_connect_takes_effect_before_the_accept_that_returns_first() {
    let path = write_trace("parse");
    let reader = TraceReader::open(&path, TraceId(0)).expect("trace opens");
    let names: Vec<SyscallName> = reader
        .filter_map(|e| match e {
            TraceEvent::Call(c) => Some(c.name),
            TraceEvent::Process { .. } => None,
        })
        .collect();
    let _ = std::fs::remove_file(&path);
    let position = |name| names.iter().position(|n| *n == name);
    assert!(position(SyscallName::Connect) < position(SyscallName::Accept4));
    let sends: Vec<usize> = names
        .iter()
        .enumerate()
        .filter(|(_, n)| **n == SyscallName::Sendto)
        .map(|(i, _)| i)
        .collect();
    let recvs: Vec<usize> = names
        .iter()
        .enumerate()
        .filter(|(_, n)| **n == SyscallName::Recvfrom)
        .map(|(i, _)| i)
        .collect();
    assert!(sends[0] < recvs[0] && sends[1] < recvs[1], "{names:?}");
}

#[test]
fn a_threaded_loopback_exchange_orders_without_deviation() {
    let path = write_trace("order");
    let analysis = run_pipeline(&Inputs {
        paths: Vec::new(),
        one_host: vec![path.clone()],
    })
    .expect("pipeline runs");
    let _ = std::fs::remove_file(&path);
    let outcome = &analysis.outcome;
    assert!(outcome.blocked.is_empty(), "{:?}", outcome.blocked);
    assert!(outcome.deviations.is_empty(), "{:?}", outcome.deviations);
    assert_eq!(outcome.tcp.len(), 1);
    assert_eq!(outcome.tcp[0].to_server.stats.received, 4);
    assert_eq!(outcome.tcp[0].to_client.stats.received, 4);
    assert!(analysis.findings.iter().all(|f| !f.class.is_problem()));
}
