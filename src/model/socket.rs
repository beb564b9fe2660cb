//! One modelled socket: its kind, addresses, state and options.

use std::collections::VecDeque;
use std::fmt;
use std::net::SocketAddr;

use super::options::{Nonblock, Options};
use super::outcome::{CallSpan, ListenerRecord};
use super::tcp::ConnId;
use crate::fold::{ProgramContext, SocketEvent, SyntheticReason};
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

/// A socket the model follows. Kept small, since a run may hold a million open at once: what
/// only some sockets need (options changed from the defaults, a listener's queue, a connect in
/// progress) is boxed and absent until needed.
#[derive(Debug, Clone)]
pub struct Socket {
    pub id: SockId,
    /// Index of the host (in the topology) the socket lives on.
    pub host: Option<usize>,
    pub local: Option<SocketAddr>,
    pub peer: Option<SocketAddr>,
    /// TCP: the connection this socket is one end of.
    pub conn: Option<ConnId>,
    /// Options changed from the protocol's defaults (`None`: all defaults).
    options: Option<Box<Options>>,
    /// Where it bound and, as a TCP listener, its queue and listening periods (`None` before
    /// it binds or listens).
    listening: Option<Box<Listening>>,
    /// TCP connecting socket: its connect (`None` before it first connects).
    connecting: Option<Box<Connecting>>,
    pub proto: Proto,
    pub ipv6: bool,
    /// Changed only through [`Socket::set_state`].
    state: SockState,
    pub nonblock: Nonblock,
    /// Talks to an endpoint outside the modelled world: later calls are not modelled.
    pub external: bool,
    /// Whether the socket is in the bind index (explicitly bound, or auto-bound by listen).
    pub in_bind_index: bool,
    /// Returned by accept: the server end of its connection.
    pub accepted: bool,
}

/// What a socket keeps once it has bound or listened.
#[derive(Debug, Clone, Default)]
struct Listening {
    bind_loc: Option<Loc>,
    /// Connections waiting to be accepted, first come first served.
    pending: VecDeque<ConnId>,
    listen_loc: Option<Loc>,
    /// Indexes in the listen history of this socket's listening periods still open, so that
    /// closing one socket does not search every listener the run has seen. A socket listens
    /// once, as a rule: the first index needs no allocation of its own.
    open_listen_record: Option<usize>,
    more_open_listen_records: Vec<usize>,
}

/// What a TCP socket keeps once it has connected.
#[derive(Debug, Clone, Default)]
struct Connecting {
    /// The target of the connect in progress, and where it was called.
    target: Option<(SocketAddr, Loc)>,
    /// When its connect started, on its trace's clock.
    started: Option<f64>,
}

/// Defaults, lent to sockets that changed none.
static TCP_DEFAULTS: Options = Options::for_tcp();
static UDP_DEFAULTS: Options = Options::for_udp();
static NO_PENDING: VecDeque<ConnId> = VecDeque::new();

impl Socket {
    pub fn new(id: SockId, host: Option<usize>, proto: Proto, ipv6: bool) -> Self {
        Socket {
            id,
            host,
            local: None,
            peer: None,
            conn: None,
            options: None,
            listening: None,
            connecting: None,
            proto,
            ipv6,
            state: SockState::Created,
            nonblock: Nonblock::default(),
            external: false,
            in_bind_index: false,
            accepted: false,
        }
    }

    /// A socket accept returned: born connected, with the listener's options and address.
    pub fn accepted(id: SockId, listener: &Socket, peer: Option<SocketAddr>) -> Self {
        let mut accepted = Socket::new(id, listener.host, Proto::Tcp, listener.ipv6);
        accepted.options = listener.options.clone();
        accepted.local = listener.local;
        accepted.peer = peer;
        accepted.state = SockState::Connected;
        accepted.accepted = true;
        accepted
    }

    pub fn options(&self) -> &Options {
        match (&self.options, self.proto) {
            (Some(own), _) => own,
            (None, Proto::Tcp) => &TCP_DEFAULTS,
            (None, Proto::Udp) => &UDP_DEFAULTS,
        }
    }

    pub fn set_options(&mut self, options: Options) {
        let defaults = match self.proto {
            Proto::Tcp => &TCP_DEFAULTS,
            Proto::Udp => &UDP_DEFAULTS,
        };
        self.options = (options != *defaults).then(|| Box::new(options));
    }

    /// TCP listener: connections waiting to be accepted, first come first served.
    pub fn pending(&self) -> &VecDeque<ConnId> {
        self.listening.as_ref().map_or(&NO_PENDING, |l| &l.pending)
    }

    /// Queues a connection at this listener.
    pub fn push_pending(&mut self, conn: ConnId) {
        self.listening
            .get_or_insert_with(Box::default)
            .pending
            .push_back(conn);
    }

