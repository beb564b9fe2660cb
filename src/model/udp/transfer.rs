//! UDP semantics: connect, send and receive of datagrams.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use super::connected::ConnectedElsewhere;
use super::{DgramKey, Flow, FlowId, Matched, PortEnd, Received, UDP_PATH_ERRNOS};
use crate::config::matching::Role;
use crate::config::Topology;
use crate::fold::{SocketEvent, SyntheticReason};
use crate::model::exchange::PeerRead;
use crate::model::outcome::UdpFlow;
use crate::model::socket::Socket;
use crate::model::tcp::connect::is_loopback_to_external;
use crate::model::tcp::stream::Bytes;
use crate::model::{
    Deviation, DeviationKind, Model, Verdict, WaitKey, CLOCK_MARGIN_S, EPHEMERAL_PORTS,
};
use crate::parse::{Errno, MsgFlags, Payload};
use crate::source::{SockId, TraceId};

fn is_broadcast(addr: SocketAddr) -> bool {
    addr.ip() == IpAddr::V4(Ipv4Addr::BROADCAST)
}

/// `a.b.c.255` when some host has an address in `a.b.c.0/24`: probably that network's directed
/// broadcast address. Only a guess (the prefix length is not in the traces: under a /16 the
/// address is an ordinary host's), so it is weaker evidence than the limited broadcast address.
fn is_host_subnet_broadcast(topology: &Topology, addr: SocketAddr) -> bool {
    let IpAddr::V4(v4) = addr.ip().to_canonical() else {
        return false;
    };
    let [a, b, c, last] = v4.octets();
    last == 255
        && topology
            .hosts
            .iter()
            .flat_map(|h| &h.ips)
            .any(|ip| match ip {
                IpAddr::V4(host) => {
                    let [ha, hb, hc, hl] = host.octets();
                    (ha, hb, hc) == (a, b, c) && hl != 255
                }
                IpAddr::V6(_) => false,
            })
}

/// Was a received datagram of `len` bytes cut to its `buf_len`-byte buffer? The message flags
/// say so when the call shows them (recvmsg's MSG_TRUNC, absent from a datagram read whole
/// into a buffer sized by FIONREAD, as avahi-daemon does); otherwise a datagram that fills the
/// buffer exactly probably was.
fn may_be_cut(msg_trunc: Option<bool>, len: u64, buf_len: u64) -> bool {
    msg_trunc.unwrap_or(buf_len > 0 && len >= buf_len)
}

/// One datagram to send or as received.
pub(in crate::model) struct Datagram<'a> {
    pub(in crate::model) len: u64,
    pub(in crate::model) payload: &'a Payload,
    pub(in crate::model) addr: Option<SocketAddr>,
}

