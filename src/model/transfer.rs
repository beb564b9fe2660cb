//! Transfer calls (send and receive families, sendmmsg/recvmmsg, sendfile/splice) dispatched by
//! transport: TCP to the connection's byte streams (`tcp/stream.rs`), UDP to the flows
//! (`udp/transfer.rs`).

use std::ops::ControlFlow;

use super::socket::{inet_of, Proto};
use super::tcp::stream::Bytes;
use super::udp::transfer::Datagram;
use super::{Model, Target, Verdict, Way};
use crate::fold::SocketEvent;
use crate::parse::{Fd, MmsgEntry, MsgFlags, Payload, SockAddr};
use crate::source::SockId;

impl Model<'_> {
    /// The byte count the call returned (0 when it failed).
    fn returned_len(ev: &SocketEvent) -> u64 {
        ev.call
            .outcome
            .value
            .and_then(|v| u64::try_from(v).ok())
            .unwrap_or(0)
    }

    /// The socket a transfer names, its transport and the byte count the call returned; or why
    /// the call is not modelled.
    fn transfer_target(
        &mut self,
        ev: &SocketEvent,
        fd: Fd,
        way: Way,
    ) -> ControlFlow<Verdict, (SockId, Proto, u64)> {
        if let Some(verdict) = self.connect_error_by_transfer(ev, fd) {
            return ControlFlow::Break(verdict);
        }
        match self.target(ev, fd) {
            Target::Sock(id, sock) => {
                ControlFlow::Continue((id, sock.proto, Self::returned_len(ev)))
            }
            Target::Skip(verdict) => {
                let local_fact = self
                    .unobserved_peer_error(ev, fd, way)
                    .or_else(|| self.blocked_talking_to_unobserved_peer(ev, fd));
                ControlFlow::Break(local_fact.unwrap_or(verdict))
            }
        }
    }

    /// A transfer with a peer no trace shows that blocked on a socket accepted from a
    /// nonblocking listener: the blocking is this host's own fact, the peer plays no part.
    fn blocked_talking_to_unobserved_peer(&self, ev: &SocketEvent, fd: Fd) -> Option<Verdict> {
        let id = ev.sock(fd)?;
        let sock = self.sockets.get(&id)?;
        // Bytes moved, as on a modelled connection: an end of stream ends a wait of its own.
        let moved = ev.call.outcome.is_success() && Self::returned_len(ev) > 0;
        if !sock.external || sock.proto != Proto::Tcp || !moved {
            return None;
        }
        match self.blocked_without_inherited_nonblock(ev, id) {
            deviation @ Verdict::Deviation(_) => Some(deviation),
            _ => None,
        }
    }

    pub(in crate::model) fn send(
        &mut self,
        ev: &SocketEvent,
        fd: Fd,
        data: &Payload,
        flags: MsgFlags,
        dest: Option<&SockAddr>,
    ) -> Verdict {
        if let Some(addr) = dest.filter(|_| flags.fastopen) {
            if let Some(verdict) = self.fastopen_connect(ev, fd, addr) {
                // The connect half is still in progress (MSG_DONTWAIT, or a signal): the call
                // moved no byte, the program sends them once connected.
                let in_progress = ev
                    .call
                    .outcome
                    .errno
                    .is_some_and(|e| e == crate::parse::Errno::EINPROGRESS || e.is_restart());
                return match verdict {
                    Verdict::Accept | Verdict::NotModelled if in_progress => verdict,
                    Verdict::Accept | Verdict::NotModelled => self.send(ev, fd, data, flags, None),
                    // The connect half happened (and deviated): its bytes went out all the same.
                    Verdict::Deviation(_) if ev.call.outcome.is_success() => {
                        let _ = self.send(ev, fd, data, flags, None);
                        verdict
                    }
                    other => other,
                };
            }
        }
        let (id, proto, len) = match self.transfer_target(ev, fd, Way::Send) {
            ControlFlow::Continue(target) => target,
            ControlFlow::Break(verdict) => return verdict,
        };
        match proto {
            Proto::Tcp => self.tcp_send(ev, id, Bytes::of(data, len), flags),
            Proto::Udp => {
                let addr = dest.and_then(inet_of);
                if dest.is_some() && addr.is_none() {
                    return Verdict::NotModelled;
                }
                let dgram = Datagram {
                    len,
                    payload: data,
                    addr,
                };
                self.udp_send(ev, id, &[dgram], flags)
            }
        }
    }

    /// sendto or sendmsg with MSG_FASTOPEN and an address, on a TCP socket neither connected
    /// nor connecting, is connect(addr) and the send in one call (tcp(7), TCP Fast Open): the
    /// kernel sends the SYN (with the bytes when a cookie allows) and a blocking socket waits
    /// for the handshake, so the call fails with the connect's error (ECONNREFUSED, ETIMEDOUT:
    /// `capi/tfo-refused`, `capi/tfo-drop`) and its byte count is the send's. Returns the
    /// connect half's verdict, `None` when the call is an ordinary send (a UDP socket ignores
    /// the flag; on a connected socket Linux sends as without it).
    fn fastopen_connect(&mut self, ev: &SocketEvent, fd: Fd, addr: &SockAddr) -> Option<Verdict> {
        let id = ev.sock(fd)?;
        let sock = self.sockets.get(&id)?;
        let unconnected = sock.proto == Proto::Tcp
            && !sock.external
            && !sock.is_connecting_or_connected()
            && !sock.is_listening();
        unconnected.then(|| self.connect(ev, fd, addr))
    }

    #[allow(clippy::too_many_arguments)]
    pub(in crate::model) fn recv(
        &mut self,
        ev: &SocketEvent,
        fd: Fd,
        data: &Payload,
        buf_len: u64,
        flags: MsgFlags,
        src: Option<&SockAddr>,
        truncated_datagram: Option<bool>,
    ) -> Verdict {
        let (id, proto, len) = match self.transfer_target(ev, fd, Way::Receive) {
            ControlFlow::Continue(target) => target,
            ControlFlow::Break(verdict) => return verdict,
        };
        match proto {
            Proto::Tcp => self.tcp_recv(ev, id, Bytes::of(data, len), buf_len, flags, true),
            Proto::Udp => {
                let dgram = Datagram {
                    len,
                    payload: data,
                    addr: src.and_then(inet_of),
                };
                self.udp_recv(ev, id, &[dgram], buf_len, flags, truncated_datagram)
            }
        }
    }

    /// The messages of a sendmmsg/recvmmsg that the call reports as transferred.
    pub(in crate::model) fn transferred_messages<'m>(
        ev: &SocketEvent,
        msgs: &'m [MmsgEntry],
    ) -> Vec<Datagram<'m>> {
        let count = usize::try_from(Self::returned_len(ev)).unwrap_or(0);
        msgs.iter()
            .take(count)
            .map(|m| Datagram {
                len: m.len.unwrap_or(m.data.shown().len() as u64),
                payload: &m.data,
                addr: m.addr.as_ref().and_then(inet_of),
            })
            .collect()
    }

    /// sendmmsg or recvmmsg: each message the call reports as transferred is one datagram.
    pub(in crate::model) fn transfer_many(
        &mut self,
        ev: &SocketEvent,
        fd: Fd,
        msgs: &[MmsgEntry],
        flags: MsgFlags,
        way: Way,
    ) -> Verdict {
        let (id, sock) = match self.target(ev, fd) {
            Target::Sock(id, s) => (id, s),
            Target::Skip(v) => return v,
        };
        if sock.proto == Proto::Tcp {
            return self.unsupported_call(
                ev,
                match way {
                    Way::Send => "sendmmsg on TCP",
                    Way::Receive => "recvmmsg on TCP",
                },
            );
        }
        let dgrams = Self::transferred_messages(ev, msgs);
        match way {
            Way::Send => self.udp_send(ev, id, &dgrams, flags),
            Way::Receive => self.udp_recv(ev, id, &dgrams, 0, flags, None),
        }
    }

    /// sendfile / splice: bytes move, content unknown.
    pub(in crate::model) fn copy_file(
        &mut self,
        ev: &SocketEvent,
        out_fd: Fd,
        in_fd: Fd,
    ) -> Verdict {
        let unknown = Payload::new(Vec::new(), true);
        let len = Self::returned_len(ev);
        let flags = MsgFlags::default();
        if let Target::Sock(id, sock) = self.target(ev, out_fd) {
            return match sock.proto {
                Proto::Tcp => self.tcp_send(ev, id, Bytes::of(&unknown, len), flags),
                Proto::Udp => self.unsupported_call(ev, "sendfile to a UDP socket"),
            };
        }
        if let Target::Sock(id, sock) = self.target(ev, in_fd) {
            return match sock.proto {
                Proto::Tcp => self.tcp_recv(ev, id, Bytes::of(&unknown, len), len, flags, false),
                Proto::Udp => self.unsupported_call(ev, "splice from a UDP socket"),
            };
        }
        self.unobserved_peer_error(ev, out_fd, Way::Send)
            .or_else(|| self.unobserved_peer_error(ev, in_fd, Way::Receive))
            .unwrap_or(Verdict::NotModelled)
    }
}
