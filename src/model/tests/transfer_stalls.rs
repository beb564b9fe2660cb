//! Receivers waiting for bytes their peer had handed over (`transfer_stalls.rs`).

use super::*;
use crate::model::transfer_stalls::TransferStall;
use crate::parse::{Errno, MsgFlags};

/// Receives `len` unshown bytes into curl's 102400-byte buffer, at `time`.
fn read(script: &mut Script, fd: i32, len: u64, time: f64) -> Loc {
    let at = script.recv_into(fd, b"", len, 102_400, MsgFlags::default(), None);
    script.at(time);
    at
}

/// curl downloading a file from nginx under loss (apps/nginx-download-loss, times of its
/// traces): nginx writes the header and hands the whole file over with one `sendfile`; curl
/// reads a first piece, finds nothing more (`poll(.., 0) = 0`), and its next bytes arrive after
/// `second_after` seconds. `paced_by`: the server writes the body in two calls that many
/// seconds apart instead, as a rate-limited server does.
fn download(second_after: f64, paced_by: Option<f64>) -> ReplayOutcome {
    let topo = two_hosts();
    let (mut a, mut b, s, c) = connected();
    let request = b.send(c, b"GET /200k.txt");
    b.at(909.934348);
    let read_request = a.recv(s, b"GET /200k.txt");
    a.at(909.940564);
    let header = a.send_shown(s, b"", 244);
    a.at(909.940736);
    let body = if let Some(pause) = paced_by {
        let first = a.send_shown(s, b"", 5548);
        a.at(909.940796);
        let rest = a.send_shown(s, b"", 199_252);
        a.at(909.940796 + pause);
        vec![first, rest]
    } else {
        let all = a.send_shown(s, b"", 204_800);
        a.at(909.940796);
        vec![all]
    };
    let first = read(&mut b, c, 5792, 909.942790);
    // The replay has the whole file in flight here (an ideal network delivers it at once), so
    // it takes this empty poll for one that missed data.
    let empty = b.poll(c, readable(), nothing());
    b.at(909.942886);
    let woke = b.poll(c, readable(), readable());
    b.at(909.942940);
    let second = read(&mut b, c, 5792, 909.942886 + second_after);
    let mut w = World::new(&topo, vec![a, b]);
    set_up(&mut w);
    for at in [request, read_request, header].into_iter().chain(body) {
        w.upto(at);
    }
    w.upto(first);
    assert!(matches!(w.upto(empty), Verdict::Deviation(_)));
    w.upto(woke);
    w.upto(second);
    w.finish()
}

#[test]
fn a_gap_in_bytes_handed_over_at_once_is_a_stall() {
    let out = download(0.224112, None);
    let [stalls] = out.transfer_stalls.as_slice() else {
        panic!("{:?}", out.transfer_stalls)
    };
    assert_eq!(stalls.receiver.trace, TraceId(1));
    let [stall] = stalls.slowest.as_slice() else {
        panic!("{stalls:?}")
    };
    assert!((stall.network - 0.224112).abs() < 1e-6, "{stall:?}");
    assert_eq!(stall.sender_span, 0.0);
}

#[test]
fn a_sender_that_paces_its_writes_explains_the_gap() {
    // The bytes after the gap left the server 0.5 s after those before it, and arrived 0.51 s
    // after them: the network added 10 ms.
    let out = download(0.51, Some(0.5));
    let [stalls] = out.transfer_stalls.as_slice() else {
        panic!("{:?}", out.transfer_stalls)
    };
    let [stall] = stalls.slowest.as_slice() else {
        panic!("{stalls:?}")
    };
    assert!((stall.network - 0.01).abs() < 1e-6, "{stall:?}");
    assert!((stall.sender_span - 0.5).abs() < 1e-6, "{stall:?}");
}

