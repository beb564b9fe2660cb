//! Every recorded fixture trace parses completely, and the facts the recorded programs produced
//! are found in the events.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use netcheck::parse::{
    Call, FdInfo, ParseStats, ProcessEvent, SockAddr, Syscall, SyscallName, TraceEvent, TraceReader,
};
use netcheck::source::TraceId;

fn traces_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/parse/traces")
}

/// Reads a whole trace (a file name, or a `-ff` prefix) from the fixture corpus.
fn read(name: &str) -> (Vec<TraceEvent>, ParseStats) {
    let mut reader = TraceReader::open(&traces_dir().join(name), TraceId(0))
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let events: Vec<TraceEvent> = reader.by_ref().collect();
    (events, reader.stats().clone())
}

fn calls(events: &[TraceEvent]) -> impl Iterator<Item = &Call> {
    events.iter().filter_map(|e| match e {
        TraceEvent::Call(c) => Some(c),
        _ => None,
    })
}

fn addr(text: &str) -> SocketAddr {
    text.parse().unwrap()
}

/// The fixture traces by trace path (per-pid sets by prefix).
fn all_traces() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(traces_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .map(|name| match name.rsplit_once('.') {
            Some((prefix, pid)) if pid.bytes().all(|b| b.is_ascii_digit()) => prefix.to_owned(),
            _ => name,
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

#[test]
fn every_fixture_parses_without_unparsed_lines_and_accounts_for_every_line() {
    let names = all_traces();
    assert!(names.len() >= 20, "fixture corpus missing: {names:?}");
    for name in names {
        let (events, stats) = read(&name);
        assert_eq!(stats.unparsed, 0, "{name}: {:#?}", stats.first_unparsed);
        assert_eq!(stats.accounted_lines(), stats.lines, "{name}: {stats:#?}");
        assert!(stats.calls > 20, "{name}: only {} calls", stats.calls);
        assert_eq!(stats.unfinished_at_end, 0, "{name}");
        let process_events = events
            .iter()
            .filter(|e| matches!(e, TraceEvent::Process { .. }))
            .count() as u64;
        assert_eq!(stats.calls + process_events, events.len() as u64, "{name}");
        assert!(
            stats.ignored.contains_key("mmap"),
            "{name}: {:?}",
            stats.ignored
        );
    }
}

fn sent(calls: &[&Call]) -> Vec<Vec<u8>> {
    calls
        .iter()
        .filter_map(|c| match &c.syscall {
            Syscall::Send { data, .. } => Some(data.shown().to_vec()),
            _ => None,
        })
        .collect()
}

fn received(calls: &[&Call]) -> Vec<Vec<u8>> {
    calls
        .iter()
        .filter_map(|c| match &c.syscall {
            Syscall::Recv { data, .. } => Some(data.shown().to_vec()),
            _ => None,
        })
        .collect()
}

fn bound_port(calls: &[&Call]) -> u16 {
    calls
        .iter()
        .find_map(|c| match &c.syscall {
            Syscall::Bind {
                addr: SockAddr::Inet(a),
                ..
            } if a.ip().is_loopback() => Some(a.port()),
            _ => None,
        })
        .expect("a bind to loopback")
}

fn accepted_peers(calls: &[&Call]) -> Vec<SocketAddr> {
    calls
        .iter()
        .filter_map(|c| match &c.syscall {
            Syscall::Accept {
                peer: Some(SockAddr::Inet(a)),
                new_fd: Some(_),
                ..
            } => Some(*a),
            _ => None,
        })
        .collect()
}

fn connects_to<'a>(calls: &[&'a Call], to: SocketAddr) -> Vec<&'a Call> {
    calls
        .iter()
        .copied()
        .filter(
            |c| matches!(&c.syscall, Syscall::Connect { addr: SockAddr::Inet(a), .. } if *a == to),
        )
        .collect()
}

