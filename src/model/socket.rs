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

/// Socket life cycle, the phase of a socket's [state](Socket::state). Displayed in the original
/// tool's words (`BINDED`, `PENDING`), so orders and reports read like its logs.
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

/// A socket's state, each with what belongs to it alone: leaving the state drops it.
#[derive(Debug, Clone)]
enum State {
    Created,
    Bound,
    /// A TCP listener (boxed: listeners are few, sockets many).
    Listen(Box<Listener>),
    /// A connect in progress; `queued`: its connection, once it reached a listener's queue
    /// (the kernel sent the SYN with the connect call).
    Connecting {
        queued: Option<ConnId>,
    },
    /// `conn`: the connection it is one end of (none when the other end is outside the model).
    Connected {
        conn: Option<ConnId>,
    },
    Closed,
}

impl State {
    fn phase(&self) -> SockState {
        match self {
            State::Created => SockState::Created,
            State::Bound => SockState::Bound,
            State::Listen(_) => SockState::Listen,
            State::Connecting { .. } => SockState::Connecting,
            State::Connected { .. } => SockState::Connected,
            State::Closed => SockState::Closed,
        }
    }
}

/// What a TCP socket has while it listens.
#[derive(Debug, Clone)]
struct Listener {
    /// Connections waiting to be accepted, first come first served.
    pending: VecDeque<ConnId>,
    /// Where it started listening.
    listen_loc: Loc,
    /// Its listening period's index in the listen history, ended when it stops listening.
    /// Kept here so that closing one socket does not search every listener the run has seen.
    period: usize,
}

/// What a socket keeps beyond the state it was in: where it bound, and its latest connect, which
/// a blocking connect keeps once connected and a connect to the outside keeps in any state.
#[derive(Debug, Clone, Default)]
struct Setup {
    bind_loc: Option<Loc>,
    /// The target of its connect, and where it was called.
    connect_target: Option<(SocketAddr, Loc)>,
    /// When its connect started, on its trace's clock.
    connect_started: Option<f64>,
    /// A readiness wait reported the socket (writable, error or hang-up) since its connect
    /// began: only then does SO_ERROR 0 say the connect succeeded rather than that it is still
    /// in progress (Linux keeps SO_ERROR 0 while the SYN waits for an answer).
    connect_reported: bool,
    /// When a readiness wait reported an error with a hang-up (POLLERR|POLLHUP) while its
    /// connect was in progress: the attempt had ended in failure, whatever SO_ERROR would say.
    connect_aborted: bool,
    /// A connect with AF_UNSPEC dissolved its association: strace's `-yy` decorations, which
    /// strace looks up once per socket and keeps, show the association before it from then on.
    dissolved: bool,
    /// A readiness wait that blocked for writability timed out while its connect was in
    /// progress, and no wait has reported it since: the handshake had not completed then.
    connect_timed_out: bool,
}

impl Setup {
    fn is_empty(&self) -> bool {
        self.bind_loc.is_none()
            && self.connect_target.is_none()
            && self.connect_started.is_none()
            && !self.connect_reported
            && !self.connect_aborted
            && !self.connect_timed_out
            && !self.dissolved
    }
}