/// A large file under loss: nginx's nonblocking socket takes part of it, refuses the rest
/// (EAGAIN) while the lost segments hold its buffer full, and takes the rest 0.3 s later, after
/// its wait for POLLOUT. curl, meanwhile, waited 0.35 s with nothing to read. The bytes after the
/// gap were offered when the socket refused them, not when it took them: the sender was blocked,
/// not pausing.
#[test]
fn bytes_a_full_send_buffer_held_back_were_offered_when_refused() {
    let topo = two_hosts();
    let (mut a, l, _) = server();
    let s = a.accept_nonblocking(l, "10.0.0.2:40000");
    let mut b = Script::new(1);
    let c = b.tcp();
    b.connect(c, "10.0.0.1:80");
    let first = a.send_shown(s, b"", 65_536);
    a.at(10.0);
    let refused = a.send_shown(s, b"", 65_536);
    a.fails(Errno::EAGAIN).at(10.0001);
    let rest = a.send_shown(s, b"", 65_536);
    a.at(10.3);
    let got = read(&mut b, c, 65_536, 10.001);
    let empty = b.poll(c, readable(), nothing());
    b.at(10.002);
    let woke = b.poll(c, readable(), readable());
    b.at(10.003);
    let got_rest = read(&mut b, c, 65_536, 10.352);
    let mut w = World::new(&topo, vec![a, b]);
    set_up(&mut w);
    for at in [first, got, empty, refused, woke, rest, got_rest] {
        w.upto(at);
    }
    let out = w.finish();
    let [stalls] = out.transfer_stalls.as_slice() else {
        panic!("{:?}", out.transfer_stalls)
    };
    let [stall] = stalls.slowest.as_slice() else {
        panic!("{stalls:?}")
    };
    // Waited from 10.002 to 10.352; the bytes after the gap were offered 0.1 ms after those
    // before it.
    assert!((stall.sender_span - 0.0001).abs() < 1e-6, "{stall:?}");
    assert!((stall.network - 0.3499).abs() < 1e-6, "{stall:?}");
}

