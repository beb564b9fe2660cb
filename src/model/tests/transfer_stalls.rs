//! Receivers waiting for bytes their peer had handed over (`transfer_stalls.rs`).

use super::*;
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
