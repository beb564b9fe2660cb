//! What one trace tells about its host's addresses and its TCP connections, gathered in one pass
//! over its calls.

use std::borrow::Borrow;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};

use crate::config::address::is_special;
use crate::parse::{Call, Errno, Fd, FdInfo, SockAddr, SockType, Syscall};
use crate::source::Loc;

/// A TCP connect that succeeded or went in progress, or the start of a datagram flow (a UDP
/// socket's first exchange was a send, or a UDP connect).
#[derive(Debug, Clone)]
pub struct ConnectFact {
    pub loc: Loc,
    pub target: SocketAddr,
    /// The socket's own address as the trace showed it (bind, getsockname, `-yy`); port 0 when
    /// only the address is known.
    pub local: Option<SocketAddr>,
    /// A datagram flow rather than a TCP connection.
    pub datagram: bool,
    /// The socket's own port when the trace showed it, even bound to the wildcard address
    /// (`-yy`'s `UDP:[0.0.0.0:59303]`, getsockname): what a server sees as the client's source
    /// port when no NAT is in between.
    pub port: Option<u16>,
}

/// An accepted TCP connection, or the answering side of a datagram flow (a UDP socket's first
/// exchange was a receive).
#[derive(Debug, Clone)]
pub struct AcceptFact {
    pub loc: Loc,
    /// The address the client reached (the accepted socket's own address, else the listener's
    /// bound address, possibly a wildcard).
    pub local: Option<SocketAddr>,
    /// The client's address as the server saw it.
    pub peer: Option<SocketAddr>,
    /// A datagram flow rather than a TCP connection.
    pub datagram: bool,
}

/// A TCP socket that listened on a wildcard address: it serves every address of its host of its
/// family (both families for an IPv6 wildcard without IPV6_V6ONLY), none of which it shows.
#[derive(Debug, Clone)]
pub struct WildcardListen {
    pub loc: Loc,
    /// The bound wildcard address and port.
    pub local: SocketAddr,
}

#[derive(Debug, Clone, Default)]
pub struct TraceFacts {
    /// The host's own interface addresses (never loopback, unspecified, multicast, broadcast).
    pub own: BTreeSet<IpAddr>,
    pub connects: Vec<ConnectFact>,
    pub accepts: Vec<AcceptFact>,
    pub wildcard_listens: Vec<WildcardListen>,
    /// TCP connects that reached an address and port but made no connection: refused (a host
    /// answered there), timed out, or never returned. Where they went, not who took them.
    pub failed_connects: Vec<ConnectFact>,
}

impl TraceFacts {
    pub fn gather<C: Borrow<Call>>(calls: impl IntoIterator<Item = C>) -> TraceFacts {
        let mut gatherer = Gatherer::default();
        for call in calls {
            gatherer.call(call.borrow());
        }
        gatherer.facts
    }
}

/// Per-descriptor state while reading one trace. Descriptors are keyed by number only: fd tables
/// of forked children are not told apart, which is good enough for gathering addresses.
#[derive(Default)]
struct Gatherer {
    facts: TraceFacts,
    bound: HashMap<Fd, SocketAddr>,
    datagram: HashSet<Fd>,
    connect_of: HashMap<Fd, usize>,
    accept_of: HashMap<Fd, usize>,
    /// Datagram sockets that have sent or received: only the first exchange tells which side
    /// started the flow (the one that sent first plays the client, the other the server).
    datagram_started: HashSet<Fd>,
    /// The sources a datagram socket that plays the server has received from: each new one
    /// answers another client's flow, as each accept of a listener does.
    datagram_sources: HashMap<Fd, HashSet<SocketAddr>>,
    /// Each socket's own port, once shown.
    port: HashMap<Fd, u16>,
}

impl Gatherer {
    fn call(&mut self, call: &Call) {
        let succeeded = call.outcome.is_success();
        match &call.syscall {
            Syscall::Socket {
                fd: Some(fd), ty, ..
            } if succeeded => {
                self.forget(*fd);
                if *ty != SockType::Stream {
                    self.datagram.insert(*fd);
                }
            }
            Syscall::Bind {
                fd,
                addr: SockAddr::Inet(addr),
            } if succeeded => {
                let addr = canonical(*addr);
                self.bound.insert(*fd, addr);
                self.note_port(*fd, addr.port());
                self.note_own(addr.ip());
            }
            Syscall::Connect {
                fd,
                addr: SockAddr::Inet(target),
            } if succeeded && self.datagram.contains(fd) => self.datagram_sent(call, *fd, *target),
            Syscall::Connect {
                fd,
                addr: SockAddr::Inet(target),
            } if !self.datagram.contains(fd) => self.stream_connect(call, *fd, *target),
            // TCP Fast Open: sendto(MSG_FASTOPEN, addr) on a stream socket connects it.
            Syscall::Send {
                fd,
                dest: Some(SockAddr::Inet(target)),
                flags,
                ..
            } if flags.fastopen && !self.datagram.contains(fd) => {
                self.stream_connect(call, *fd, *target)
            }
            _ => self.other_call(call, succeeded),
        }
    }