#[test]
fn curl_fetches_from_the_python_server() {
    for flags in ["f", "f-yy"] {
        let (server_events, _) = read(&format!("http_server.{flags}.strace"));
        let (client_events, _) = read(&format!("http_client.{flags}.strace"));
        let server: Vec<&Call> = calls(&server_events).collect();
        let client: Vec<&Call> = calls(&client_events).collect();
        let port = bound_port(&server);
        let server_addr = addr(&format!("127.0.0.1:{port}"));
        let connect = connects_to(&client, server_addr);
        assert_eq!(connect.len(), 1, "{flags}");
        let Syscall::Connect { fd, .. } = connect[0].syscall else {
            unreachable!()
        };
        // Non-blocking connect: in progress, then SO_ERROR 0 on the same descriptor.
        assert_eq!(
            connect[0].outcome.errno,
            Some(netcheck::parse::Errno::EINPROGRESS)
        );
        assert!(client.iter().any(|c| matches!(&c.syscall,
            Syscall::Getsockopt { fd: f, name, value: netcheck::parse::OptValue::Int(0), .. } if *f == fd && name == "SO_ERROR")));
        assert!(
            sent(&client)
                .iter()
                .any(|d| d.starts_with(b"GET / HTTP/1.1\r\n")),
            "{flags}"
        );
        assert!(received(&client).contains(&b"hello from the fixture server\n".to_vec()));
        assert!(received(&server).iter().any(|d| d.starts_with(b"GET / ")));
        assert!(sent(&server)
            .iter()
            .any(|d| d.starts_with(b"HTTP/1.0 200 OK\r\n")));
        // The probe that waited for the port, then curl.
        let peers = accepted_peers(&server);
        assert_eq!(peers.len(), 2, "{flags}");
        assert!(peers
            .iter()
            .all(|p| p.ip().is_loopback() && p.port() != port));
        // The threaded server hands each connection to a new thread.
        assert!(server.iter().any(|c| matches!(
            c.syscall,
            Syscall::Spawn {
                shares_fds: true,
                thread: true,
                ..
            }
        )));
        if flags == "f-yy" {
            let decorated: Vec<&FdInfo> = client.iter().flat_map(|c| &c.fd_info).collect();
            assert!(decorated
                .iter()
                .any(|i| i.kind == "TCP" && i.peer == Some(server_addr)));
        }
    }
}

/// Facts every recording of `tcp_pair.py` shows, whatever the strace flags.
fn check_tcp_pair(name: &str, server_thread_traced: bool) -> Vec<TraceEvent> {
    let (events, _) = read(name);
    let all: Vec<&Call> = calls(&events).collect();
    if server_thread_traced {
        let port = bound_port(&all);
        let server_addr = addr(&format!("127.0.0.1:{port}"));
        assert_eq!(connects_to(&all, server_addr).len(), 1, "{name}");
    }
    assert_eq!(
        connects_to(&all, addr("127.0.0.1:1")).len(),
        1,
        "{name}: refused connect"
    );
    let sent = sent(&all);
    assert!(
        sent.contains(&b"ping \"quoted\" \\ back".to_vec()),
        "{name}"
    );
    assert!(
        sent.contains(&b"onetwo".to_vec()),
        "{name}: sendmsg iovecs joined"
    );
    assert!(all.iter().any(|c| matches!(&c.syscall,
        Syscall::Getsockopt { value: netcheck::parse::OptValue::Raw(v), .. } if v == "[ECONNREFUSED]")), "{name}");
    let pair = all.iter().find_map(|c| match &c.syscall {
        Syscall::Socketpair { fds: Some(fds), .. } => Some(*fds),
        _ => None,
    });
    assert!(pair.is_some(), "{name}");
    if server_thread_traced {
        assert!(
            sent.contains(&b"ab\x63\n\t\0\xff".to_vec()),
            "{name}: escapes decoded"
        );
        assert_eq!(accepted_peers(&all).len(), 1, "{name}");
        assert!(all.iter().any(|c| matches!(
            c.syscall,
            Syscall::Setsockopt {
                value: netcheck::parse::OptValue::Linger {
                    onoff: 1,
                    linger: 0
                },
                ..
            }
        )));
        assert!(all.iter().any(|c| matches!(
            c.syscall,
            Syscall::Ioctl {
                op: netcheck::parse::IoctlOp::BytesReadable(Some(0)),
                ..
            }
        )));
        assert!(all
            .iter()
            .any(|c| matches!(c.syscall, Syscall::Shutdown { how: 1, .. })));
        let spawn = all.iter().find_map(|c| match c.syscall {
            Syscall::Spawn {
                child: Some(child),
                shares_fds: true,
                thread: true,
            } => Some(child),
            _ => None,
        });
        let child = spawn.expect("the server thread");
        let accept = all
            .iter()
            .find(|c| matches!(c.syscall, Syscall::Accept { .. }))
            .unwrap();
        assert_eq!(
            accept.pid, child,
            "{name}: accept runs in the server thread"
        );
        let select = all
            .iter()
            .find(|c| c.name == SyscallName::Pselect6)
            .unwrap();
        let Syscall::Wait {
            fds, timeout_ms, ..
        } = &select.syscall
        else {
            unreachable!()
        };
        assert_eq!(*timeout_ms, Some(5000));
        assert!(fds.iter().any(|w| w.wanted.read && w.got.read), "{name}");
    }
    let truncated_x = all.iter().any(|c| matches!(&c.syscall,
        Syscall::Send { data, .. } if data.truncated && data.shown().len() == 32 && data.shown().iter().all(|&b| b == b'x')));
    assert!(
        truncated_x,
        "{name}: 100 bytes shown as 32 with the default -s"
    );
    assert!(all
        .iter()
        .any(|c| matches!(c.syscall, Syscall::Wait { .. }) && c.name == SyscallName::Poll));
    events
}

