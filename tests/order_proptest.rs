//! Property: any valid execution of several hosts, split per host, is ordered completely and
//! without deviation (the model never blames a correct execution).
//!
//! An execution is a set of sessions (TCP connections and UDP flows between hosts) whose steps
//! are interleaved at random; each step is appended to the script of the host that makes it,
//! so every host's sequence is consistent with one real global order.

use std::fmt::Write as _;

use netcheck::config::Topology;
use netcheck::fold::SocketEvent;
use netcheck::order::{replay, replay_with_stats, Step};
use netcheck::parse::{Errno, Fd, SockAddr, Syscall};
use netcheck::testkit::script::{topology, writable, Script};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Session {
    Tcp {
        client: usize,
        server: usize,
        /// (from client?, length) per message.
        messages: Vec<(bool, usize)>,
        /// The server closes first and the client reads the end of stream.
        server_closes_first: bool,
        /// Nonblocking connect completed through poll(POLLOUT) and SO_ERROR.
        nonblocking: bool,
    },
    Udp {
        sender: usize,
        receiver: usize,
        /// (length, delivered?) per datagram.
        datagrams: Vec<(usize, bool)>,
    },
}

const HOSTS: usize = 3;

fn ip(host: usize) -> String {
    format!("10.0.0.{}", host + 1)
}