/// Replays a server's and a client's trace, given as strace text, through every stage as the
/// command line reads them (host `server` 10.78.1.10, trace A; host `client` 10.78.1.21, trace
/// B), and returns the client's stalls, slowest first.
fn client_stalls(name: &str, server: &str, client: &str) -> Vec<TransferStall> {
    let dir = std::env::temp_dir().join(format!("netcheck-stalls-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("server.trace"), server).unwrap();
    std::fs::write(dir.join("client.trace"), client).unwrap();
    let config = dir.join("netcheck.conf");
    std::fs::write(
        &config,
        "host server\n trace server.trace\n ip 10.78.1.10\n\
         host client\n trace client.trace\n ip 10.78.1.21\n",
    )
    .unwrap();
    let analysis = crate::pipeline::run_pipeline(&crate::config::Inputs {
        paths: vec![config],
        one_host: Vec::new(),
    });
    std::fs::remove_dir_all(&dir).unwrap();
    let mut stalls: Vec<TransferStall> = analysis
        .unwrap()
        .outcome
        .transfer_stalls
        .into_iter()
        .filter(|s| s.receiver.trace == TraceId(1))
        .flat_map(|s| s.slowest)
        .collect();
    stalls.sort_by(|a, b| b.network.total_cmp(&a.network));
    stalls
}

/// nginx hands a 200 KB file to its socket in two `sendfile` calls 1.6 ms apart
/// (apps/nginx-download-go-loss, `-T -yy`, payloads cut shorter).
const NGINX_SENDS_200K: &str = r#"15504 1796595983.073066 socket(AF_INET, SOCK_STREAM, IPPROTO_IP) = 3<TCP:[31555]> <0.000042>
15504 1796595983.089059 bind(3<TCP:[31555]>, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("10.78.1.10")}, 16) = 0 <0.002436>
15504 1796595983.093022 listen(3<TCP:[10.78.1.10:80]>, 511) = 0 <0.002658>
15509 1796595983.259672 accept4(3<TCP:[10.78.1.10:80]>, {sa_family=AF_INET, sin_port=htons(47858), sin_addr=inet_addr("10.78.1.21")}, [112 => 16], SOCK_NONBLOCK) = 4<TCP:[10.78.1.10:80->10.78.1.21:47858]> <0.000023>
15509 1796595983.262334 recvfrom(4<TCP:[10.78.1.10:80->10.78.1.21:47858]>, "GET /200k.txt HT"..., 1024, 0, NULL, NULL) = 99 <0.000042>
15509 1796595983.262919 writev(4<TCP:[10.78.1.10:80->10.78.1.21:47858]>, [{iov_base="HTTP/1.1 200 OK"..., iov_len=244}], 1) = 244 <0.000116>
15509 1796595983.263180 sendfile(4<TCP:[10.78.1.10:80->10.78.1.21:47858]>, 8</tmp/netcheck-apps/www/200k.txt>, [0] => [159280], 204800) = 159280 <0.001495>
15509 1796595983.264820 sendfile(4<TCP:[10.78.1.10:80->10.78.1.21:47858]>, 8</tmp/netcheck-apps/www/200k.txt>, [159280] => [204800], 45520) = 45520 <0.000155>
"#;

/// Go's net/http client downloading that file (same recording): it reads until EAGAIN, its
/// netpoller polls the epoll set (`epoll_pwait(.., 0) = 0`), then blocks in `epoll_pwait`
/// until the socket is readable; the wait's cookie is the pointer `epoll_ctl` registered.
/// `LAST_WAIT` stands for the last wait's line: it blocked 0.206 s.
const GO_DOWNLOAD: &str = r#"15521 1796595983.256303 socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK, IPPROTO_IP) = 6<TCP:[31573]> <0.000020>
15521 1796595983.257881 connect(6<TCP:[31573]>, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("10.78.1.10")}, 16) = -1 EINPROGRESS (Operation now in progress) <0.000206>
15521 1796595983.259608 epoll_ctl(3<anon_inode:[eventpoll]>, EPOLL_CTL_ADD, 6<TCP:[10.78.1.21:47858->10.78.1.10:80]>, {events=EPOLLIN|EPOLLOUT|EPOLLRDHUP|EPOLLET, data={u32=2366314360, u64=139769192060792}}) = 0 <0.000021>
15521 1796595983.261143 epoll_pwait(3<anon_inode:[eventpoll]>, [{events=EPOLLOUT, data={u32=2366314360, u64=139769192060792}}], 128, 0, NULL, 0) = 1 <0.000009>
15521 1796595983.261186 getsockopt(6<TCP:[10.78.1.21:47858->10.78.1.10:80]>, SOL_SOCKET, SO_ERROR, [0], [4]) = 0 <0.000009>
15521 1796595983.261500 read(6<TCP:[10.78.1.21:47858->10.78.1.10:80]>, 0xc0000ce000, 4096) = -1 EAGAIN (Resource temporarily unavailable) <0.000010>
15521 1796595983.261572 write(6<TCP:[10.78.1.21:47858->10.78.1.10:80]>, "GET /200k.txt HT"..., 99) = 99 <0.000045>
15521 1796595983.261646 epoll_pwait(3<anon_inode:[eventpoll]>, [], 128, 0, NULL, 0) = 0 <0.000008>
15521 1796595983.261678 epoll_pwait(3<anon_inode:[eventpoll]>, [{events=EPOLLIN|EPOLLOUT, data={u32=2366314360, u64=139769192060792}}], 128, 34994, NULL, 0) = 1 <0.001430>
15521 1796595983.263292 read(6<TCP:[10.78.1.21:47858->10.78.1.10:80]>, "HTTP/1.1 200 OK"..., 4096) = 4096 <0.000855>
15521 1796595983.264483 read(6<TCP:[10.78.1.21:47858->10.78.1.10:80]>, "yyyyyyyyyyyyyyyy"..., 8192) = 8192 <0.000226>
15521 1796595983.264812 read(6<TCP:[10.78.1.21:47858->10.78.1.10:80]>, "yyyyyyyyyyyyyyyy"..., 8192) = 8192 <0.000209>
15521 1796595983.265291 read(6<TCP:[10.78.1.21:47858->10.78.1.10:80]>, "yyyyyyyyyyyyyyyy"..., 8192) = 8192 <0.000085>
15521 1796595983.265473 read(6<TCP:[10.78.1.21:47858->10.78.1.10:80]>, "yyyyyyyyyyyyyyyy"..., 8192) = 8192 <0.000025>
15521 1796595983.265585 read(6<TCP:[10.78.1.21:47858->10.78.1.10:80]>, "yyyyyyyyyyyyyyyy"..., 8192) = 8192 <0.000057>
15521 1796595983.265732 read(6<TCP:[10.78.1.21:47858->10.78.1.10:80]>, "yyyyyyyyyyyyyyyy"..., 8192) = 8192 <0.000601>
15521 1796595983.266411 read(6<TCP:[10.78.1.21:47858->10.78.1.10:80]>, "yyyyyyyyyyyyyyyy"..., 8192) = 8192 <0.000047>
15521 1796595983.266523 read(6<TCP:[10.78.1.21:47858->10.78.1.10:80]>, "yyyyyyyyyyyyyyyy"..., 8192) = 8192 <0.000071>
15521 1796595983.266648 read(6<TCP:[10.78.1.21:47858->10.78.1.10:80]>, "yyyyyyyyyyyyyyyy"..., 8192) = 8192 <0.000036>
15521 1796595983.266735 read(6<TCP:[10.78.1.21:47858->10.78.1.10:80]>, "yyyyyyyyyyyyyyyy"..., 8192) = 4956 <0.000066>
15521 1796595983.266854 read(6<TCP:[10.78.1.21:47858->10.78.1.10:80]>, 0xc0000d4000, 8192) = -1 EAGAIN (Resource temporarily unavailable) <0.000034>
15521 1796595983.266939 epoll_pwait(3<anon_inode:[eventpoll]>, [{events=EPOLLOUT, data={u32=2366314360, u64=139769192060792}}], 128, 0, NULL, 0) = 1 <0.000068>
LAST_WAIT
15521 1796595983.473208 read(6<TCP:[10.78.1.21:47858->10.78.1.10:80]>, "yyyyyyyyyyyyyyyy"..., 8192) = 1448 <0.000018>
"#;

