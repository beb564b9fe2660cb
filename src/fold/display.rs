//! One short line per socket event, for order listings and finding evidence:
//! `connect(A0, 10.0.0.2:80) = -1 ECONNREFUSED`.

use std::fmt::Write;

use super::SocketEvent;
use crate::parse::{Fd, Outcome, Payload, SockAddr, Syscall};

/// Longest payload excerpt shown.
const EXCERPT: usize = 24;

impl SocketEvent {
    /// The call with sockets named by identity (`A0`) instead of descriptor numbers.
    pub fn describe(&self) -> String {
        let mut out = String::with_capacity(64);
        out.push_str(self.call.name.as_str());
        out.push('(');
        let args = self.arguments();
        out.push_str(&args.join(", "));
        out.push(')');
        write_outcome(&mut out, &self.call.outcome);
        if let Some(reason) = self.synthetic {
            let _ = write!(out, " [implied: {}]", reason.describe());
        }
        out
    }

    fn fd(&self, fd: Fd) -> String {
        match self.sock(fd) {
            Some(id) => id.to_string(),
            None => fd.to_string(),
        }
    }

    fn arguments(&self) -> Vec<String> {
        use Syscall::*;
        match &self.call.syscall {
            Socket { domain, ty, fd, .. } => {
                let mut v: Vec<String> = fd.map(|f| vec![self.fd(f)]).unwrap_or_default();
                v.push(format!("{domain:?}"));
                v.push(format!("{ty:?}"));
                v
            }
            Bind { fd, addr } | Connect { fd, addr } => vec![self.fd(*fd), show_addr(addr)],
            Listen { fd, backlog } => vec![self.fd(*fd), backlog.to_string()],
            Accept {
                fd, peer, new_fd, ..
            } => {
                let mut v = vec![self.fd(*fd)];
                if let Some(p) = peer {
                    v.push(show_addr(p));
                }
                if let Some(n) = new_fd {
                    v.push(format!("new {}", self.fd(*n)));
                }
                v
            }
            Send { fd, data, dest, .. } => {
                let mut v = vec![self.fd(*fd), excerpt(data)];
                if let Some(d) = dest {
                    v.push(show_addr(d));
                }
                v
            }
            Recv {
                fd,
                data,
                buf_len,
                src,
                ..
            } => {
                let mut v = vec![self.fd(*fd), excerpt(data), buf_len.to_string()];
                if let Some(s) = src {
                    v.push(show_addr(s));
                }
                v
            }
            SendMany { fd, msgs, .. } | RecvMany { fd, msgs, .. } => {
                vec![self.fd(*fd), format!("{} messages", msgs.len())]
            }
            CopyFile {
                out_fd,
                in_fd,
                count,
            } => vec![self.fd(*out_fd), self.fd(*in_fd), count.to_string()],
            Close { fd } => vec![self.fd(*fd)],
            Shutdown { fd, how } => vec![self.fd(*fd), how.to_string()],
            Setsockopt {
                fd, level, name, ..
            }
            | Getsockopt {
                fd, level, name, ..
            } => vec![self.fd(*fd), level.clone(), name.clone()],
            Getsockname { fd, addr } | Getpeername { fd, addr } => {
                let mut v = vec![self.fd(*fd)];
                if let Some(a) = addr {
                    v.push(show_addr(a));
                }
                v
            }
            Fcntl { fd, op } => vec![self.fd(*fd), format!("{op:?}")],
            Ioctl { fd, op } => vec![self.fd(*fd), format!("{op:?}")],
            Wait { fds, .. } => vec![fds
                .iter()
                .map(|w| self.fd(w.fd))
                .collect::<Vec<_>>()
                .join(" ")],
            EpollCtl { epfd, op, fd, .. } => {
                vec![epfd.to_string(), format!("{op:?}"), self.fd(*fd)]
            }
            other => other
                .primary_fd()
                .map(|fd| vec![self.fd(fd)])
                .unwrap_or_default(),
        }
    }
}

impl super::SyntheticReason {
    pub fn describe(self) -> &'static str {
        use super::SyntheticReason::*;
        match self {
            DupOver => "descriptor replaced",
            CloseRange => "close_range",
            ProcessExit => "process exited",
            ProcessKilled => "process killed by a signal",
            EndOfTrace => "trace ended",
            Adopted => "opened before the trace began",
        }
    }
}

/// `10.0.0.2:80`, `[::1]:80`, `unix:/path`.
pub fn show_addr(addr: &SockAddr) -> String {
    match addr {
        SockAddr::Inet(a) => a.to_string(),
        SockAddr::Unix(p) => format!("unix:{p}"),
        SockAddr::Unspec => "AF_UNSPEC".into(),
        SockAddr::Other(f) => f.clone(),
    }
}

fn excerpt(data: &Payload) -> String {
    let shown = &data.shown()[..data.shown().len().min(EXCERPT)];
    let mut s = String::from("\"");
    for &b in shown {
        match b {
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(b as char),
            _ => {
                let _ = write!(s, "\\x{b:02x}");
            }
        }
    }
    s.push('"');
    if data.truncated || data.shown().len() > EXCERPT {
        s.push_str("...");
    }
    s
}

fn write_outcome(out: &mut String, o: &Outcome) {
    match (o.value, o.errno) {
        (Some(v), Some(e)) => {
            let _ = write!(out, " = {v} {e}");
        }
        (None, Some(e)) => {
            let _ = write!(out, " = ? {e}");
        }
        (Some(v), None) => {
            let _ = write!(out, " = {v}");
        }
        (None, None) => out.push_str(" = ?"),
    }
}

#[cfg(test)]
mod tests {
    use crate::fold::SyntheticReason;
    use crate::parse::Errno;
    use crate::testkit::script::Script;

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
        let texts: Vec<String> = events.iter().map(|e| e.describe()).collect();
        assert_eq!(texts[0], "socket(B0, Inet, Stream) = 3");
        assert_eq!(texts[1], "connect(B0, 10.0.0.1:80) = -1 ECONNREFUSED");
        assert_eq!(texts[2], "send(B0, \"GET /\\r\\n\") = 7");
        assert_eq!(texts[3], "close(B0) = 0 [implied: trace ended]");
    }
}