impl Model<'_> {
    /// Beyond the traces (outside the modelled world, or a host declared without a trace)?
    /// Broadcast addresses never are: every host (of the subnet) hears them.
    fn outside_udp(&self, addr: SocketAddr) -> bool {
        !self.is_broadcast_like(addr) && self.matcher.is_unobserved(addr)
    }

    fn is_broadcast_like(&self, addr: SocketAddr) -> bool {
        is_broadcast(addr) || is_host_subnet_broadcast(self.topology, addr)
    }

    /// EACCES on a UDP send or connect of a socket without SO_BROADCAST: Linux answers exactly
    /// that to a broadcast without the option, whatever the address looks like. The detail
    /// says how strongly the address itself agrees.
    fn refused_broadcast(&self, ev: &SocketEvent, id: SockId, target: SocketAddr) -> Verdict {
        let why = if is_broadcast(target) {
            "the limited broadcast address"
        } else if is_host_subnet_broadcast(self.topology, target) {
            "probably the broadcast address of a host's /24 network (prefix length assumed)"
        } else {
            "an address the kernel treats as broadcast (EACCES is the only sign)"
        };
        self.deviate(
            DeviationKind::BroadcastNotPermitted,
            ev,
            id,
            Vec::new(),
            format!("{id} sends to {target}, {why}, without SO_BROADCAST: EACCES"),
        )
    }

    pub(in crate::model) fn udp_connect(
        &mut self,
        ev: &SocketEvent,
        id: SockId,
        target: SocketAddr,
    ) -> Verdict {
        let Some(sock) = self.sockets.get(&id) else {
            return Verdict::NotModelled;
        };
        let (local, broadcast_ok) = (sock.local, sock.options().broadcast);
        // Failed or not, the connect names a candidate a resolver weighed (ENETUNREACH: one
        // without a route, which getaddrinfo sorts last).
        self.udp_connect_targets.note(id.trace, target.ip());
        if let Some(errno) = ev.call.outcome.errno {
            return match errno {
                Errno::EACCES if !broadcast_ok => self.refused_broadcast(ev, id, target),
                e if e.is_restart() => Verdict::Accept,
                e => self.unexpected_failure(ev, id, e),
            };
        }
        let mut auto_bound = None;
        if let Some(s) = self.sockets.get_mut(&id) {
            s.peer = Some(target);
            // A connect binds an unbound socket to a port the kernel chooses.
            if s.local.is_none() {
                let any: IpAddr = if target.is_ipv4() {
                    Ipv4Addr::UNSPECIFIED.into()
                } else {
                    std::net::Ipv6Addr::UNSPECIFIED.into()
                };
                auto_bound = Some(SocketAddr::new(any, 0));
            }
        }
        if let Some(local) = auto_bound {
            self.note_udp_bind(id, local);
        }
        if self.outside_udp(target) {
            // Only a datagram makes the address a peer: a UDP connect sends nothing, and
            // glibc's getaddrinfo connects probe sockets to every candidate address only to
            // read the source address the kernel would choose.
            return Verdict::NotModelled;
        }
        if is_broadcast(target) && !broadcast_ok {
            return self.broadcast_deviation(ev, id, target);
        }
        if let Some(l) = local.filter(|l| is_loopback_to_external(Some(*l), target)) {
            return self.deviate(
                DeviationKind::LoopbackBoundExternalPeer {
                    local: l,
                    peer: target,
                },
                ev,
                id,
                Vec::new(),
                format!("{id} is bound to {l} but talks to {target} (Linux: EINVAL)"),
            );
        }
        Verdict::Accept
    }

    /// An ICMP error about `target` that Linux reported on a UDP socket's call: ECONNREFUSED
    /// (port unreachable: the datagram arrived and nothing was bound there), EHOSTUNREACH or
    /// ENETUNREACH (host or network unreachable, or administratively prohibited: a router or a
    /// firewall's REJECT turned it back; also the sender's own host without a route or a
    /// neighbour for it). Linux hands these to a connected socket's next call (`udp_err`,
    /// `ip_icmp_error`), and a send with no route fails at once. Either way the datagram met
    /// an answer, not silence: a failed connect to that address, no loss.
    fn udp_path_error(
        &self,
        ev: &SocketEvent,
        id: SockId,
        target: Option<SocketAddr>,
        errno: Errno,
    ) -> Verdict {
        let Some(target) = target.filter(|p| !self.matcher.is_ignored(*p)) else {
            return Verdict::Accept; // unconnected, or out of scope (a local resolver probe)
        };
        let what = match errno {
            Errno::ECONNREFUSED => {
                "its host answered a datagram with ICMP port unreachable: nothing was bound \
                 there"
            }
            _ => {
                "the path answered a datagram with ICMP destination unreachable, or the host has \
                 no route to it: a router, a firewall's REJECT or the routing table turned it back"
            }
        };
        self.deviate(
            DeviationKind::ConnectFailed {
                errno,
                target,
                listener: None,
            },
            ev,
            id,
            Vec::new(),
            format!("{id} sends to {target} over UDP; {what} ({errno})"),
        )
    }

    fn broadcast_deviation(&self, ev: &SocketEvent, id: SockId, target: SocketAddr) -> Verdict {
        self.deviate(
            DeviationKind::BroadcastNotPermitted,
            ev,
            id,
            Vec::new(),
            format!("{id} sends to {target} without SO_BROADCAST"),
        )
    }

    pub(in crate::model) fn udp_send(
        &mut self,
        ev: &SocketEvent,
        id: SockId,
        dgrams: &[Datagram<'_>],
        flags: MsgFlags,
    ) -> Verdict {
        let Some(sock) = self.sockets.get(&id) else {
            return Verdict::NotModelled;
        };
        let (peer, local) = (sock.peer, sock.local);
        let (broadcast_ok, sndbuf, sndtimeo) = (
            sock.options().broadcast,
            sock.options().datagram_send_limit(),
            sock.options().sndtimeo_us,
        );
        if let Some(errno) = ev.call.outcome.errno {
            let dest = dgrams.first().and_then(|d| d.addr).or(peer);
            return match (errno, dest) {
                (e, _) if e.is_would_block() => self.would_block(ev, id, flags.dontwait, sndtimeo),
                (e, _) if e.is_restart() => Verdict::Accept,
                (e, d) if UDP_PATH_ERRNOS.contains(&e) => self.udp_path_error(ev, id, d, e),
                (Errno::EDESTADDRREQ | Errno::ENOTCONN, None) => Verdict::Accept,
                // Before the outside check: a broadcast address is nobody's.
                (Errno::EACCES, Some(d)) if !broadcast_ok => self.refused_broadcast(ev, id, d),
                (_, Some(d)) if self.outside_udp(d) => {
                    self.note_unknown_peer(ev, d);
                    Verdict::NotModelled
                }
                (Errno::EMSGSIZE, _) => {
                    let len = dgrams.first().map_or(0, |d| d.payload.shown().len() as u64);
                    self.deviate(
                        DeviationKind::DatagramTooLarge {
                            len,
                            buffer: sndbuf,
                        },
                        ev,
                        id,
                        Vec::new(),
                        "datagram larger than the path or socket allows (EMSGSIZE)".into(),
                    )
                }
                (e, _) => self.unexpected_failure(ev, id, e),
            };
        }
        let mut first: Option<Deviation> = None;
        let mut modelled = false;
        for d in dgrams {
            let Some(dest) = d.addr.or(peer) else {
                let dev = self.deviation(
                    DeviationKind::UnexpectedSuccess,
                    ev,
                    Some(id),
                    Vec::new(),
                    "datagram sent without a destination (Linux: EDESTADDRREQ)".into(),
                );
                first.get_or_insert(dev);
                continue;
            };
            if self.outside_udp(dest) {
                self.note_unknown_peer(ev, dest);
                // The socket's own buffer is a local fact, whoever the peer is.
                if d.len > sndbuf {
                    let dev = self.deviation(
                        DeviationKind::DatagramTooLarge {
                            len: d.len,
                            buffer: sndbuf,
                        },
                        ev,
                        Some(id),
                        Vec::new(),
                        format!("{}-byte datagram, send buffer {sndbuf} bytes", d.len),
                    );
                    first.get_or_insert(dev);
                }
                continue;
            }
            modelled = true;
            let mut problem = None;
            if is_broadcast(dest) && !broadcast_ok {
                problem = Some((
                    DeviationKind::BroadcastNotPermitted,
                    format!("{id} sends to {dest} without SO_BROADCAST"),
                ));
            } else if d.len > sndbuf {
                problem = Some((
                    DeviationKind::DatagramTooLarge {
                        len: d.len,
                        buffer: sndbuf,
                    },
                    format!(
                        "{}-byte datagram, send buffer {sndbuf} bytes (Linux doubles SO_SNDBUF and \
                         sends it; other systems refuse it)",
                        d.len
                    ),
                ));
            } else if let Some(l) =
                local.filter(|l| l.ip().is_loopback() && !dest.ip().is_loopback())
            {
                problem = Some((
                    DeviationKind::LoopbackBoundExternalPeer {
                        local: l,
                        peer: dest,
                    },
                    format!("{id} is bound to {l} but sends to {dest} (Linux: EINVAL)"),
                ));
            }
            if let Some((kind, detail)) = problem {
                let dev = self.deviation(kind, ev, Some(id), Vec::new(), detail);
                first.get_or_insert(dev);
            }
            let shown = Bytes::of(d.payload, d.len).shown;
            let key = DgramKey::of(d.len, shown, d.payload.truncated);
            let group = dest.ip().is_multicast() || self.is_broadcast_like(dest);
            self.flows.send(
                id,
                local,
                dest,
                group,
                key,
                shown,
                (ev.call.loc, ev.call.time),
            );
            self.touch(WaitKey::UdpPort(dest.port()));
            self.touch(WaitKey::AnyDatagram);
        }
        match first {
            Some(d) => Verdict::Deviation(d),
            None if modelled || dgrams.is_empty() => Verdict::Accept,
            None => Verdict::NotModelled,
        }
    }

    /// Can `receiver` get datagrams of `flow` (destination and, when shown, source agree)?
    pub(in crate::model) fn receives(
        &self,
        receiver: SockId,
        src: Option<SocketAddr>,
        flow: &Flow,
    ) -> bool {
        let Some(me) = self.sockets.get(&receiver) else {
            return false;
        };
        let my_port = me.local.map(|l| l.port());
        let dest_ok = if flow.dest.ip().is_multicast() {
            me.options().memberships.contains(&flow.dest.ip())
                && my_port.is_none_or(|p| p == flow.dest.port())
        } else if is_broadcast(flow.dest) {
            my_port.is_none_or(|p| p == flow.dest.port())
        } else if is_host_subnet_broadcast(self.topology, flow.dest) {
            let subnet = |ip: &IpAddr| match (ip, flow.dest.ip()) {
                (IpAddr::V4(mine), IpAddr::V4(dest)) => mine.octets()[..3] == dest.octets()[..3],
                _ => false,
            };
            let on_subnet = me
                .host
                .and_then(|h| self.topology.hosts.get(h))
                .is_some_and(|h| h.ips.iter().any(subnet));
            on_subnet && my_port.is_none_or(|p| p == flow.dest.port())
        } else {
            self.can_be(
                receiver,
                me.local_or_any(),
                flow.sender.trace,
                flow.dest,
                Role::Server,
            )
        };
        if !dest_ok {
            return false;
        }
        let sender_local = self
            .sockets
            .get(&flow.sender)
            .and_then(|s| s.local)
            .or(flow.sender_addr);
        match (src, sender_local) {
            (Some(src), Some(local)) if local.port() != 0 => {
                self.can_be(flow.sender, local, receiver.trace, src, Role::Client)
            }
            _ => true,
        }
    }

    pub(in crate::model) fn udp_recv(
        &mut self,
        ev: &SocketEvent,
        id: SockId,
        dgrams: &[Datagram<'_>],
        buf_len: u64,
        flags: MsgFlags,
        truncated_datagram: Option<bool>,
    ) -> Verdict {
        let Some(sock) = self.sockets.get(&id) else {
            return Verdict::NotModelled;
        };
        let (rcvtimeo, rcvbuf) = (
            sock.options().rcvtimeo_us,
            sock.options().datagram_receive_limit(),
        );
        let port = sock.local.map(|l| l.port());
        if let Some(errno) = ev.call.outcome.errno {
            return match errno {
                e if e.is_would_block() => self.would_block(ev, id, flags.dontwait, rcvtimeo),
                e if e.is_restart() => Verdict::Accept,
                e if UDP_PATH_ERRNOS.contains(&e) => {
                    let peer = self.sockets.get(&id).and_then(|s| s.peer);
                    self.udp_path_error(ev, id, peer, e)
                }
                e => self.unexpected_failure(ev, id, e),
            };
        }
        // Find every datagram first: nothing changes unless all of them were sent.
        let mut plan = Vec::with_capacity(dgrams.len());
        let mut taken: Vec<(usize, DgramKey)> = Vec::new();
        // A connected socket's datagrams come from its peer (read and recv name no source).
        let connected_peer = self.sockets.get(&id).and_then(|s| s.peer);
        for d in dgrams {
            if let Some(src) = d.addr.or(connected_peer).filter(|s| self.outside_udp(*s)) {
                plan.push(Err(src));
                continue;
            }
            let shown = Bytes::of(d.payload, d.len).shown;
            let got = Received {
                key: DgramKey::of(d.len, shown, d.payload.truncated),
                shown,
                maybe_cut: may_be_cut(truncated_datagram, d.len, buf_len),
            };
            let found = self
                .flows
                .find(got, port.unwrap_or(0), id, |f| self.receives(id, d.addr, f));
            match found {
                Some((flow, key, matched)) => {
                    let already = taken.iter().filter(|t| **t == (flow, key)).count();
                    if !flags.peek && already >= self.flows.copies(flow, key, id) {
                        // Earlier datagrams of this recvmmsg took every copy.
                        plan.push(Ok(None));
                        continue;
                    }
                    taken.push((flow, key));
                    plan.push(Ok(Some((flow, key, matched, d.len))));
                }
                None => {
                    // From 0.0.0.0 and no traced datagram fits: a host without an address sent
                    // it (a DHCP client's packet socket, which no model follows). No source
                    // shown: the peer this socket asked, when no trace shows it, is where it
                    // came from.
                    let addressless = d.addr.filter(|a| a.ip().is_unspecified());
                    let asked = || self.exchange_peer(id).filter(|_| d.addr.is_none());
                    match addressless.or_else(asked) {
                        Some(from) => plan.push(Err(from)),
                        None => plan.push(Ok(None)),
                    }
                }
            }
        }
        let missing = plan.iter().any(|p| matches!(p, Ok(None)));
        if missing && !self.forcing {
            let key = match port {
                Some(p) if p != 0 => WaitKey::UdpPort(p),
                _ => WaitKey::AnyDatagram,
            };
            return self.wait_for(format!("datagram not sent yet (or not to {id})"), &[key]);
        }
        let mut first: Option<Deviation> = None;
        let mut modelled = false;
        for (entry, d) in plan.into_iter().zip(dgrams) {
            let found = match entry {
                Err(src) => {
                    // A datagram from an address of no host reached this trace: what a server
                    // sees of a client behind a NAT the configuration does not declare.
                    self.note_unknown_peer(ev, src);
                    self.note_inbound_unknown_peer(ev.call.loc.trace, src);
                    // Cut to the buffer: the message flags say so when the call shows them
                    // (MSG_TRUNC), else a datagram that filled a generic buffer exactly
                    // probably was; the receiver alone shows it.
                    let cut = truncated_datagram
                        .unwrap_or_else(|| fills_a_generic_buffer(d.len, buf_len));
                    // A peek (socat sizes its buffer so) consumes and cuts nothing.
                    if cut && !flags.peek {
                        let dev = self.deviation(
                            DeviationKind::DatagramTruncated {
                                len: d.len,
                                buffer: buf_len,
                            },
                            ev,
                            Some(id),
                            Vec::new(),
                            format!(
                                "{}-byte datagram from {src} read into a {buf_len}-byte buffer",
                                d.len
                            ),
                        );
                        first.get_or_insert(dev);
                    }
                    continue;
                }
                Ok(found) => found,
            };
            modelled = true;
            let Some((flow, key, matched, len)) = found else {
                let mut dev = self.deviation(
                    DeviationKind::UnknownData,
                    ev,
                    Some(id),
                    Vec::new(),
                    format!(
                        "{len}-byte datagram from {} that no traced call sent",
                        d.addr.map_or("?".into(), |a| a.to_string()),
                        len = d.len
                    ),
                );
                dev.source = d.addr;
                first.get_or_insert(dev);
                continue;
            };
            if flags.peek {
                self.flows.note_receiver(flow, id);
            } else {
                self.flows.take(flow, key, id);
                let f = self.flows.get(flow);
                let from = d.addr.or(f.sender_addr);
                if let Some(from) = from {
                    let read_at = PeerRead::Datagram { reader: id, from };
                    self.exchange_delivered(f.sender, id, read_at, ev);
                }
            }
            self.learn_sender_address(flow, d.addr);
            // A peek consumes and cuts nothing, whatever MSG_TRUNC says (socat peeks one byte
            // with MSG_TRUNC to learn a datagram's size, then reads it whole): the read after
            // it decides.
            let cut = match matched {
                _ if flags.peek => None,
                Matched::CutToBuffer { len: full } => Some(DeviationKind::DatagramTruncated {
                    len: full,
                    buffer: len,
                }),
                _ if buf_len > 0 && len > buf_len => Some(DeviationKind::DatagramTruncated {
                    len,
                    buffer: buf_len,
                }),
                _ => None,
            };
            let problem = cut.or_else(|| {
                (key.len > rcvbuf).then_some(DeviationKind::DatagramTooLarge {
                    len: key.len,
                    buffer: rcvbuf,
                })
            });
            if let Some(kind) = problem {
                let related = vec![self.flows.get(flow).first_send];
                let dev = self.deviation(
                    kind,
                    ev,
                    Some(id),
                    related,
                    "datagram did not fit the receive buffer".into(),
                );
                first.get_or_insert(dev);
            }
        }
        match first {
            Some(d) => Verdict::Deviation(d),
            None if modelled || dgrams.is_empty() => Verdict::Accept,
            None => Verdict::NotModelled,
        }
    }

    /// For a flow none of which arrived: the traced socket bound at its destination that was
    /// connected to another address than the flow's source, which Linux therefore never let
    /// the datagrams reach (see `udp/connected.rs`); or, for a sender bound to a wildcard
    /// address at the peer's port on a host with several addresses of the peer's family, one
    /// the route may have made so (its source shows in no call).
    pub(in crate::model) fn receiver_connected_elsewhere(
        &self,
        flow: &UdpFlow,
    ) -> Option<ConnectedElsewhere> {
        let received: u64 = flow.by_size.iter().map(|(_, _, r)| r).sum();
        let source = flow.sender_addr?;
        if received > 0 {
            return None;
        }
        let host_ips = self
            .topology
            .host_of(flow.sender.trace)
            .map_or(&[][..], |h| h.ips.as_slice());
        self.udp_connected_ends
            .at(flow.receiver_addr)
            .find_map(|end| {
                let peer = end.peer;
                if source.ip().is_unspecified() {
                    let family = |ip: &IpAddr| ip.is_ipv4() == peer.is_ipv4();
                    let owns_peer = host_ips.contains(&peer.ip());
                    let others = host_ips
                        .iter()
                        .any(|ip| family(ip) && *ip != peer.ip() && !ip.is_loopback());
                    let maybe = source.port() == peer.port() && owns_peer && others;
                    return maybe.then_some(ConnectedElsewhere {
                        sock: end.sock,
                        peer,
                        certain: false,
                    });
                }
                // A source port never shown (bound to port 0, no getsockname or `-yy`) is
                // compared by address alone.
                let source = if source.port() == 0 {
                    SocketAddr::new(source.ip(), peer.port())
                } else {
                    source
                };
                let elsewhere =
                    !self.can_be(flow.sender, source, end.sock.trace, peer, Role::Client);
                elsewhere.then_some(ConnectedElsewhere {
                    sock: end.sock,
                    peer,
                    certain: true,
                })
            })
    }

    /// Is `dest` an address of a traced host none of whose traces ever had its UDP port, bound
    /// (`bind`), as the source of datagrams it sent or as the destination of datagrams it
    /// received? A port the trace does not show (bound
    /// to 0, by a connect or by a first send) is one the kernel chose from
    /// [`EPHEMERAL_PORTS`], so it may be any port of that range. A datagram sent where nothing
    /// was bound found nothing: Linux answers it with ICMP port unreachable, which an
    /// unconnected sender never sees; no path lost it. Multicast and broadcast destinations
    /// are nobody's address.
    pub(in crate::model) fn udp_port_never_bound(&self, dest: SocketAddr) -> bool {
        if dest.ip().is_multicast() || dest.ip().is_unspecified() || self.is_broadcast_like(dest) {
            return false;
        }
        let traced_owner = self
            .topology
            .hosts
            .iter()
            .find(|h| !h.traces.is_empty() && h.ips.contains(&dest.ip()));
        let may_be = |port: u16| {
            port == dest.port() || (port == 0 && EPHEMERAL_PORTS.contains(&dest.port()))
        };
        traced_owner.is_some_and(|host| {
            let bound = self
                .udp_bound_ports
                .iter()
                .any(|(trace, port)| host.traces.contains(trace) && may_be(*port));
            // A socket of the host sent from the port, or received datagrams addressed to it
            // (one adopted from a trace that began after its bind shows no bind).
            let used = self.flows.all().iter().any(|f| {
                let sent = host.traces.contains(&f.sender.trace)
                    && may_be(f.sender_addr.map_or(0, |a| a.port()));
                let received = f.dest.port() == dest.port()
                    && f.receivers.iter().any(|r| host.traces.contains(&r.trace));
                sent || received
            });
            !bound && !used
        })
    }

    /// Did datagrams sent to `dest` from `sender`'s trace, the first at `sent_at` (sender's
    /// clock), find nothing bound there, or nothing that would read them? Either nothing of the
    /// traced host ever had the port ([`Self::udp_port_never_bound`]), or every socket it bound
    /// there was closed by its program (or its death) at a time the clocks, compared across
    /// hosts within [`CLOCK_MARGIN_S`], do not put after the first send: datagrams that came
    /// later found nothing bound (Linux answers them with ICMP port unreachable, which an
    /// unconnected sender never sees), and ones that came just before were left unread by a
    /// program about to close. No path is shown to have lost them (`svc/sip-killed--T`:
    /// requests sent 0.25 s after Kamailio was killed, by the clocks). A socket still open
    /// when its trace ended may have stayed bound.
    pub(in crate::model) fn udp_port_unbound_when_sent(
        &self,
        dest: SocketAddr,
        sender: TraceId,
        sent_at: Option<f64>,
    ) -> bool {
        if self.udp_port_never_bound(dest) {
            return true;
        }
        let Some(sent_at) = sent_at else {
            return false;
        };
        let Some(host) = self
            .topology
            .hosts
            .iter()
            .find(|h| h.ips.contains(&dest.ip()))
        else {
            return false;
        };
        let mut ends = host
            .traces
            .iter()
            .filter_map(|trace| Some((*trace, *self.udp_port_ends.get(&(*trace, dest.port()))?)))
            .peekable();
        ends.peek().is_some()
            && ends.all(|(trace, end)| match end {
                PortEnd::ClosedAt(closed) => {
                    self.topology.clocks_comparable(trace, sender)
                        && sent_at > closed - CLOCK_MARGIN_S
                }
                PortEnd::OpenAtEnd => false,
            })
    }

    /// UDP socket `sock` bound to a port is closed at `ev`: how it ended, for
    /// [`Self::udp_port_unbound_when_sent`].
    pub(in crate::model) fn note_udp_port_end(&mut self, sock: &Socket, ev: &SocketEvent) {
        let Some(port) = sock.local.map(|l| l.port()).filter(|p| *p != 0) else {
            return;
        };
        let end = match (ev.synthetic, ev.call.time) {
            (Some(SyntheticReason::EndOfTrace), _) | (_, None) => PortEnd::OpenAtEnd,
            (_, Some(at)) => PortEnd::ClosedAt(at),
        };
        let key = (sock.id.trace, port);
        let end = self
            .udp_port_ends
            .get(&key)
            .map_or(end, |was| was.then(end));
        self.udp_port_ends.insert(key, end);
    }

    /// A socket that sent before any bind (auto-bound) has no known address of its own; the
    /// source address its receivers saw is that address. Knowing it lets later datagrams *to*
    /// that socket be found by its port.
    fn learn_sender_address(&mut self, flow: FlowId, seen_as: Option<SocketAddr>) {
        let Some(seen_as) = seen_as else {
            return;
        };
        self.flows.note_sender_seen_as(flow, seen_as);
        let sender = self.flows.get(flow).sender;
        if let Some(sock) = self.sockets.get_mut(&sender) {
            if sock.local.is_none_or(|l| l.port() == 0) {
                sock.local = Some(seen_as);
            }
        }
    }
}

/// Smallest buffer an exact fill is read as a cut from: below it a buffer holds one fixed-size
/// field (iperf3 reads its 4-byte hello into 4 bytes), not whatever datagram comes.
const GENERIC_BUFFER_MIN: u64 = 64;

/// Whether a datagram from a sender no trace shows, `len` bytes read into a `buf_len`-byte
/// buffer, was probably cut. Its true size is unknown, so only an exact fill can say so, and only
/// for a buffer of a generic size (a power of two, as programs pick for "any datagram"): a buffer
/// sized to the protocol's own message (TFTP's 516-byte block with its header, the length iperf3
/// was given) is filled exactly by every full message of a healthy exchange.
pub(in crate::model) fn fills_a_generic_buffer(len: u64, buf_len: u64) -> bool {
    buf_len >= GENERIC_BUFFER_MIN && buf_len.is_power_of_two() && len >= buf_len
}
