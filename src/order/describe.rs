//! Short, one-line text of a socket call for the order view and evidence
//! (`connect(A3, 10.0.0.2:80) = 0`, `recv(B1, 12) = -1 EAGAIN`).

use std::fmt::Write;

use crate::fold::SocketEvent;
use crate::parse::{Fd, Payload, SockAddr, Syscall};

/// Longest payload excerpt shown.
const PAYLOAD_SHOWN: usize = 24;

fn fd_name(ev: &SocketEvent, fd: Fd) -> String {
    match ev.sock(fd) {
        Some(s) => s.to_string(),
        None => fd.to_string(),
    }
}

fn addr_text(addr: &SockAddr) -> String {
    match addr {
        SockAddr::Inet(a) => a.to_string(),
        SockAddr::Unix(p) => format!("unix:{p}"),
        SockAddr::Unspec => "AF_UNSPEC".into(),
        SockAddr::Other(f) => f.clone(),
    }
}

fn payload_text(p: &Payload) -> String {
    let cut = &p.shown[..p.shown.len().min(PAYLOAD_SHOWN)];
    let mut text = String::from("\"");
    for &b in cut {
        match b {
            b'\n' => text.push_str("\\n"),
            b'\r' => text.push_str("\\r"),
            b'"' => text.push_str("\\\""),
            b'\\' => text.push_str("\\\\"),
            0x20..=0x7e => text.push(b as char),
            _ => {
                let _ = write!(text, "\\x{b:02x}");
            }
        }
    }
    text.push('"');
    if p.truncated || p.shown.len() > PAYLOAD_SHOWN {
        text.push_str("...");
    }
    text
}

/// The call's text.
pub fn describe(ev: &SocketEvent) -> String {
    let call = &ev.call;
    let args = match &call.syscall {
        Syscall::Socket { fd, .. } => fd.map(|f| fd_name(ev, f)).unwrap_or_default(),
        Syscall::Bind { fd, addr } | Syscall::Connect { fd, addr } => {
            format!("{}, {}", fd_name(ev, *fd), addr_text(addr))
        }
        Syscall::Accept { fd, peer, .. } => match peer {
            Some(p) => format!("{}, {}", fd_name(ev, *fd), addr_text(p)),
            None => fd_name(ev, *fd),
        },
        Syscall::Send { fd, data, dest, .. } => match dest {
            Some(d) => format!(
                "{}, {}, {}",
                fd_name(ev, *fd),
                payload_text(data),
                addr_text(d)
            ),
            None => format!("{}, {}", fd_name(ev, *fd), payload_text(data)),
        },
        Syscall::Recv { fd, data, src, .. } => match src {
            Some(s) => format!(
                "{}, {}, {}",
                fd_name(ev, *fd),
                payload_text(data),
                addr_text(s)
            ),
            None => format!("{}, {}", fd_name(ev, *fd), payload_text(data)),
        },
        Syscall::SendMany { fd, msgs, .. } | Syscall::RecvMany { fd, msgs, .. } => {
            format!("{}, {} msgs", fd_name(ev, *fd), msgs.len())
        }
        Syscall::CopyFile {
            out_fd,
            in_fd,
            count,
        } => {
            format!("{}, {}, {count}", fd_name(ev, *out_fd), fd_name(ev, *in_fd))
        }
        Syscall::Shutdown { fd, how } => format!("{}, {how}", fd_name(ev, *fd)),
        Syscall::Setsockopt {
            fd, level, name, ..
        }
        | Syscall::Getsockopt {
            fd, level, name, ..
        } => {
            format!("{}, {level}, {name}", fd_name(ev, *fd))
        }
        Syscall::Wait { fds, .. } => fds
            .iter()
            .map(|w| fd_name(ev, w.fd))
            .collect::<Vec<_>>()
            .join(" "),
        other => match other.primary_fd() {
            Some(fd) => fd_name(ev, fd),
            None => String::new(),
        },
    };
    let result = match (call.outcome.value, call.outcome.errno) {
        (_, Some(e)) => format!("-1 {e}"),
        (Some(v), None) => v.to_string(),
        (None, None) => "?".into(),
    };
    match ev.synthetic {
        Some(why) => format!("{}({args}) = {result} [implied: {why:?}]", call.name),
        None => format!("{}({args}) = {result}", call.name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fold::SyntheticReason;
    use crate::model::script::Script;
    use crate::parse::Errno;

    #[test]
    fn calls_read_like_their_trace_with_socket_names() {
        let mut b = Script::new(1);
        let c = b.tcp();
        b.connect(c, "10.0.0.1:80");
        b.fails(Errno::ECONNREFUSED);
        b.send(c, b"GET /\r\n");
        b.close(c);
        let mut events = b.events();
        events[3].synthetic = Some(SyntheticReason::EndOfTrace);
        let texts: Vec<String> = events.iter().map(describe).collect();
        assert_eq!(texts[0], "socket(B0) = 3");
        assert_eq!(texts[1], "connect(B0, 10.0.0.1:80) = -1 ECONNREFUSED");
        assert_eq!(texts[2], "send(B0, \"GET /\\r\\n\") = 7");
        assert_eq!(texts[3], "close(B0) = 0 [implied: EndOfTrace]");
    }
}