fn session() -> impl Strategy<Value = Session> {
    let tcp = (
        0..HOSTS,
        0..HOSTS,
        prop::collection::vec((any::<bool>(), 1usize..200), 0..5),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_filter("two hosts", |(c, s, ..)| c != s)
        .prop_map(
            |(client, server, messages, server_closes_first, nonblocking)| Session::Tcp {
                client,
                server,
                messages,
                server_closes_first,
                nonblocking,
            },
        );
    let udp = (
        0..HOSTS,
        0..HOSTS,
        prop::collection::vec((1usize..300, any::<bool>()), 1..5),
    )
        .prop_filter("two hosts", |(c, s, _)| c != s)
        .prop_map(|(sender, receiver, datagrams)| Session::Udp {
            sender,
            receiver,
            datagrams,
        });
    prop_oneof![tcp, udp]
}

/// One step of a session, made by one host.
enum Action {
    TcpOpen { nonblocking: bool },
    Connect { to: String, nonblocking: bool },
    Accept { peer: String },
    Send { client_side: bool, data: Vec<u8> },
    Recv { client_side: bool, data: Vec<u8> },
    Close { client_side: bool },
    Eof { client_side: bool },
    UdpOpen { bind: String },
    SendTo { data: Vec<u8>, to: String },
    RecvFrom { data: Vec<u8>, from: String },
    UdpClose,
}

struct Plan {
    /// (host, action)
    steps: Vec<(usize, Action)>,
}

fn payload(session: usize, seq: usize, len: usize) -> Vec<u8> {
    let mut text = String::new();
    let _ = write!(text, "s{session}m{seq}:");
    let mut bytes = text.into_bytes();
    bytes.resize(len.max(bytes.len()), b'a' + (seq % 26) as u8);
    bytes
}

fn plan(index: usize, s: &Session) -> Plan {
    let mut steps = Vec::new();
    match s {
        Session::Tcp {
            client,
            server,
            messages,
            server_closes_first,
            nonblocking,
        } => {
            let (c, sv) = (*client, *server);
            let client_addr = format!("{}:{}", ip(c), 20000 + index);
            steps.push((
                c,
                Action::TcpOpen {
                    nonblocking: *nonblocking,
                },
            ));
            steps.push((
                c,
                Action::Connect {
                    to: format!("{}:80", ip(sv)),
                    nonblocking: *nonblocking,
                },
            ));
            steps.push((sv, Action::Accept { peer: client_addr }));
            for (seq, (from_client, len)) in messages.iter().enumerate() {
                let data = payload(index, seq, *len);
                let (tx, rx) = if *from_client { (c, sv) } else { (sv, c) };
                steps.push((
                    tx,
                    Action::Send {
                        client_side: *from_client,
                        data: data.clone(),
                    },
                ));
                steps.push((
                    rx,
                    Action::Recv {
                        client_side: !*from_client,
                        data,
                    },
                ));
            }
            let (first, second) = if *server_closes_first {
                (sv, c)
            } else {
                (c, sv)
            };
            let first_is_client = !*server_closes_first;
            steps.push((
                first,
                Action::Close {
                    client_side: first_is_client,
                },
            ));
            steps.push((
                second,
                Action::Eof {
                    client_side: !first_is_client,
                },
            ));
            steps.push((
                second,
                Action::Close {
                    client_side: !first_is_client,
                },
            ));
        }
        Session::Udp {
            sender,
            receiver,
            datagrams,
        } => {
            let from = format!("{}:{}", ip(*sender), 30000 + index);
            let to = format!("{}:{}", ip(*receiver), 40000 + index);
            steps.push((*receiver, Action::UdpOpen { bind: to.clone() }));
            steps.push((*sender, Action::UdpOpen { bind: from.clone() }));
            for (seq, (len, delivered)) in datagrams.iter().enumerate() {
                let data = payload(index, seq, *len);
                steps.push((
                    *sender,
                    Action::SendTo {
                        data: data.clone(),
                        to: to.clone(),
                    },
                ));
                if *delivered {
                    steps.push((
                        *receiver,
                        Action::RecvFrom {
                            data,
                            from: from.clone(),
                        },
                    ));
                }
            }
            steps.push((*sender, Action::UdpClose));
        }
    }
    Plan { steps }
}

/// Plays the sessions interleaved by `choices` and returns one script per host.
fn execute(sessions: &[Session], choices: &[usize]) -> Vec<Script> {
    let mut scripts: Vec<Script> = (0..HOSTS).map(|h| Script::new(h as u32)).collect();
    // Every host listens on port 80 first.
    let listeners: Vec<Fd> = scripts
        .iter_mut()
        .enumerate()
        .map(|(h, s)| {
            let l = s.tcp();
            s.bind(l, &format!("{}:80", ip(h)));
            s.listen(l);
            l
        })
        .collect();
    let plans: Vec<Plan> = sessions
        .iter()
        .enumerate()
        .map(|(i, s)| plan(i, s))
        .collect();
    let mut cursor = vec![0usize; plans.len()];
    // Per session: client fd, server fd (TCP) or receiver fd, sender fd (UDP).
    let mut fds: Vec<(Fd, Fd)> = vec![(-1, -1); plans.len()];
    let mut live: Vec<usize> = (0..plans.len()).collect();
    let mut turn = 0;
    while !live.is_empty() {
        let pick = choices
            .get(turn % choices.len().max(1))
            .copied()
            .unwrap_or(0)
            % live.len();
        turn += 1;
        let si = live[pick];
        let (host, action) = &plans[si].steps[cursor[si]];
        let script = &mut scripts[*host];
        let (first, second) = &mut fds[si];
        match action {
            Action::TcpOpen { nonblocking } => {
                *first = if *nonblocking {
                    script.tcp_nonblocking()
                } else {
                    script.tcp()
                };
                let bind = match &sessions[si] {
                    Session::Tcp { client, .. } => format!("{}:{}", ip(*client), 20000 + si),
                    Session::Udp { .. } => unreachable!("TCP step of a UDP session"),
                };
                script.bind(*first, &bind);
            }
            Action::Connect { to, nonblocking } => {
                script.connect(*first, to);
                if *nonblocking {
                    script.fails(Errno::EINPROGRESS);
                    script.poll(*first, writable(), writable());
                    script.getsockopt_so_error(*first, 0);
                }
            }
            Action::Accept { peer } => *second = script.accept(listeners[*host], peer),
            Action::Send { client_side, data } => {
                script.send(if *client_side { *first } else { *second }, data);
            }
            Action::Recv { client_side, data } => {
                script.recv(if *client_side { *first } else { *second }, data);
            }
            Action::Close { client_side } => {
                script.close(if *client_side { *first } else { *second });
            }
            Action::Eof { client_side } => {
                script.recv_eof(if *client_side { *first } else { *second });
            }
            Action::UdpOpen { bind } => {
                let fd = script.udp();
                script.bind(fd, bind);
                if *first < 0 {
                    *first = fd;
                } else {
                    *second = fd;
                }
            }
            Action::SendTo { data, to } => {
                script.sendto(*second, data, to);
            }
            Action::RecvFrom { data, from } => {
                script.recvfrom(*first, data, from);
            }
            Action::UdpClose => {
                script.close(*second);
            }
        }
        cursor[si] += 1;
        if cursor[si] == plans[si].steps.len() {
            live.remove(pick);
        }
    }
    scripts
}

fn order(topo: &Topology, scripts: Vec<Script>) -> (u64, netcheck::model::ReplayOutcome) {
    let total: usize = scripts.iter().map(Script::len).sum();
    let traces: Vec<Box<dyn Iterator<Item = SocketEvent>>> = scripts
        .into_iter()
        .map(|s| Box::new(s.events().into_iter()) as Box<dyn Iterator<Item = SocketEvent>>)
        .collect();
    let (outcome, stats) = replay_with_stats(topo, traces, &mut |_: &Step| {});
    // Every wake-up was named by the model, and no head was tried more than a few times.
    assert_eq!(stats.missed_wakeups, 0, "{stats:?}");
    assert!(
        stats.simulations <= 3 * total as u64 + 3,
        "{stats:?} for {total} calls"
    );
    (total as u64, outcome)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn valid_executions_are_ordered_without_deviation(
        sessions in prop::collection::vec(session(), 1..8),
        choices in prop::collection::vec(any::<usize>(), 1..64),
    ) {
        let topo = topology(&[&["10.0.0.1"], &["10.0.0.2"], &["10.0.0.3"]]);
        let scripts = execute(&sessions, &choices);
        let (total, out) = order(&topo, scripts);
        prop_assert_eq!(out.ordered_calls, total);
        prop_assert!(out.blocked.is_empty(), "blocked: {:?}", out.blocked);
        prop_assert!(out.deviations.is_empty(), "deviations: {:?}", out.deviations);
        let tcp_sessions = sessions.iter().filter(|s| matches!(s, Session::Tcp { .. })).count();
        // Connections that ended cleanly are only counted; every session is.
        let counted: u64 = out.tcp_traffic.iter().map(|a| a.connections).sum();
        prop_assert_eq!(counted, tcp_sessions as u64);
        prop_assert!(out.tcp.len() <= tcp_sessions);
        prop_assert!(out.tcp_traffic.iter().all(|a| a.to_server.lost == 0 && a.to_client.lost == 0));
        prop_assert!(out.tcp.iter().all(|c| c.to_server.unreceived() == 0 && c.to_client.unreceived() == 0));
    }
}

// ----- the same executions as strace text, through the real parser and fold ------------------

/// Escapes bytes the way strace prints strings.
fn strace_string(bytes: &[u8]) -> String {
    let mut out = String::from("\"");
    for &b in bytes {
        match b {
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out.push('"');
    out
}

fn strace_sockaddr(addr: &SockAddr) -> String {
    match addr.inet() {
        Some(std::net::SocketAddr::V4(a)) => format!(
            "{{sa_family=AF_INET, sin_port=htons({}), sin_addr=inet_addr(\"{}\")}}",
            a.port(),
            a.ip()
        ),
        Some(std::net::SocketAddr::V6(a)) => format!(
            "{{sa_family=AF_INET6, sin6_port=htons({}), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, \"{}\", &sin6_addr), sin6_scope_id=0}}",
            a.port(),
            a.ip()
        ),
        None => "NULL".into(),
    }
}

fn strace_result(ev: &SocketEvent) -> String {
    match (ev.call.outcome.value, ev.call.outcome.errno) {
        (_, Some(e)) => format!("-1 {e} (error)"),
        (Some(v), None) => v.to_string(),
        (None, None) => "?".into(),
    }
}

/// One strace line (`strace -f` style, pid first) for the calls the executions use.
fn strace_line(ev: &SocketEvent) -> String {
    let args = match &ev.call.syscall {
        Syscall::Socket { ty, nonblock, .. } => {
            let kind = match ty {
                netcheck::parse::SockType::Dgram => "SOCK_DGRAM",
                _ => "SOCK_STREAM",
            };
            let flags = if *nonblock { "|SOCK_NONBLOCK" } else { "" };
            let proto = if kind == "SOCK_DGRAM" {
                "IPPROTO_UDP"
            } else {
                "IPPROTO_TCP"
            };
            format!("AF_INET, {kind}{flags}, {proto}")
        }
        Syscall::Bind { fd, addr } | Syscall::Connect { fd, addr } => {
            format!("{fd}, {}, 16", strace_sockaddr(addr))
        }
        Syscall::Listen { fd, backlog } => format!("{fd}, {backlog}"),
        Syscall::Accept { fd, peer, .. } => match peer {
            Some(p) => format!("{fd}, {}, [16]", strace_sockaddr(p)),
            None => format!("{fd}, NULL, NULL"),
        },
        Syscall::Send { fd, data, dest, .. } => match dest {
            Some(d) => format!(
                "{fd}, {}, {}, 0, {}, 16",
                strace_string(data.shown()),
                data.shown().len(),
                strace_sockaddr(d)
            ),
            None => format!(
                "{fd}, {}, {}",
                strace_string(data.shown()),
                data.shown().len()
            ),
        },
        Syscall::Recv {
            fd,
            data,
            buf_len,
            src,
            ..
        } => match src {
            Some(s) => format!(
                "{fd}, {}, {buf_len}, 0, {}, [16]",
                strace_string(data.shown()),
                strace_sockaddr(s)
            ),
            None => format!("{fd}, {}, {buf_len}", strace_string(data.shown())),
        },
        Syscall::Close { fd } => fd.to_string(),
        Syscall::Getsockopt {
            fd, level, name, ..
        } => format!("{fd}, {level}, {name}, [0], [4]"),
        Syscall::Wait { fds, .. } => {
            let w = fds.first().map_or(0, |w| w.fd);
            return format!(
                "{} poll([{{fd={w}, events=POLLOUT}}], 1, 1000) = 1 ([{{fd={w}, revents=POLLOUT}}])",
                ev.call.pid
            );
        }
        other => format!("{other:?}"),
    };
    let name = match &ev.call.syscall {
        Syscall::Send { dest: None, .. } => "write".to_string(),
        Syscall::Recv { src: None, .. } => "read".to_string(),
        _ => ev.call.name.to_string(),
    };
    format!("{} {name}({args}) = {}", ev.call.pid, strace_result(ev))
}

fn ordered_through_parser(
    sessions: &[Session],
    choices: &[usize],
    case: u64,
) -> Result<(), String> {
    use netcheck::config::{self, Inputs};
    use netcheck::fold::Folder;
    use netcheck::parse::TraceReader;
    let scripts = execute(sessions, choices);
    let total: usize = scripts.iter().map(Script::len).sum();
    let dir = std::env::temp_dir().join(format!("netcheck-order-{}-{case}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let mut paths = Vec::new();
    for (i, script) in scripts.into_iter().enumerate() {
        let text: String = script
            .events()
            .iter()
            .map(|ev| strace_line(ev) + "\n")
            .collect();
        let path = dir.join(format!("host{i}.trace"));
        std::fs::write(&path, text).map_err(|e| e.to_string())?;
        paths.push(path);
    }
    let topo = config::load(&Inputs {
        paths,
        one_host: Vec::new(),
    })
    .map_err(|e| e.to_string())?;
    let mut implied_closes = 0u64;
    for spec in &topo.traces {
        let reader = TraceReader::open(&spec.path, spec.id).map_err(|e| e.to_string())?;
        implied_closes += Folder::new(reader, spec.id)
            .filter(|ev| ev.synthetic.is_some())
            .count() as u64;
    }
    let mut traces: Vec<Box<dyn Iterator<Item = SocketEvent>>> = Vec::new();
    for spec in &topo.traces {
        let reader = TraceReader::open(&spec.path, spec.id).map_err(|e| e.to_string())?;
        traces.push(Box::new(Folder::new(reader, spec.id)));
    }
    let out = replay(&topo, traces, &mut |_: &Step| {});
    let _ = std::fs::remove_dir_all(&dir);
    // Fold closes the sockets still open when a trace ends (the generated listeners): those
    // implied closes are ordered too.
    let total = total as u64 + implied_closes;
    if out.ordered_calls != total {
        return Err(format!("ordered {} of {total}", out.ordered_calls));
    }
    if !out.blocked.is_empty() || !out.deviations.is_empty() {
        return Err(format!(
            "blocked {:?}, deviations {:?}",
            out.blocked, out.deviations
        ));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(50))]

    #[test]
    fn valid_executions_as_strace_text_are_ordered_without_deviation(
        sessions in prop::collection::vec(session(), 1..6),
        choices in prop::collection::vec(any::<usize>(), 1..32),
        case in any::<u64>(),
    ) {
        let result = ordered_through_parser(&sessions, &choices, case);
        prop_assert!(result.is_ok(), "{:?}", result);
    }
}

// ----- a retried call changes nothing, whatever the order -----------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Play the heads in a random order straight into the model: every retry must leave the
    /// state exactly as it was and touch nothing.
    #[test]
    fn a_retry_leaves_the_model_unchanged(
        sessions in prop::collection::vec(session(), 1..6),
        choices in prop::collection::vec(any::<usize>(), 1..32),
        schedule in prop::collection::vec(any::<usize>(), 1..64),
    ) {
        let topo = topology(&[&["10.0.0.1"], &["10.0.0.2"], &["10.0.0.3"]]);
        let traces: Vec<Vec<SocketEvent>> =
            execute(&sessions, &choices).into_iter().map(Script::events).collect();
        let mut model = netcheck::model::Model::new(&topo);
        let mut cursor = vec![0usize; traces.len()];
        let mut retried: Vec<bool> = vec![false; traces.len()];
        let mut turn = 0usize;
        loop {
            let live: Vec<usize> = (0..traces.len()).filter(|t| cursor[*t] < traces[*t].len()).collect();
            if live.is_empty() {
                break;
            }
            let pick = schedule[turn % schedule.len()] % live.len();
            turn += 1;
            // Skip heads that already retried since the last progress (each is tried once).
            let t = (0..live.len())
                .map(|k| live[(pick + k) % live.len()])
                .find(|t| !retried[*t])
                .unwrap_or(live[pick]);
            let ev = &traces[t][cursor[t]];
            if live.iter().all(|l| retried[*l]) {
                model.force(ev);
                model.take_touched();
                cursor[t] += 1;
                retried.iter_mut().for_each(|r| *r = false);
                continue;
            }
            let before = model.state_snapshot();
            match model.simulate(ev) {
                netcheck::model::Verdict::RetryLater(_) => {
                    prop_assert_eq!(&before, &model.state_snapshot());
                    prop_assert!(model.take_touched().is_empty());
                    retried[t] = true;
                }
                _ => {
                    model.take_touched();
                    cursor[t] += 1;
                    retried.iter_mut().for_each(|r| *r = false);
                }
            }
        }
    }
}

// ----- a lost TCP send never goes unnoticed ---------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Drop one TCP send from a valid execution: the bytes the peer then reads came from nowhere,
    /// so the replay must report something.
    #[test]
    fn a_dropped_send_is_noticed(
        sessions in prop::collection::vec(session(), 1..6),
        choices in prop::collection::vec(any::<usize>(), 1..32),
        victim in any::<usize>(),
    ) {
        let topo = topology(&[&["10.0.0.1"], &["10.0.0.2"], &["10.0.0.3"]]);
        let mut traces: Vec<Vec<SocketEvent>> =
            execute(&sessions, &choices).into_iter().map(Script::events).collect();
        let tcp_sends: Vec<(usize, usize)> = traces
            .iter()
            .enumerate()
            .flat_map(|(t, evs)| {
                evs.iter()
                    .enumerate()
                    .filter(|(_, ev)| matches!(&ev.call.syscall, Syscall::Send { dest: None, data, .. } if !data.shown().is_empty()))
                    .map(move |(i, _)| (t, i))
            })
            .collect();
        prop_assume!(!tcp_sends.is_empty());
        let (t, i) = tcp_sends[victim % tcp_sends.len()];
        traces[t].remove(i);
        let boxed: Vec<Box<dyn Iterator<Item = SocketEvent>>> = traces
            .into_iter()
            .map(|evs| Box::new(evs.into_iter()) as Box<dyn Iterator<Item = SocketEvent>>)
            .collect();
        let out = replay(&topo, boxed, &mut |_: &Step| {});
        prop_assert!(!out.blocked.is_empty() || !out.deviations.is_empty());
    }
}
