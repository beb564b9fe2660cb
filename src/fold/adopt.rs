//! Sockets a trace uses but never shows created: the program opened them before strace attached
//! (`strace -p PID`, a daemon's worker that inherited its listener). What one call proves about
//! such a descriptor decides whether it is adopted, and as what; the model then hears of it
//! through synthetic calls (socket, bind, listen) placed just before that call, so that it replays
//! the socket with the semantics it already has for sockets it saw created.

use std::net::SocketAddr;

use crate::parse::{
    Call, Domain, Fd, FdInfo, Outcome, Protocol, SockAddr, SockType, Syscall, SyscallName,
};

/// What a call proves about a descriptor the trace never showed created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Adoption {
    /// A TCP socket that was listening before the trace began: `accept` returned a connection
    /// from an IPv4 or IPv6 peer on it, or its `-yy` decoration names a TCP socket with no peer.
    Listener {
        domain: Domain,
        local: Option<SocketAddr>,
    },
    /// A UDP socket: a datagram came from, or went to, an IPv4 or IPv6 address through a call
    /// only sockets answer (recvfrom, sendto, recvmsg...), or its `-yy` decoration says UDP.
    Datagram {
        domain: Domain,
        local: Option<SocketAddr>,
    },
    /// A TCP socket the trace shows connecting, whose creation it does not show (a filter such
    /// as `-e trace=connect` hid `socket`): the connect's result is one only a stream socket's
    /// handshake gives.
    Connecting { domain: Domain },
    /// A connected TCP socket (its `-yy` decoration shows both ends): it gets an identity, but
    /// its connection began before the trace, so it is not replayed.
    Unreplayed,
}

fn domain_of(addr: SocketAddr) -> Domain {
    match addr {
        SocketAddr::V4(_) => Domain::Inet,
        SocketAddr::V6(_) => Domain::Inet6,
    }
}

/// The adoption a `-yy` decoration allows (`TCP:[0.0.0.0:80]`, `UDPv6:[[::]:53]`...).
pub fn from_decoration(info: &FdInfo) -> Option<Adoption> {
    let (domain, stream) = match info.kind.as_ref() {
        "TCP" => (Domain::Inet, true),
        "TCPv6" => (Domain::Inet6, true),
        "UDP" => (Domain::Inet, false),
        "UDPv6" => (Domain::Inet6, false),
        _ => return None,
    };
    let local = info.local;
    Some(match (stream, info.peer) {
        (true, Some(_)) => Adoption::Unreplayed,
        (true, None) => Adoption::Listener { domain, local },
        (false, _) => Adoption::Datagram { domain, local },
    })
}

/// The adoption `call`'s own arguments allow for its descriptor `fd`, without a decoration: a
/// datagram address on a call that only sockets accept, or a connect to an IPv4 or IPv6
/// address ended as only a TCP handshake ends. When the trace hides how sockets are created
/// (`creation_hidden`: no `socket` call shown so far, as under `-e trace=connect` or `-Z`), a
/// connect that succeeded is taken for TCP's too: what would tell a datagram socket's apart (its
/// `socket` call) is what the filter hid (docs/model.md, the adopted sockets). A failure that
/// says the descriptor is no socket (EBADF, ENOTSOCK) proves nothing.
pub fn from_call(call: &Call, fd: Fd, creation_hidden: bool) -> Option<Adoption> {
    if let Syscall::Connect { fd: on, addr } = &call.syscall {
        let stream = handshake_result(call) || (creation_hidden && call.outcome.is_success());
        return (*on == fd && stream)
            .then(|| addr.inet())
            .flatten()
            .map(|a| Adoption::Connecting {
                domain: domain_of(a),
            });
    }
    if call.outcome.errno.is_some() {
        return None;
    }
    let datagram = |addr: &SockAddr| {
        addr.inet().map(|a| Adoption::Datagram {
            domain: domain_of(a),
            local: None,
        })
    };
    match &call.syscall {
        // A TCP socket's recvfrom leaves the source address empty: one shown means datagrams.
        Syscall::Recv {
            fd: on,
            src: Some(src),
            ..
        } if *on == fd => datagram(src),
        // A destination on sendto/sendmsg is ignored by a connected TCP socket but needed by
        // UDP; programs give one to UDP sockets (TCP Fast Open aside, which sendto flags show).
        Syscall::Send {
            fd: on,
            dest: Some(dest),
            flags,
            ..
        } if *on == fd && !flags.other => datagram(dest),
        Syscall::SendMany { fd: on, msgs, .. } | Syscall::RecvMany { fd: on, msgs, .. }
            if *on == fd =>
        {
            msgs.iter().find_map(|m| m.addr.as_ref().and_then(datagram))
        }
        _ => None,
    }
}

/// Did this connect end the way only a stream socket's does? A connect in progress, refused,
/// timed out or answered by an ICMP error is a TCP handshake's (a datagram socket's connect only
/// records the peer, and fails only when no route leads there). A connect that succeeded proves
/// nothing: UDP sockets connect too (glibc's resolver does, for every query).
fn handshake_result(call: &Call) -> bool {
    use crate::parse::Errno::*;
    matches!(
        call.outcome.errno,
        Some(EINPROGRESS | ECONNREFUSED | ETIMEDOUT | EHOSTUNREACH | ECONNRESET)
    )
}

/// The adoption an `accept` that returned a connection from `peer` allows for its listener.
pub fn from_accept(peer: Option<&SockAddr>) -> Option<Adoption> {
    let peer = peer?.inet()?;
    Some(Adoption::Listener {
        domain: domain_of(peer),
        local: None,
    })
}

/// The synthetic calls that tell the model what `adoption` made of `fd`, placed at `at` (the
/// call that proved it). None for a socket that is not replayed.
pub fn announcement(adoption: Adoption, fd: Fd, at: &Call) -> Vec<Call> {
    let (domain, ty, protocol, local, listens) = match adoption {
        Adoption::Listener { domain, local } => {
            (domain, SockType::Stream, Protocol::Tcp, local, true)
        }
        Adoption::Datagram { domain, local } => {
            (domain, SockType::Dgram, Protocol::Udp, local, false)
        }
        Adoption::Connecting { domain } => (domain, SockType::Stream, Protocol::Tcp, None, false),
        Adoption::Unreplayed => return Vec::new(),
    };
    let synthetic = |name: SyscallName, syscall: Syscall, value: i64| Call {
        loc: at.loc,
        pid: at.pid,
        time: at.time,
        duration: None,
        name,
        syscall,
        outcome: Outcome::ok(value),
        fd_info: Vec::new(),
    };
    let mut calls = vec![synthetic(
        SyscallName::Socket,
        Syscall::Socket {
            domain,
            ty,
            nonblock: false,
            cloexec: false,
            protocol,
            fd: Some(fd),
        },
        i64::from(fd),
    )];
    // A port of 0 in a decoration is a socket not bound yet: nothing to replay.
    if let Some(local) = local.filter(|l| l.port() != 0) {
        calls.push(synthetic(
            SyscallName::Bind,
            Syscall::Bind {
                fd,
                addr: SockAddr::Inet(local),
            },
            0,
        ));
    }
    if listens {
        calls.push(synthetic(
            SyscallName::Listen,
            Syscall::Listen { fd, backlog: 0 },
            0,
        ));
    }
    calls
}