/// The recorded line of the wait that ended the stall: it blocked 0.206 s.
const GO_BLOCKED_WAIT: &str = "15521 1796595983.267069 epoll_pwait(3<anon_inode:[eventpoll]>, [{events=EPOLLIN|EPOLLOUT, data={u32=2366314360, u64=139769192060792}}], 128, 34988, NULL, 0) = 1 <0.205999>";

#[test]
fn an_epoll_wait_that_blocked_until_the_bytes_came_times_the_stall() {
    let client = GO_DOWNLOAD.replace("LAST_WAIT", GO_BLOCKED_WAIT);
    let stalls = client_stalls("go", NGINX_SENDS_200K, &client);
    let [stall, ..] = stalls.as_slice() else {
        panic!("no stall")
    };
    // From the wait's start (after the EAGAIN) to its return; the bytes before and after the
    // gap left nginx in one sendfile.
    assert!((stall.waited - 0.205999).abs() < 1e-6, "{stall:?}");
    assert_eq!(stall.sender_span, 0.0);
    assert_eq!((stall.wait.line, stall.receive.line), (23, 24));
    assert_eq!(stall.sent.line, 7);
}

#[test]
fn an_event_loop_busy_elsewhere_is_not_a_stall() {
    // The same receiver, but its netpoller got back to the set only 0.3 s after the EAGAIN,
    // and found the socket readable at once: the bytes may have waited in the queue.
    let busy = GO_BLOCKED_WAIT
        .replace("1796595983.267069", "1796595983.567069")
        .replace("<0.205999>", "<0.000012>");
    let client = GO_DOWNLOAD
        .replace("LAST_WAIT", &busy)
        .replace("1796595983.473208", "1796595983.567208");
    let stalls = client_stalls("go-busy", NGINX_SENDS_200K, &client);
    assert!(!stalls.is_empty(), "the gap is measured");
    assert!(stalls.iter().all(|s| s.network < 0.01), "{stalls:?}");
}