    /// Withdraws `conn` from the queue (its connect failed).
    pub fn withdraw_pending(&mut self, conn: ConnId) {
        if let Some(l) = self.listening.as_mut() {
            l.pending.retain(|c| *c != conn);
        }
    }

    /// Takes the connection at `position` in the queue (accept).
    pub fn remove_pending(&mut self, position: usize) -> Option<ConnId> {
        self.listening.as_mut()?.pending.remove(position)
    }

    /// Empties the listener's queue (its close resets what was waiting there).
    pub fn take_pending(&mut self) -> VecDeque<ConnId> {
        self.listening
            .as_mut()
            .map(|l| std::mem::take(&mut l.pending))
            .unwrap_or_default()
    }

    pub fn bind_loc(&self) -> Option<Loc> {
        self.listening.as_ref().and_then(|l| l.bind_loc)
    }

    pub fn set_bind_loc(&mut self, loc: Loc) {
        self.listening.get_or_insert_with(Box::default).bind_loc = Some(loc);
    }

    pub fn listen_loc(&self) -> Option<Loc> {
        self.listening.as_ref().and_then(|l| l.listen_loc)
    }

    pub fn set_listen_loc(&mut self, loc: Loc) {
        self.listening.get_or_insert_with(Box::default).listen_loc = Some(loc);
    }

    /// TCP connecting socket: the target of the connect in progress, and where it was called.
    /// The socket is the client end of a connection its program's connect completed.
    pub fn connected_as_client(&self) -> bool {
        !self.accepted && self.connect_target().is_none() && self.peer.is_some()
    }

    pub fn connect_target(&self) -> Option<(SocketAddr, Loc)> {
        self.connecting.as_ref().and_then(|c| c.target)
    }

    pub fn set_connect_target(&mut self, target: Option<(SocketAddr, Loc)>) {
        match (&mut self.connecting, target) {
            (Some(c), target) => c.target = target,
            (None, None) => {}
            (None, target) => {
                self.connecting = Some(Box::new(Connecting {
                    target,
                    started: None,
                }))
            }
        }
        self.drop_empty_connecting();
    }

    pub fn take_connect_target(&mut self) -> Option<(SocketAddr, Loc)> {
        let target = self.connecting.as_mut().and_then(|c| c.target.take());
        self.drop_empty_connecting();
        target
    }

    /// A socket whose connect data is all gone holds no box, so equal states look equal.
    fn drop_empty_connecting(&mut self) {
        if self
            .connecting
            .as_ref()
            .is_some_and(|c| c.target.is_none() && c.started.is_none())
        {
            self.connecting = None;
        }
    }

    /// TCP connecting socket: when its connect started, on its trace's clock.
    pub fn connect_started(&self) -> Option<f64> {
        self.connecting.as_ref().and_then(|c| c.started)
    }

    pub fn set_connect_started(&mut self, started: Option<f64>) {
        match (&mut self.connecting, started) {
            (Some(c), started) => c.started = started,
            (None, None) => {}
            (None, started) => {
                self.connecting = Some(Box::new(Connecting {
                    target: None,
                    started,
                }))
            }
        }
        self.drop_empty_connecting();
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
                // A socket adopted as a listener was listening before its trace began: when
                // it started is unknown, not the time of the call that revealed it.
                let listen = match ev.synthetic {
                    Some(SyntheticReason::Adopted) => CallSpan {
                        loc: ev.call.loc,
                        start: None,
                        end: None,
                    },
                    _ => CallSpan::of(&ev.call),
                };
                let record = ListenerRecord {
                    sock: self.id,
                    local: self.local_or_any(),
                    v6only: self.options().v6only,
                    listen,
                    close: None,
                    close_context: ProgramContext::Running,
                };
                let listening = self.listening.get_or_insert_with(Box::default);
                if listening.open_listen_record.is_none() {
                    listening.open_listen_record = Some(listen_history.len());
                } else {
                    listening
                        .more_open_listen_records
                        .push(listen_history.len());
                }
                listen_history.push(record);
            }
            SockState::Closed => {
                let (first, more) = self
                    .listening
                    .as_mut()
                    .map(|l| {
                        let more = std::mem::take(&mut l.more_open_listen_records);
                        (l.open_listen_record.take(), more)
                    })
                    .unwrap_or_default();
                for index in first.into_iter().chain(more) {
                    if let Some(record) = listen_history.get_mut(index) {
                        record.close = Some(CallSpan::of(&ev.call));
                        record.close_context = ev.context;
                    }
                }
            }
            _ => {}
        }
        self.state = to;
    }

    /// Indexes in the listen history of this socket's listening periods still open.
    pub fn open_listen_records(&self) -> Vec<usize> {
        self.listening
            .as_ref()
            .map(|l| {
                l.open_listen_record
                    .into_iter()
                    .chain(l.more_open_listen_records.iter().copied())
                    .collect()
            })
            .unwrap_or_default()
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