#[test]
fn tcp_pair_under_every_flag_set() {
    for name in [
        "tcp_pair.f.strace",
        "tcp_pair.f-s32.strace",
        "tcp_pair.f-xx.strace",
        "tcp_pair.f-yy.strace",
        "tcp_pair.f-i.strace",
        "tcp_pair.f-n.strace",
        "tcp_pair.f-C.strace",
        "tcp_pair.stderr.strace",
        "tcp_pair.ff",
    ] {
        let events = check_tcp_pair(name, true);
        assert!(
            events.iter().all(|e| match e {
                TraceEvent::Call(c) => c.pid != 0 && c.time.is_none(),
                TraceEvent::Process { pid, .. } => *pid != 0,
            }),
            "{name}: every event has its pid"
        );
    }
}

/// What strace adds around the calls (stacks with `-k`, buffer dumps with `-e write=all`, the
/// call count table with `-C`) is skipped, counted, and changes no call.
#[test]
fn tcp_pair_with_stacks_dumps_and_the_count_table() {
    let (_, plain) = read("tcp_pair.f.strace");
    let (_, counted) = read("tcp_pair.f-C.strace");
    assert_eq!(counted.calls, plain.calls);
    assert!(counted.skipped > 40, "{counted:#?}");
    for name in ["tcp_pair.f-k.strace", "tcp_pair.f-write-all.strace"] {
        let (events, stats) = read(name);
        assert_eq!(stats.unparsed, 0, "{name}: {:#?}", stats.first_unparsed);
        assert!(stats.skipped > 10, "{name}: {stats:#?}");
        let all: Vec<&Call> = calls(&events).collect();
        let port = bound_port(&all);
        let server = addr(&format!("127.0.0.1:{port}"));
        assert_eq!(connects_to(&all, server).len(), 1, "{name}");
        assert!(!sent(&all).is_empty(), "{name}");
    }
}

#[test]
fn tcp_pair_timestamps() {
    let events = check_tcp_pair("tcp_pair.f-tt-T.strace", true);
    let timed: Vec<&Call> = calls(&events).collect();
    assert!(timed.iter().all(|c| c.time.is_some()));
    // Calls that never return (exit, exit_group) have no duration.
    assert!(timed
        .iter()
        .all(|c| c.duration.is_some() == c.outcome.value.is_some()));
    let events = check_tcp_pair("tcp_pair.f-ttt.strace", true);
    assert!(calls(&events).all(|c| c.time.is_some_and(|t| t > 1e9)));
    // `-n -i -tt`: the call number and instruction pointer between the stamp and the name.
    let events = check_tcp_pair("tcp_pair.f-n-i-tt.strace", true);
    assert!(calls(&events).all(|c| c.time.is_some()));
    let events = check_tcp_pair("tcp_pair.f-r.strace", true);
    let times: Vec<f64> = calls(&events).map(|c| c.time.unwrap()).collect();
    assert!(
        times[0] < 1.0,
        "relative times start near zero: {}",
        times[0]
    );
    assert!(times.iter().all(|&t| t < 1e6));
    // Without -f only the main thread is traced, without a pid column.
    let events = check_tcp_pair("tcp_pair.nofollow-t.strace", false);
    assert!(calls(&events).all(|c| c.pid == 0 && c.time.is_some()));
}

#[test]
fn ff_sets_put_the_thread_after_its_clone() {
    let (events, _) = read("tcp_pair.ff");
    let files: std::collections::BTreeSet<u32> = events.iter().map(|e| e.loc().file).collect();
    assert_eq!(files.len(), 2);
    let spawn_at = events
        .iter()
        .position(|e| matches!(e, TraceEvent::Call(c) if matches!(c.syscall, Syscall::Spawn { thread: true, .. })))
        .unwrap();
    let first_child = events.iter().position(|e| e.loc().file == 1).unwrap();
    assert!(first_child > spawn_at);
}

#[test]
fn ipv6_exchange() {
    let (events, _) = read("tcp6.f.strace");
    let all: Vec<&Call> = calls(&events).collect();
    let port = bound_port(&all);
    let server = addr(&format!("[::1]:{port}"));
    let connect = connects_to(&all, server);
    assert_eq!(connect.len(), 1);
    assert!(connect[0].outcome.is_success());
    assert!(accepted_peers(&all)
        .iter()
        .all(|p| p.is_ipv6() && p.ip().is_loopback()));
    assert!(sent(&all).contains(&b"HELLO OVER V6".to_vec()));
}