/// nginx sends a 100 KB file in one `sendfile` (apps/nginx-download-node-loss-plain: plain
/// `strace -f -tt`, no `-T`, no `-yy`).
const NGINX_SENDS_100K_PLAIN: &str = r#"17189 22:26:44.453173 socket(AF_INET, SOCK_STREAM, IPPROTO_IP) = 3
17189 22:26:44.453469 bind(3, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("10.78.1.10")}, 16) = 0
17189 22:26:44.453583 listen(3, 511)    = 0
17190 22:26:44.889566 accept4(3, {sa_family=AF_INET, sin_port=htons(56074), sin_addr=inet_addr("10.78.1.21")}, [112 => 16], SOCK_NONBLOCK) = 4
17190 22:26:44.889740 recvfrom(4, "GET /100k.txt HT"..., 1024, 0, NULL, NULL) = 68
17190 22:26:44.890037 writev(4, [{iov_base="HTTP/1.1 200 OK"..., iov_len=244}], 1) = 244
17190 22:26:44.890130 sendfile(4, 8, [0] => [102400], 102400) = 102400
"#;

/// Node.js's http.get receiving it (same recording): libuv reads 64 KiB at a time, goes back
/// to its level-triggered epoll set after a short read, polls it, then waits.
const NODE_DOWNLOAD_PLAIN: &str = r#"17205 22:26:44.878846 socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK, IPPROTO_IP) = 19
17205 22:26:44.879005 connect(19, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("10.78.1.10")}, 16) = -1 EINPROGRESS (Operation now in progress)
17205 22:26:44.885177 epoll_ctl(14, EPOLL_CTL_ADD, 19, {events=EPOLLOUT, data={u32=19, u64=19}}) = 0
17205 22:26:44.885269 epoll_pwait(14, [{events=EPOLLOUT, data={u32=19, u64=19}}], 1024, 0, NULL, 8) = 1
17205 22:26:44.885361 getsockopt(19, SOL_SOCKET, SO_ERROR, [0], [4]) = 0
17205 22:26:44.886736 write(19, "GET /100k.txt HT"..., 68) = 68
17205 22:26:44.890047 epoll_ctl(14, EPOLL_CTL_MOD, 19, {events=EPOLLIN, data={u32=19, u64=19}}) = 0
17205 22:26:44.890179 epoll_pwait(14, [{events=EPOLLIN, data={u32=19, u64=19}}], 1024, 0, NULL, 8) = 1
17205 22:26:44.890804 read(19, "HTTP/1.1 200 OK"..., 65536) = 30652
17205 22:26:44.892528 epoll_pwait(14, [{events=EPOLLIN, data={u32=19, u64=19}}], 1024, 0, NULL, 8) = 1
17205 22:26:44.892731 read(19, "yyyyyyyyyyyyyyyy"..., 65536) = 24616
17205 22:26:44.893153 epoll_pwait(14, [], 1024, 0, NULL, 8) = 0
17205 22:26:44.893821 epoll_pwait(14, [{events=EPOLLIN, data={u32=19, u64=19}}], 1024, 4980, NULL, 8) = 1
17205 22:26:44.901264 read(19, "yyyyyyyyyyyyyyy"..., 65536) = 1448
17205 22:26:44.905598 epoll_pwait(14, [], 1024, 0, NULL, 8) = 0
17205 22:26:44.905712 epoll_pwait(14, [{events=EPOLLIN, data={u32=19, u64=19}}], 1024, 4968, NULL, 8) = 1
17205 22:26:45.109275 read(19, "yyyyyyyyyyyyyyyy"..., 65536) = 1448
17205 22:26:45.109727 epoll_pwait(14, [], 1024, 0, NULL, 8) = 0
17205 22:26:45.109827 epoll_pwait(14, [{events=EPOLLIN, data={u32=19, u64=19}}], 1024, 4764, NULL, 8) = 1
17205 22:26:45.317363 read(19, "yyyyyyyyyyyyyyyy"..., 65536) = 4344
17205 22:26:45.318093 epoll_pwait(14, [], 1024, 0, NULL, 8) = 0
17205 22:26:45.318216 epoll_pwait(14, [{events=EPOLLIN, data={u32=19, u64=19}}], 1024, 4555, NULL, 8) = 1
17205 22:26:45.525346 read(19, "yyyyyyy\nyyyyyyy"..., 65536) = 2896
17205 22:26:45.526062 epoll_pwait(14, [], 1024, 0, NULL, 8) = 0
17205 22:26:45.526166 epoll_pwait(14, [{events=EPOLLIN, data={u32=19, u64=19}}], 1024, 4347, NULL, 8) = 1
17205 22:26:45.773734 read(19, "yyyyyyyyyyyyyyyy"..., 65536) = 31856
"#;