    /// A stream socket's connect (or Fast Open send) to `target`: reached, or refused.
    fn stream_connect(&mut self, call: &Call, fd: Fd, target: SocketAddr) {
        if call.outcome.is_success() || call.outcome.errno == Some(Errno::EINPROGRESS) {
            self.flow_started(call, fd, target, false);
        } else if reached_no_connection(call) {
            self.facts.failed_connects.push(ConnectFact {
                loc: call.loc,
                target: canonical(target),
                local: None,
                datagram: false,
                port: None,
            });
        }
    }

    fn other_call(&mut self, call: &Call, succeeded: bool) {
        match &call.syscall {
            Syscall::Listen { fd, .. } if succeeded => {
                if let Some(local) = self.bound.get(fd).filter(|a| a.ip().is_unspecified()) {
                    self.facts.wildcard_listens.push(WildcardListen {
                        loc: call.loc,
                        local: *local,
                    });
                }
            }
            Syscall::Accept {
                fd,
                peer,
                new_fd: Some(new_fd),
                ..
            } if succeeded => {
                let local = self.bound.get(fd).copied();
                let peer = peer.as_ref().and_then(SockAddr::inet).map(canonical);
                self.forget(*new_fd);
                self.facts.accepts.push(AcceptFact {
                    loc: call.loc,
                    local,
                    peer,
                    datagram: false,
                });
                self.accept_of.insert(*new_fd, self.facts.accepts.len() - 1);
            }
            Syscall::Getsockname {
                fd,
                addr: Some(SockAddr::Inet(addr)),
            } if succeeded => self.learn_local(*fd, canonical(*addr)),
            Syscall::Getpeername {
                fd,
                addr: Some(SockAddr::Inet(addr)),
            } if succeeded => self.learn_peer(*fd, canonical(*addr)),
            Syscall::Dup {
                old_fd,
                new_fd: Some(new_fd),
                ..
            } if succeeded => self.duplicate(*old_fd, *new_fd),
            Syscall::Close { fd } => self.forget(*fd),
            Syscall::Send {
                fd,
                dest: Some(SockAddr::Inet(dest)),
                ..
            } if succeeded && self.datagram.contains(fd) => self.datagram_sent(call, *fd, *dest),
            // A source address proves a datagram socket (a TCP receive leaves it empty), also
            // one the trace never showed created: a daemon strace attached to after its start.
            Syscall::Recv {
                fd,
                src: Some(SockAddr::Inet(src)),
                ..
            } if succeeded => {
                self.datagram.insert(*fd);
                self.datagram_received(call, *fd, *src);
            }
            _ => {}
        }
        for info in &call.fd_info {
            self.decoration(info);
        }
    }

    /// A datagram socket's first exchange is a send: it starts a flow, like a connect.
    fn datagram_sent(&mut self, call: &Call, fd: Fd, dest: SocketAddr) {
        if !self.datagram_started.insert(fd) {
            return;
        }
        self.flow_started(call, fd, dest, true);
    }

    /// `fd` started a flow to `target` (a connect, or a datagram socket's first send): kept
    /// with the local address a bind gave it, when that names one.
    fn flow_started(&mut self, call: &Call, fd: Fd, target: SocketAddr, datagram: bool) {
        let local = self
            .bound
            .get(&fd)
            .copied()
            .filter(|a| !a.ip().is_unspecified());
        self.facts.connects.push(ConnectFact {
            loc: call.loc,
            target: canonical(target),
            local,
            datagram,
            port: self.port.get(&fd).copied(),
        });
        self.connect_of.insert(fd, self.facts.connects.len() - 1);
    }

    /// A datagram socket's first exchange is a receive: it answers a flow, like an accept; so
    /// does each later datagram from a source it has not heard from (a UDP server serves many
    /// clients on one socket).
    fn datagram_received(&mut self, call: &Call, fd: Fd, src: SocketAddr) {
        let src = canonical(src);
        if self.datagram_started.insert(fd) {
            self.datagram_sources.insert(fd, HashSet::from([src]));
        } else if !self
            .datagram_sources
            .get_mut(&fd)
            .is_some_and(|sources| sources.insert(src))
        {
            return;
        }
        self.facts.accepts.push(AcceptFact {
            loc: call.loc,
            local: self.bound.get(&fd).copied(),
            peer: Some(src),
            datagram: true,
        });
        self.accept_of.insert(fd, self.facts.accepts.len() - 1);
    }

