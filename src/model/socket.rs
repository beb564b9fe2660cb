//! One modelled socket: its kind, addresses, state and options.

use std::collections::VecDeque;
use std::fmt;
use std::net::SocketAddr;

use super::options::{Nonblock, Options};
use super::outcome::{CallSpan, ListenerRecord};
use super::tcp::ConnId;
use crate::fold::SocketEvent;
use crate::source::{Loc, SockId};

/// An IPv4-mapped IPv6 address (`::ffff:10.0.0.2`) as the IPv4 address it stands for: a dual
/// stack socket reports IPv4 peers that way, and matching compares the real addresses.
pub fn unmapped(addr: SocketAddr) -> SocketAddr {
    match addr {
        SocketAddr::V6(a) => match a.ip().to_ipv4_mapped() {
            Some(v4) => SocketAddr::from((v4, a.port())),
            None => addr,
        },
        v4 => v4,
    }
}

/// The IPv4 or IPv6 address of a decoded sockaddr, unmapped.
pub fn inet_of(addr: &crate::parse::SockAddr) -> Option<SocketAddr> {
    addr.inet().map(unmapped)
}

/// Transport of a modelled socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Proto {
    Tcp,
    Udp,
}

/// Socket life cycle. Displayed in the original tool's words (`BINDED`, `PENDING`), so orders
/// and reports read like its logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SockState {
    Created,
    Bound,
    Listen,
    /// A nonblocking connect is in progress (EINPROGRESS seen, completion not yet).
    Connecting,
    Connected,
    Closed,
}

impl fmt::Display for SockState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SockState::Created => "CREATED",
            SockState::Bound => "BINDED",
            SockState::Listen => "LISTEN",
            SockState::Connecting => "PENDING",
            SockState::Connected => "CONNECTED",
            SockState::Closed => "CLOSED",
        })
    }
}

/// A socket the model follows.
#[derive(Debug, Clone)]
pub struct Socket {
    pub id: SockId,
    /// Index of the host (in the topology) the socket lives on.
    pub host: Option<usize>,
    pub proto: Proto,
    pub ipv6: bool,
    pub local: Option<SocketAddr>,
    pub peer: Option<SocketAddr>,
    /// Changed only through [`Socket::set_state`].
    state: SockState,
    pub nonblock: Nonblock,
    pub options: Options,
    /// Talks to an endpoint outside the modelled world: later calls are not modelled.
    pub external: bool,
    /// Whether the socket is in the bind index (explicitly bound, or auto-bound by listen).
    pub in_bind_index: bool,
    /// TCP: the connection this socket is one end of.
    pub conn: Option<ConnId>,
    /// TCP listener: connections waiting to be accepted, first come first served.
    pub pending: VecDeque<ConnId>,
    /// TCP connecting socket: the target of the connect in progress.
    pub connect_target: Option<(SocketAddr, Loc)>,
    /// TCP connecting socket: when its connect started, on its trace's clock.
    pub connect_started: Option<f64>,
    pub bind_loc: Option<Loc>,
    pub listen_loc: Option<Loc>,
    pub close_loc: Option<Loc>,
    /// Indexes in the listen history of this socket's listening periods still open, so that
    /// closing one socket does not search every listener the run has seen.
    open_listen_records: Vec<usize>,
}

impl Socket {
    pub fn new(id: SockId, host: Option<usize>, proto: Proto, ipv6: bool) -> Self {
        Socket {
            id,
            host,
            proto,
            ipv6,
            local: None,
            peer: None,
            state: SockState::Created,
            nonblock: Nonblock::default(),
            options: match proto {
                Proto::Tcp => Options::for_tcp(),
                Proto::Udp => Options::for_udp(),
            },
            external: false,
            in_bind_index: false,
            conn: None,
            pending: VecDeque::new(),
            connect_target: None,
            connect_started: None,
            bind_loc: None,
            listen_loc: None,
            close_loc: None,
            open_listen_records: Vec::new(),
        }
    }

    /// A socket accept returned: born connected, with the listener's options and address.
    pub fn accepted(id: SockId, listener: &Socket, peer: Option<SocketAddr>) -> Self {
        let mut accepted = Socket::new(id, listener.host, Proto::Tcp, listener.ipv6);
        accepted.options = listener.options.clone();
        accepted.local = listener.local;
        accepted.peer = peer;
        accepted.state = SockState::Connected;
        accepted
    }

    /// The local address to match peers against (unknown → unspecified, any port).
    pub fn local_or_any(&self) -> SocketAddr {
        self.local.unwrap_or_else(|| {
            if self.ipv6 {
                SocketAddr::from((std::net::Ipv6Addr::UNSPECIFIED, 0))
            } else {
                SocketAddr::from((std::net::Ipv4Addr::UNSPECIFIED, 0))
            }
        })
    }

    pub fn state(&self) -> SockState {
        self.state
    }

    /// Every change of state passes here, with what the outcome keeps of it: starting to listen
    /// opens a listening period in `listen_history`, closing ends the socket's open period.
    pub fn set_state(
        &mut self,
        to: SockState,
        ev: &SocketEvent,
        listen_history: &mut Vec<ListenerRecord>,
    ) {
        match to {
            SockState::Listen => {
                self.open_listen_records.push(listen_history.len());
                listen_history.push(ListenerRecord {
                    sock: self.id,
                    local: self.local_or_any(),
                    v6only: self.options.v6only,
                    listen: CallSpan::of(&ev.call),
                    close: None,
                });
            }
            SockState::Closed => {
                for index in self.open_listen_records.drain(..) {
                    if let Some(record) = listen_history.get_mut(index) {
                        record.close = Some(CallSpan::of(&ev.call));
                    }
                }
            }
            _ => {}
        }
        self.state = to;
    }

    pub fn is_open(&self) -> bool {
        self.state != SockState::Closed
    }

    pub fn is_tcp(&self) -> bool {
        self.proto == Proto::Tcp
    }

    /// Followed by the model: not talking to an endpoint outside the modelled world.
    pub fn is_modelled(&self) -> bool {
        !self.external
    }

    /// Can anything arrive for it? Any UDP socket can get a datagram; a TCP socket only once
    /// it listens or connects.
    pub fn can_receive(&self) -> bool {
        !matches!(self.state, SockState::Created | SockState::Bound) || self.proto == Proto::Udp
    }

    /// A listener, or one end of a connection that exists (established, or queued at a listener
    /// while the connect is in progress): closing it is seen by another trace.
    pub fn is_live_stream(&self) -> bool {
        self.state == SockState::Listen
            || self.state == SockState::Connected
            || (self.state == SockState::Connecting && self.conn.is_some())
    }
}