#[test]
fn an_epoll_wait_without_durations_ends_at_the_receive() {
    let stalls = client_stalls("node", NGINX_SENDS_100K_PLAIN, NODE_DOWNLOAD_PLAIN);
    // Without -T the waits' lines give only their starts: each stall runs from the start of
    // the wait that reported the socket to the start of the read that got the bytes.
    let waited: Vec<f64> = stalls.iter().map(|s| s.waited).collect();
    let expected = [0.247568, 0.207536, 0.207130, 0.203563, 0.007443, 0.000203];
    assert_eq!(waited.len(), expected.len(), "{stalls:?}");
    for (got, want) in waited.iter().zip(expected) {
        assert!((got - want).abs() < 1e-6, "{waited:?}");
    }
    assert!(stalls.iter().all(|s| s.sender_span == 0.0));
    assert_eq!((stalls[0].wait.line, stalls[0].receive.line), (25, 26));
}

/// A blocking receiver in a program with a second thread, traced without `-T`: the receive
/// after a short read blocks, the other thread prints a line meanwhile, and strace splits the
/// receive over an `<unfinished ...>` and a `<... resumed>` line (lines as strace prints them,
/// times in step with `NGINX_SENDS_100K_PLAIN`).
const BLOCKING_RECEIVER_PLAIN: &str = r#"2001  22:26:44.880000 socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_TCP) = 3
2001  22:26:44.880100 connect(3, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("10.78.1.10")}, 16) = 0
2001  22:26:44.880200 sendto(3, "GET /100k.txt HT"..., 68, 0, NULL, 0) = 68
2001  22:26:44.890900 recvfrom(3, "HTTP/1.1 200 OK"..., 65536, 0, NULL, NULL) = 30652
RECEIVE
"#;

#[test]
fn a_blocking_receive_split_over_two_lines_is_timed_by_their_stamps() {
    let split = "2001  22:26:44.891000 recvfrom(3,  <unfinished ...>\n\
                 2002  22:26:45.000000 write(1, \"tick\\n\", 5) = 5\n\
                 2001  22:26:45.141000 <... recvfrom resumed>\"yyyyyyyyyyyyyyyy\"..., 65536, 0, NULL, NULL) = 1448";
    let client = BLOCKING_RECEIVER_PLAIN.replace("RECEIVE", split);
    let stalls = client_stalls("split", NGINX_SENDS_100K_PLAIN, &client);
    let [stall] = stalls.as_slice() else {
        panic!("{stalls:?}")
    };
    assert!((stall.waited - 0.25).abs() < 1e-6, "{stall:?}");
    assert_eq!((stall.wait.line, stall.receive.line), (5, 5));
}

#[test]
fn a_blocking_receive_on_one_line_without_durations_is_not_timed() {
    // Its line gives only its start; the next line would bound its end, but also the
    // program's own work after it, so a slow reader would look like a stall.
    let one_line =
        "2001  22:26:44.891000 recvfrom(3, \"yyyyyyyyyyyyyyyy\"..., 65536, 0, NULL, NULL) = 1448\n\
                    2001  22:26:45.141000 write(1, \"yyyyyyyyyyyyyyyy\"..., 1448) = 1448";
    let client = BLOCKING_RECEIVER_PLAIN.replace("RECEIVE", one_line);
    assert!(client_stalls("one-line", NGINX_SENDS_100K_PLAIN, &client).is_empty());
}