#[test]
fn forking_server_in_one_file_and_per_pid_files() {
    for name in ["forking_server.f.strace", "forking_server.ff"] {
        let (events, _) = read(name);
        let all: Vec<&Call> = calls(&events).collect();
        let forks = all
            .iter()
            .filter(|c| {
                matches!(
                    c.syscall,
                    Syscall::Spawn {
                        shares_fds: false,
                        thread: false,
                        child: Some(_)
                    }
                )
            })
            .count();
        assert_eq!(forks, 4, "{name}");
        let replies: Vec<Vec<u8>> = sent(&all)
            .into_iter()
            .filter(|d| d.starts_with(b"reply to"))
            .collect();
        assert_eq!(replies.len(), 2, "{name}");
        assert_eq!(accepted_peers(&all).len(), 2, "{name}");
        let pids: std::collections::BTreeSet<u32> = all.iter().map(|c| c.pid).collect();
        assert_eq!(pids.len(), 5, "{name}");
        let exits = events
            .iter()
            .filter(|e| {
                matches!(
                    e,
                    TraceEvent::Process {
                        event: ProcessEvent::Exited { code: 0 },
                        ..
                    }
                )
            })
            .count();
        assert_eq!(exits, 5, "{name}");
    }
}

#[test]
fn asyncio_uses_epoll() {
    let (events, _) = read("asyncio_echo.f-tt.strace");
    let all: Vec<&Call> = calls(&events).collect();
    let registered: Vec<i32> = all
        .iter()
        .filter_map(|c| match c.syscall {
            Syscall::EpollCtl {
                fd,
                op: netcheck::parse::EpollOp::Add,
                ..
            } => Some(fd),
            _ => None,
        })
        .collect();
    let ready: Vec<i32> = all
        .iter()
        .filter_map(|c| match &c.syscall {
            Syscall::Wait {
                epoll_fd: Some(_),
                fds,
                ..
            } => Some(fds.iter().map(|w| w.fd)),
            _ => None,
        })
        .flatten()
        .collect();
    assert!(!ready.is_empty());
    assert!(
        ready.iter().all(|fd| registered.contains(fd)),
        "ready {ready:?} registered {registered:?}"
    );
    assert!(sent(&all).contains(&b"async hello".to_vec()));
    assert!(received(&all).contains(&b"echo:async hello".to_vec()));
}

#[test]
fn udp_request_response() {
    let (events, _) = read("udp.f.strace");
    let all: Vec<&Call> = calls(&events).collect();
    let port = bound_port(&all);
    let server = addr(&format!("127.0.0.1:{port}"));
    assert!(all.iter().any(|c| matches!(&c.syscall,
        Syscall::Send { dest: Some(SockAddr::Inet(a)), data, .. } if *a == server && data.shown() == b"query 1")));
    assert!(all.iter().any(|c| matches!(&c.syscall,
        Syscall::Recv { src: Some(SockAddr::Inet(a)), data, .. } if *a == server && data.shown() == b"answer to query 1")));
    assert!(all.iter().any(|c| matches!(&c.syscall,
        Syscall::Recv { truncated_datagram: Some(true), data, buf_len: 8, .. } if data.shown() == b"long ans")));
    assert!(all.iter().any(|c| matches!(&c.syscall,
        Syscall::Send { dest: Some(_), data, .. } if data.shown() == b"long answer in parts")));
    assert!(all.iter().any(|c| matches!(
        &c.syscall,
        Syscall::Setsockopt {
            value: netcheck::parse::OptValue::Membership { .. },
            ..
        }
    )));
}

#[test]
fn socat_relays_through_select() {
    let (server_events, _) = read("socat_server.f.strace");
    let (client_events, _) = read("socat_client.f.strace");
    let server: Vec<&Call> = calls(&server_events).collect();
    let client: Vec<&Call> = calls(&client_events).collect();
    assert_eq!(accepted_peers(&server).len(), 1);
    assert!(received(&server).contains(&b"socat says hi\n".to_vec()));
    assert!(sent(&client).contains(&b"socat says hi\n".to_vec()));
    assert!(client
        .iter()
        .any(|c| c.name == SyscallName::Pselect6 || c.name == SyscallName::Select));
}

/// `-z` (successful calls only): strace 6 prints the tail of a call that was `<unfinished ...>`
/// on the next line as bare text, with no pid and no `<... resumed>`; it completes that call.
#[test]
fn tcp_pair_successful_calls_only() {
    let (events, stats) = read("tcp_pair.f-z.strace");
    assert_eq!(stats.unparsed, 0, "{:#?}", stats.first_unparsed);
    assert_eq!(stats.merged_unfinished, 1, "{stats:#?}");
    let all: Vec<&Call> = calls(&events).collect();
    let poll = all
        .iter()
        .find(|c| c.name == SyscallName::Poll && matches!(c.syscall, Syscall::Wait { .. }))
        .expect("the merged poll");
    assert_eq!(poll.outcome.value, Some(1));
    assert!(all.iter().all(|c| c.outcome.errno.is_none()));
}