    /// `-yy` shows a socket's addresses on every call that names its descriptor.
    fn decoration(&mut self, info: &FdInfo) {
        let is_inet = ["TCP", "TCPv6", "UDP", "UDPv6"].contains(&info.kind.as_ref());
        if !is_inet {
            return;
        }
        if let Some(local) = info.local {
            let local = canonical(local);
            self.bound.entry(info.fd).or_insert(local);
            self.learn_local(info.fd, local);
        }
        if let Some(peer) = info.peer {
            self.learn_peer(info.fd, canonical(peer));
        }
    }

    fn learn_local(&mut self, fd: Fd, addr: SocketAddr) {
        self.note_own(addr.ip());
        self.note_port(fd, addr.port());
        if addr.ip().is_unspecified() {
            return;
        }
        if let Some(fact) = self
            .connect_of
            .get(&fd)
            .and_then(|&i| self.facts.connects.get_mut(i))
        {
            if fact.local.is_none_or(|known| known.port() == 0) {
                fact.local = Some(addr);
            }
        }
        if let Some(fact) = self
            .accept_of
            .get(&fd)
            .and_then(|&i| self.facts.accepts.get_mut(i))
        {
            if fact.local.is_none_or(|known| known.ip().is_unspecified()) {
                fact.local = Some(addr);
            }
        }
    }

    fn learn_peer(&mut self, fd: Fd, addr: SocketAddr) {
        if let Some(fact) = self
            .accept_of
            .get(&fd)
            .and_then(|&i| self.facts.accepts.get_mut(i))
        {
            fact.peer.get_or_insert(addr);
        }
    }

    /// The socket's own port (0: none chosen yet), also on the flow it started.
    fn note_port(&mut self, fd: Fd, port: u16) {
        if port == 0 {
            return;
        }
        self.port.insert(fd, port);
        if let Some(fact) = self
            .connect_of
            .get(&fd)
            .and_then(|&i| self.facts.connects.get_mut(i))
        {
            fact.port.get_or_insert(port);
        }
    }

    fn note_own(&mut self, ip: IpAddr) {
        let ip = ip.to_canonical();
        if !is_special(ip) {
            self.facts.own.insert(ip);
        }
    }

    fn duplicate(&mut self, old_fd: Fd, new_fd: Fd) {
        self.forget(new_fd);
        if let Some(addr) = self.bound.get(&old_fd).copied() {
            self.bound.insert(new_fd, addr);
        }
        if self.datagram.contains(&old_fd) {
            self.datagram.insert(new_fd);
        }
        if self.datagram_started.contains(&old_fd) {
            self.datagram_started.insert(new_fd);
        }
        if let Some(sources) = self.datagram_sources.get(&old_fd).cloned() {
            self.datagram_sources.insert(new_fd, sources);
        }
        if let Some(port) = self.port.get(&old_fd).copied() {
            self.port.insert(new_fd, port);
        }
        if let Some(&i) = self.connect_of.get(&old_fd) {
            self.connect_of.insert(new_fd, i);
        }
        if let Some(&i) = self.accept_of.get(&old_fd) {
            self.accept_of.insert(new_fd, i);
        }
    }

    fn forget(&mut self, fd: Fd) {
        self.datagram_started.remove(&fd);
        self.datagram_sources.remove(&fd);
        self.port.remove(&fd);
        self.bound.remove(&fd);
        self.datagram.remove(&fd);
        self.connect_of.remove(&fd);
        self.accept_of.remove(&fd);
    }
}

/// A connect that failed after its SYN went out to an address where a host may listen:
/// refused (some host answered with a reset), timed out, or blocked until a signal or the end of
/// the trace. Unreachable addresses and local errors (EADDRNOTAVAIL, EACCES...) say nothing of a
/// listener there.
fn reached_no_connection(call: &Call) -> bool {
    call.outcome.never_returned()
        || matches!(
            call.outcome.errno,
            Some(Errno::ECONNREFUSED | Errno::ETIMEDOUT | Errno::ERESTARTSYS)
        )
}

/// IPv4-mapped IPv6 addresses become IPv4, so that both spellings compare equal.
pub fn canonical(addr: SocketAddr) -> SocketAddr {
    SocketAddr::new(addr.ip().to_canonical(), addr.port())
}