/// A socket the model follows. Kept small, since a run may hold a million open at once: what
/// only some sockets need (options changed from the defaults, a listener's queue, a bind or a
/// connect) is boxed and absent until needed.
#[derive(Debug, Clone)]
pub struct Socket {
    pub id: SockId,
    /// Index of the host (in the topology) the socket lives on.
    pub host: Option<usize>,
    pub local: Option<SocketAddr>,
    pub peer: Option<SocketAddr>,
    /// Options changed from the protocol's defaults (`None`: all defaults).
    options: Option<Box<Options>>,
    /// Its phase changes only through [`Socket::set_state`], its connection through `join`.
    state: State,
    /// `None` until it binds or connects; dropped again when all of it is gone, so that equal
    /// sockets look equal.
    setup: Option<Box<Setup>>,
    pub proto: Proto,
    pub ipv6: bool,
    pub nonblock: Nonblock,
    /// Talks to an endpoint outside the modelled world: later calls are not modelled.
    pub external: bool,
    /// Whether the socket is in the bind index (explicitly bound, or auto-bound by listen).
    pub in_bind_index: bool,
    /// Returned by accept: the server end of its connection.
    pub accepted: bool,
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
            options: None,
            state: State::Created,
            setup: None,
            proto,
            ipv6,
            nonblock: Nonblock::default(),
            external: false,
            in_bind_index: false,
            accepted: false,
        }
    }

    /// A socket accept returned: born connected, with the listener's options and address. Its
    /// connection, when the model has one, comes through [`Socket::join`].
    pub fn accepted(id: SockId, listener: &Socket, peer: Option<SocketAddr>) -> Self {
        let mut accepted = Socket::new(id, listener.host, Proto::Tcp, listener.ipv6);
        accepted.options = listener.options.clone();
        accepted.local = listener.local;
        accepted.peer = peer;
        accepted.state = State::Connected { conn: None };
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

    /// TCP: the connection this socket is one end of, established or queued at a listener
    /// while its connect is in progress.
    pub fn conn(&self) -> Option<ConnId> {
        match self.state {
            State::Connecting { queued: conn } | State::Connected { conn } => conn,
            _ => None,
        }
    }

    /// Makes it one end of `conn`: an accepted socket, or a client whose connect reached a
    /// listener's queue. A client not yet connecting is from now on (a blocking connect is
    /// completed by its return).
    pub fn join(
        &mut self,
        conn: ConnId,
        ev: &SocketEvent,
        listen_history: &mut Vec<ListenerRecord>,
    ) {
        if !self.is_connecting_or_connected() {
            self.set_state(SockState::Connecting, ev, listen_history);
        }
        if let State::Connecting { queued: c } | State::Connected { conn: c } = &mut self.state {
            *c = Some(conn);
        }
    }

    /// TCP listener: connections waiting to be accepted, first come first served.
    pub fn pending(&self) -> &VecDeque<ConnId> {
        match &self.state {
            State::Listen(l) => &l.pending,
            _ => &NO_PENDING,
        }
    }

    fn listener_mut(&mut self) -> Option<&mut Listener> {
        match &mut self.state {
            State::Listen(l) => Some(l),
            _ => None,
        }
    }

    /// Queues a connection at this listener.
    pub fn push_pending(&mut self, conn: ConnId) {
        if let Some(l) = self.listener_mut() {
            l.pending.push_back(conn);
        }
    }

    /// Withdraws `conn` from the queue (its connect failed).
    pub fn withdraw_pending(&mut self, conn: ConnId) {
        if let Some(l) = self.listener_mut() {
            l.pending.retain(|c| *c != conn);
        }
    }

    /// Takes the connection at `position` in the queue (accept).
    pub fn remove_pending(&mut self, position: usize) -> Option<ConnId> {
        self.listener_mut()?.pending.remove(position)
    }

    /// Empties the listener's queue (its close resets what was waiting there).
    pub fn take_pending(&mut self) -> VecDeque<ConnId> {
        self.listener_mut()
            .map(|l| std::mem::take(&mut l.pending))
            .unwrap_or_default()
    }

    pub fn bind_loc(&self) -> Option<Loc> {
        self.setup.as_ref().and_then(|s| s.bind_loc)
    }

    /// Whether a connect with AF_UNSPEC dissolved the socket's association (see `Setup`).
    pub fn dissolved(&self) -> bool {
        self.setup.as_ref().is_some_and(|s| s.dissolved)
    }

    pub fn set_dissolved(&mut self) {
        self.setup.get_or_insert_with(Box::default).dissolved = true;
    }

    pub fn set_bind_loc(&mut self, loc: Loc) {
        self.setup.get_or_insert_with(Box::default).bind_loc = Some(loc);
    }

    /// A listener: where it started listening.
    pub fn listen_loc(&self) -> Option<Loc> {
        match &self.state {
            State::Listen(l) => Some(l.listen_loc),
            _ => None,
        }
    }

    /// The socket is the client end of a connection its program's connect completed.
    pub fn connected_as_client(&self) -> bool {
        !self.accepted && self.connect_target().is_none() && self.peer.is_some()
    }

    /// TCP: the target of its connect, and where it was called; kept while the connect is in
    /// progress, and after a blocking one completed.
    pub fn connect_target(&self) -> Option<(SocketAddr, Loc)> {
        self.setup.as_ref().and_then(|s| s.connect_target)
    }

    /// A new connect target (or none) starts over: no wait has reported it yet.
    pub fn set_connect_target(&mut self, target: Option<(SocketAddr, Loc)>) {
        self.change_setup(|s| {
            s.connect_target = target;
            s.connect_reported = false;
            s.connect_aborted = false;
            s.connect_timed_out = false;
        });
    }

    /// A wait that blocked for writability timed out while the connect was in progress (see
    /// `Setup::connect_timed_out`).
    pub fn connect_timed_out(&self) -> bool {
        self.setup.as_ref().is_some_and(|s| s.connect_timed_out)
    }

    pub fn note_connect_timed_out(&mut self) {
        if self.connect_target().is_some() {
            self.change_setup(|s| s.connect_timed_out = true);
        }
    }

    /// A readiness wait reported the socket since its connect began (see `Setup`).
    pub fn connect_reported(&self) -> bool {
        self.setup.as_ref().is_some_and(|s| s.connect_reported)
    }

    /// Notes a readiness report on a socket whose connect is in progress; `aborted`: it was an
    /// error with a hang-up (see `Setup::connect_aborted`).
    pub fn note_connect_reported(&mut self, aborted: bool) {
        if self.connect_target().is_some() {
            self.change_setup(|s| {
                s.connect_reported = true;
                s.connect_aborted |= aborted;
                s.connect_timed_out = false;
            });
        }
    }

    /// A wait reported its connect in progress ended with an error and a hang-up.
    pub fn connect_aborted(&self) -> bool {
        self.setup.as_ref().is_some_and(|s| s.connect_aborted)
    }

    pub fn take_connect_target(&mut self) -> Option<(SocketAddr, Loc)> {
        let mut target = None;
        self.change_setup(|s| target = s.connect_target.take());
        target
    }

    /// TCP: when its connect started, on its trace's clock.
    pub fn connect_started(&self) -> Option<f64> {
        self.setup.as_ref().and_then(|s| s.connect_started)
    }

    pub fn set_connect_started(&mut self, started: Option<f64>) {
        self.change_setup(|s| s.connect_started = started);
    }

    /// Changes the setup record, allocating it only to hold something and dropping it once
    /// empty.
    fn change_setup(&mut self, change: impl FnOnce(&mut Setup)) {
        match &mut self.setup {
            Some(setup) => {
                change(setup);
                if setup.is_empty() {
                    self.setup = None;
                }
            }
            None => {
                let mut setup = Setup::default();
                change(&mut setup);
                if !setup.is_empty() {
                    self.setup = Some(Box::new(setup));
                }
            }
        }
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
        self.state.phase()
    }

    /// Every change of state passes here, with what the outcome keeps of it: starting to listen
    /// opens a listening period in `listen_history`, to stop listening (by closing, as a rule)
    /// ends it. A connection stays with a connect in progress that completes; what belongs to
    /// the state left is dropped.
    pub fn set_state(
        &mut self,
        to: SockState,
        ev: &SocketEvent,
        listen_history: &mut Vec<ListenerRecord>,
    ) {
        // Staying changes nothing: transfers confirm a connected socket's state at every call.
        if self.state.phase() == to {
            return;
        }
        let next = match to {
            SockState::Created => State::Created,
            SockState::Bound => State::Bound,
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
                let period = listen_history.len();
                listen_history.push(ListenerRecord {
                    sock: self.id,
                    local: self.local_or_any(),
                    v6only: self.options().v6only,
                    listen,
                    close: None,
                    close_context: ProgramContext::Running,
                });
                State::Listen(Box::new(Listener {
                    pending: VecDeque::new(),
                    listen_loc: ev.call.loc,
                    period,
                }))
            }
            SockState::Connecting => State::Connecting {
                queued: self.conn(),
            },
            SockState::Connected => State::Connected { conn: self.conn() },
            SockState::Closed => State::Closed,
        };
        if let State::Listen(left) = std::mem::replace(&mut self.state, next) {
            if let Some(record) = listen_history.get_mut(left.period) {
                record.close = Some(CallSpan::of(&ev.call));
                record.close_context = ev.context;
            }
        }
    }

    /// A listener: the index in the listen history of its listening period.
    pub fn listen_period(&self) -> Option<usize> {
        match &self.state {
            State::Listen(l) => Some(l.period),
            _ => None,
        }
    }

    pub fn is_open(&self) -> bool {
        !matches!(self.state, State::Closed)
    }

    pub fn is_listening(&self) -> bool {
        matches!(self.state, State::Listen(_))
    }

    /// A connect is in progress.
    pub fn is_connecting(&self) -> bool {
        matches!(self.state, State::Connecting { .. })
    }

    pub fn is_connected(&self) -> bool {
        matches!(self.state, State::Connected { .. })
    }

    /// Connecting or connected: a connect has begun, or accept made it.
    pub fn is_connecting_or_connected(&self) -> bool {
        matches!(
            self.state,
            State::Connecting { .. } | State::Connected { .. }
        )
    }

    /// Bound by its program, or listening (bound by listen itself if not).
    pub fn is_bound_or_listening(&self) -> bool {
        matches!(self.state, State::Bound | State::Listen(_))
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
        !matches!(self.state, State::Created | State::Bound) || self.proto == Proto::Udp
    }

    /// A listener, or one end of a connection that exists (established, or queued at a listener
    /// while the connect is in progress): closing it is seen by another trace.
    pub fn is_live_stream(&self) -> bool {
        match self.state {
            State::Listen(_) | State::Connected { .. } => true,
            State::Connecting { queued } => queued.is_some(),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run may hold a million sockets: the data its state carries keeps it at the 136 bytes
    /// it took with that data in loose fields.
    #[test]
    fn a_socket_stays_small() {
        assert!(std::mem::size_of::<Socket>() <= 136);
    }
}
