//! TCP connection set-up: connect (and its asynchronous completion), listener lookup, accept.

use std::net::SocketAddr;

use super::{ConnId, Connection};
use crate::config::matching::Role;
use crate::fold::SocketEvent;
use crate::model::bind_index::{address_tag, WILDCARD_TAG};
use crate::model::options::Nonblock;
use crate::model::socket::{inet_of, unmapped, Proto, SockState, Socket};
use crate::model::{
    CallSpan, ConnectTiming, DeviationKind, Model, Target, Verdict, WaitKey, EPHEMERAL_PORTS,
};
use crate::parse::{Errno, Fd, SockAddr, Syscall};
use crate::source::SockId;

/// How a connect in progress completes.
pub(in crate::model) enum Completion {
    /// The connection was queued on a listener when the connect started.
    Queued,
    /// A listener exists now.
    To(SockId, SocketAddr),
    /// Forced: nothing traced listens there; treated as an endpoint outside the model.
    Outside,
}

/// A socket bound to a loopback address talking to another host (Linux: EINVAL). A target of
/// 0.0.0.0 or `::` is this host: Linux connects such a socket to its own loopback.
pub(in crate::model) fn is_loopback_to_external(
    local: Option<SocketAddr>,
    target: SocketAddr,
) -> bool {
    local.is_some_and(|l| l.ip().is_loopback())
        && !target.ip().is_loopback()
        && !target.ip().is_unspecified()
}

/// The errors a connect gets from the path itself (no answer, an ICMP unreachable, a local
/// firewall or policy): evidence about the route even when the target is no traced host's.
const PATH_ERRNOS: [Errno; 5] = [
    Errno::ETIMEDOUT,
    Errno::EHOSTUNREACH,
    Errno::ENETUNREACH,
    Errno::EACCES,
    Errno::EPERM,
];

/// The errors a failed nonblocking connect leaves pending on its socket (a reset answering the
/// SYN, no answer, an ICMP unreachable). Linux keeps that error (`sk_err`) and the next read or
/// write returns it, as SO_ERROR would (socket(7), tcp(7)); EACCES and EPERM come from a local
/// filter at the connect itself, never later.
const ASYNC_CONNECT_ERRNOS: [Errno; 6] = [
    Errno::ECONNREFUSED,
    Errno::ETIMEDOUT,
    Errno::EHOSTUNREACH,
    Errno::ENETUNREACH,
    Errno::EHOSTDOWN,
    Errno::ENETDOWN,
];

/// The error a connect in progress holds when a wait reported its socket and a second connect
/// still returns EALREADY. Linux answers a SYN with a wait's readiness only once the handshake
/// ended; had it connected, the second connect would return 0 (then EISCONN), had it failed
/// hard, the error itself. EALREADY after a report is the third case: an ICMP error answered
/// the SYN while connect still held the socket (a REJECT rule on the local path answers at
/// once), so Linux kept it as a soft error (`sk_err_soft`): the socket stays in SYN_SENT,
/// SO_ERROR returns the error, and connect says EALREADY until the handshake times out.
/// Reproduced with iptables' default REJECT (ICMP port unreachable): select reports the socket
/// writable within a millisecond, connect returns EALREADY, SO_ERROR ECONNREFUSED. Programs
/// that learn a connect's end from a second connect (Perl's IO::Socket::INET with a Timeout)
/// give up there without reading which error; port unreachable, REJECT's default, is taken.
const UNREAD_HANDSHAKE_ERROR: Errno = Errno::ECONNREFUSED;

/// A failed connect whose error was inferred (`UNREAD_HANDSHAKE_ERROR`) says so in its detail.
fn handshake_error_inferred(verdict: Verdict) -> Verdict {
    match verdict {
        Verdict::Deviation(mut d) => {
            d.detail.push_str(
                " (inferred: a wait reported the socket, yet connect still says EALREADY, so an \
                 ICMP error answered the handshake; SO_ERROR would have named it)",
            );
            Verdict::Deviation(d)
        }
        other => other,
    }
}

/// An IPv4 view of the target: a v4 address or a v4-mapped v6 one.
fn is_v4_target(target: SocketAddr) -> bool {
    match target {
        SocketAddr::V4(_) => true,
        SocketAddr::V6(a) => a.ip().to_ipv4_mapped().is_some(),
    }
}

/// Linux's first SYN retransmission timeout (`TCP_TIMEOUT_INIT`, RFC 6298's initial RTO): a
/// connect that failed sooner failed on an answer, not on retries running out (with
/// tcp_syn_retries at its least, 1, those take 3 s). See docs/model.md.
pub(in crate::model) const FIRST_SYN_RETRANSMIT: f64 = 1.0;

impl Model<'_> {
    /// The traced listener a connect to `target` from `client` reaches (lowest socket id among
    /// matches, so the choice never depends on hash order).
    pub(in crate::model) fn find_listener(
        &self,
        client: SockId,
        target: SocketAddr,
    ) -> Option<SockId> {
        self.find_listener_where(client, target, false)
    }

    fn find_listener_where(
        &self,
        client: SockId,
        target: SocketAddr,
        ignore_v6only: bool,
    ) -> Option<SockId> {
        let client_v6 = self.sockets.get(&client).is_some_and(|s| s.ipv6);
        let fits = |id: &SockId| {
            let Some(l) = self.sockets.get(id) else {
                return false;
            };
            if !l.is_listening() || l.external {
                return false;
            }
            let v4_peer = !client_v6 || is_v4_target(target);
            if v4_peer && l.ipv6 && l.options().v6only && !ignore_v6only {
                return false;
            }
            if !l.ipv6 && client_v6 && !is_v4_target(target) {
                return false;
            }
            // A listener bound to port 0 has the port the kernel chose at bind, from the
            // ephemeral range; unless a call showed it, it is unknown here, but a connect to a
            // port outside that range is meant for another listener. (A listener adopted without
            // its address, its port learnt from what it accepts, was bound by no traced call.)
            let chosen_by_kernel = l.bind_loc().is_some() && l.local.is_some_and(|a| a.port() == 0);
            if chosen_by_kernel && !EPHEMERAL_PORTS.contains(&target.port()) {
                return false;
            }
            self.can_be(*id, l.local_or_any(), client.trace, target, Role::Server)
        };
        let target_ip = target.ip().to_canonical();
        // A listener on another specific address cannot be reached at the target unless a NAT
        // maps it: pass it over without fetching its socket (a port listened on at thousands
        // of addresses would otherwise cost a socket lookup each). Different tags mean different
        // addresses; tag 0 may be a wildcard. A listener's address is stable here: it changes
        // only while its port is 0.
        let target_tag = address_tag(target_ip);
        let elsewhere = |tag: &u32| {
            target.port() != 0
                && !target_ip.is_unspecified()
                && *tag != WILDCARD_TAG
                && *tag != target_tag
                && (target_ip.is_loopback() || !self.matcher.is_nat_public(target_ip))
        };
        let by_port = self.listeners_by_port.get(&target.port());
        if let Some((found, _)) =
            by_port.and_then(|set| set.iter().find(|(id, ip)| !elsewhere(ip) && fits(id)))
        {
            return Some(*found);
        }
        // A NAT or port forward may map the port: try every listener (listeners are few).
        self.listeners.iter().find(|id| fits(id)).copied()
    }

    pub(in crate::model) fn connect(
        &mut self,
        ev: &SocketEvent,
        fd: Fd,
        addr: &SockAddr,
    ) -> Verdict {
        if let Some(id) = self.outside_connect_in_progress(ev, fd) {
            // A second connect on the socket reports how the first one ended.
            let errno = self.second_connect_errno(id, ev.call.outcome.errno);
            let ended = self.outside_connect_ended(ev, id, errno);
            return if errno == ev.call.outcome.errno {
                ended
            } else {
                handshake_error_inferred(ended)
            };
        }
        let (id, sock) = match self.target(ev, fd) {
            Target::Sock(id, s) => (id, s),
            Target::Skip(v) => return v,
        };
        let target = match addr {
            SockAddr::Inet(a) => unmapped(*a),
            SockAddr::Unspec if sock.proto == Proto::Tcp => return self.disconnect_stream(ev, id),
            SockAddr::Unspec => return self.dissolve_association(id),
            _ => return Verdict::NotModelled,
        };
        if sock.proto == Proto::Udp {
            return self.udp_connect(ev, id, target);
        }
        let deferred = Self::deferred_connect(ev, sock);
        if self.matcher.is_unobserved(target) {
            return self.connect_outside(ev, id, target, deferred);
        }
        let state = sock.state();
        if !sock.is_connecting_or_connected() {
            if let Some(s) = self.sockets.get_mut(&id) {
                s.set_connect_started(ev.call.time);
            }
        }
        match ev.call.outcome.errno {
            Some(e) if e == Errno::EINPROGRESS || e == Errno::EALREADY || e.is_restart() => {
                if state == SockState::Connecting {
                    return match self.second_connect_errno(id, Some(e)) {
                        Some(e) if e == UNREAD_HANDSHAKE_ERROR => {
                            self.handshake_error_unread(ev, id)
                        }
                        _ => Verdict::Accept,
                    };
                }
                // An interrupted blocking connect goes on in the background: not a would-block.
                self.start_connecting(ev, id, target, e.is_restart())
            }
            Some(Errno::EISCONN) => match state {
                SockState::Connected => Verdict::Accept,
                SockState::Connecting => self.complete_connect(ev, id),
                _ => self.unexpected_failure(ev, id, Errno::EISCONN),
            },
            Some(e) if e.is_would_block() => self.would_block(ev, id, false, 0),
            Some(e) => {
                if let Some(s) = self.sockets.get_mut(&id) {
                    s.set_connect_target(Some((target, ev.call.loc)));
                }
                self.connect_failed(ev, id, e)
            }
            None => match state {
                SockState::Connecting => self.complete_connect(ev, id),
                SockState::Connected => self.deviate(
                    DeviationKind::UnexpectedSuccess,
                    ev,
                    id,
                    Vec::new(),
                    format!("{id} was already connected (Linux: EISCONN)"),
                ),
                // Deferred: the handshake happens with the first send, still to come.
                _ if deferred => self.start_connecting(ev, id, target, true),
                _ => {
                    if let Some(s) = self.sockets.get_mut(&id) {
                        s.set_connect_target(Some((target, ev.call.loc)));
                    }
                    let verdict = self.complete_connect(ev, id);
                    if matches!(verdict, Verdict::RetryLater(_)) {
                        if let Some(s) = self.sockets.get_mut(&id) {
                            s.set_connect_target(None);
                        }
                    }
                    verdict
                }
            },
        }
    }

    /// Whether a successful connect on `sock` may have returned before its handshake: with
    /// TCP_FASTOPEN_CONNECT set, Linux defers the SYN to the first send when it holds a Fast
    /// Open cookie for the server (or the client may send without one, `tcp_fastopen` bit
    /// 0x4), and connect() returns 0 at once (tcp(7); `tcp_fastopen_defer_connect`). That
    /// send then reports the connect's failure: write() = -1 ECONNREFUSED after connect() = 0
    /// (`capi/tfoc-refused`). Without a cookie the connect is an ordinary one that returned
    /// once connected; taking it as in progress until the first transfer loses nothing, since
    /// a successful send or receive completes it.
    fn deferred_connect(ev: &SocketEvent, sock: &Socket) -> bool {
        ev.call.outcome.is_success()
            && sock.proto == Proto::Tcp
            && sock.options().fastopen_connect
            && !sock.is_connecting_or_connected()
    }

    /// A connect to `target`, outside the modelled world: the socket becomes external, except
    /// for the failures that tell about the route or the target's host. `deferred`: it
    /// returned before its handshake (TCP_FASTOPEN_CONNECT), so its outcome comes later.
    fn connect_outside(
        &mut self,
        ev: &SocketEvent,
        id: SockId,
        target: SocketAddr,
        deferred: bool,
    ) -> Verdict {
        if let Some(errno) = ev
            .call
            .outcome
            .errno
            .filter(|e| self.tells_outside(target, *e))
        {
            return self.outside_connect_failed(ev, id, target, errno);
        }
        self.note_unknown_peer(ev, target);
        let in_progress = ev
            .call
            .outcome
            .errno
            .is_some_and(|e| e == Errno::EINPROGRESS || e.is_restart())
            || deferred;
        if let Some(s) = self.sockets.get_mut(&id) {
            s.external = true;
            s.peer = Some(target);
            s.set_connect_started(ev.call.time);
            // Its outcome comes later, through SO_ERROR or a second connect; a blocking one
            // that succeeded is timed now, on this trace's clock alone.
            s.set_connect_target(Some((target, ev.call.loc)));
        }
        if !in_progress {
            if ev.call.outcome.is_success() {
                self.note_connect_timing(ev, id);
                self.note_first_connection(id.trace, target, ev.call.loc);
            }
            if let Some(s) = self.sockets.get_mut(&id) {
                s.set_connect_target(None);
            }
        }
        Verdict::NotModelled
    }

    /// The connect of `id` ended with an ICMP error the program never read (see
    /// `UNREAD_HANDSHAKE_ERROR`).
    fn handshake_error_unread(&mut self, ev: &SocketEvent, id: SockId) -> Verdict {
        let failed = self.connect_failed(ev, id, UNREAD_HANDSHAKE_ERROR);
        handshake_error_inferred(failed)
    }

    /// What a second connect on `id` returning `errno` says of the first: EALREADY after a
    /// wait reported the socket is the error the handshake holds (`UNREAD_HANDSHAKE_ERROR`).
    fn second_connect_errno(&self, id: SockId, errno: Option<Errno>) -> Option<Errno> {
        let reported = self.sockets.get(&id).is_some_and(|s| s.connect_reported());
        match errno {
            Some(Errno::EALREADY) if reported => Some(UNREAD_HANDSHAKE_ERROR),
            other => other,
        }
    }

    /// Whether a connect to `target`, outside the modelled world, failing with `errno` is a
    /// fact worth reporting: a path error always is; a refusal is the answer of the host that
    /// owns `target` (a reset from its kernel), so it is unless the configuration ignores that
    /// endpoint.
    fn tells_outside(&self, target: SocketAddr, errno: Errno) -> bool {
        PATH_ERRNOS.contains(&errno)
            || (errno == Errno::ECONNREFUSED && !self.matcher.is_ignored(target))
    }

    /// connect(AF_UNSPEC) dissolves a UDP association (connect(2)). Linux also forgets the
    /// source address and port the association chose, unless bind() fixed them: glibc's
    /// getaddrinfo connects a probe socket to each candidate address, reads the source address
    /// the kernel would use, and dissolves the probe before trying the next candidate.
    fn dissolve_association(&mut self, id: SockId) -> Verdict {
        let bound = self
            .sockets
            .get(&id)
            .is_some_and(|s| s.bind_loc().is_some());
        if !bound {
            self.unbind(id);
        }
        if let Some(s) = self.sockets.get_mut(&id) {
            s.peer = None;
            s.set_dissolved();
            if !bound {
                s.local = None;
            }
        }
        Verdict::Accept
    }

    /// connect(AF_UNSPEC) on a TCP socket (connect(2): it dissolves the association): Linux's
    /// `tcp_disconnect` aborts the connection, dropping the bytes still queued and sending a
    /// reset to an established peer, and leaves the socket unconnected, free to connect again
    /// (it also forgets the address and port it chose, unless bind() fixed them). For the
    /// peer this is an abortive close: its next receive says ECONNRESET (`capi/tunspec`).
    fn disconnect_stream(&mut self, ev: &SocketEvent, id: SockId) -> Verdict {
        if !ev.call.outcome.is_success() {
            return Verdict::Accept;
        }
        let Some(sock) = self.sockets.get(&id) else {
            return Verdict::NotModelled;
        };
        let (external, conn, bound) = (sock.external, sock.conn(), sock.bind_loc().is_some());
        if let Some(conn) = conn {
            self.abortive_closes.push(ev.call.loc);
            self.end_connection(ev, id, conn);
        }
        let to = if bound {
            SockState::Bound
        } else {
            self.unbind(id);
            SockState::Created
        };
        if let Some(s) = self.sockets.get_mut(&id) {
            s.set_state(to, ev, &mut self.listen_history);
            s.set_dissolved();
            s.peer = None;
            s.external = false;
            s.set_connect_target(None);
            if !bound {
                s.local = None;
            }
        }
        if external {
            Verdict::NotModelled
        } else {
            Verdict::Accept
        }
    }

    /// The socket `fd` names, when it is a TCP socket whose nonblocking connect to an address
    /// of no traced host is still in progress.
    pub(in crate::model) fn outside_connect_in_progress(
        &self,
        ev: &SocketEvent,
        fd: Fd,
    ) -> Option<SockId> {
        let id = ev.sock(fd)?;
        let s = self.sockets.get(&id)?;
        (s.external && s.proto == Proto::Tcp && s.connect_target().is_some()).then_some(id)
    }

    /// A read or write on a socket whose nonblocking connect is still in progress that fails
    /// with the error a failed connect leaves pending: that is the connect's outcome, read the
    /// way SO_ERROR reads it (libldap polls, then reads one byte and gets ECONNREFUSED).
    /// `None` when the call is anything else.
    pub(in crate::model) fn connect_error_by_transfer(
        &mut self,
        ev: &SocketEvent,
        fd: Fd,
    ) -> Option<Verdict> {
        if ev.call.outcome.is_success() {
            // Linux lets no byte through a socket whose handshake has not completed (a send
            // waits for it, or says EAGAIN): a transfer that succeeded proves the connect to
            // the outside completed.
            if let Some(id) = self.outside_connect_in_progress(ev, fd) {
                let _ = self.outside_connect_ended(ev, id, None);
            }
            return None;
        }
        let errno = ev
            .call
            .outcome
            .errno
            .filter(|e| ASYNC_CONNECT_ERRNOS.contains(e))?;
        if let Some(id) = self.outside_connect_in_progress(ev, fd) {
            return Some(self.outside_connect_ended(ev, id, Some(errno)));
        }
        let id = ev.sock(fd)?;
        let sock = self.sockets.get(&id)?;
        (sock.proto == Proto::Tcp && sock.is_connecting() && sock.connect_target().is_some())
            .then(|| self.connect_failed(ev, id, errno))
    }

    /// A TCP connect in progress that a wait reported ended with an error and a hang-up
    /// (POLLERR|POLLHUP: Linux's state is then CLOSE with an error pending), closed at `ev`
    /// without SO_ERROR read (kinit gives up on its KDC so). When the close comes within
    /// [`FIRST_SYN_RETRANSMIT`] of the connect on the trace's clock, no SYN was sent twice, so
    /// retries running out (ETIMEDOUT) cannot have ended it: an answer did, a reset (a refusal)
    /// or an ICMP rejection, which the program never read apart; it is reported as a refusal.
    /// Later, or without clocks, the connect stays one never seen to complete.
    pub(in crate::model) fn connect_aborted_at_close(
        &mut self,
        ev: &SocketEvent,
        id: SockId,
    ) -> Option<Verdict> {
        let sock = self.sockets.get(&id)?;
        let in_progress = sock.proto == Proto::Tcp
            && (sock.is_connecting() || sock.external)
            && sock.connect_target().is_some();
        if !in_progress || !sock.connect_aborted() {
            return None;
        }
        let external = sock.external;
        let (target, connect) = sock.connect_target()?;
        let elapsed = ev.call.time? - sock.connect_started()?;
        if !(0.0..FIRST_SYN_RETRANSMIT).contains(&elapsed) {
            return None;
        }
        let mut verdict = if external {
            self.outside_connect_ended(ev, id, Some(Errno::ECONNREFUSED))
        } else {
            self.connect_failed(ev, id, Errno::ECONNREFUSED)
        };
        if let Verdict::Deviation(d) = &mut verdict {
            d.detail = format!(
                "connect to {target} (line {}) was reported failed by a wait (error and hang-up) \
                 and closed {:.0} ms after it started, without its error read: refused, or \
                 rejected on the path",
                connect.line,
                elapsed * 1000.0
            );
        }
        Some(verdict)
    }

    /// The nonblocking connect of `id` to an address of no traced host ended with `errno`
    /// (`None`: it succeeded), as SO_ERROR or a second connect reports. A path error is reported
    /// as a blocking connect's would be; EALREADY (or EINPROGRESS again) means still pending.
    pub(in crate::model) fn outside_connect_ended(
        &mut self,
        ev: &SocketEvent,
        id: SockId,
        errno: Option<Errno>,
    ) -> Verdict {
        let still_pending = errno.is_some_and(|e| {
            e == Errno::EALREADY || e == Errno::EINPROGRESS || e.is_restart() || e.is_would_block()
        });
        if still_pending {
            return Verdict::NotModelled;
        }
        if errno.is_none() {
            self.note_connect_timing(ev, id);
        }
        let Some((target, connect)) = self
            .sockets
            .get_mut(&id)
            .and_then(|s| s.take_connect_target())
        else {
            return Verdict::NotModelled;
        };
        if errno.is_none() {
            self.note_first_connection(id.trace, target, connect);
        }
        match errno.filter(|e| self.tells_outside(target, *e)) {
            Some(e) => self.outside_connect_failed(ev, id, target, e),
            None => Verdict::NotModelled,
        }
    }

    /// A connect to an address of no traced host failed with a path error or a refusal: no
    /// traced listener is concerned, so the failure tells about the route or that host.
    fn outside_connect_failed(
        &mut self,
        ev: &SocketEvent,
        id: SockId,
        target: SocketAddr,
        errno: Errno,
    ) -> Verdict {
        self.deviate(
            DeviationKind::ConnectFailed {
                errno,
                target,
                listener: None,
            },
            ev,
            id,
            Vec::new(),
            format!("connect to {target}, an address of no traced host, failed with {errno}"),
        )
    }

    /// Keeps the failed connects' times for
    /// [`ReplayOutcome::failed_connect_spans`](crate::model::ReplayOutcome) (called for every
    /// consumed call): a connect fails through its own return or later through SO_ERROR (or a
    /// second connect). A failure reported later was decided between the connect that sent the
    /// SYN and the call that reported it, so its span runs from that connect's start to the end
    /// of the report (its start, without `-T`): ZeroMQ's I/O thread reads a refusal with SO_ERROR
    /// after an epoll wait, and the wait and the read may straddle the server's listen.
    pub(in crate::model) fn record_failed_connect(&mut self, ev: &SocketEvent, verdict: &Verdict) {
        let Verdict::Deviation(d) = verdict else {
            return;
        };
        if !matches!(d.kind, DeviationKind::ConnectFailed { .. }) {
            return;
        }
        let mut span = CallSpan::of(&ev.call);
        let started = d
            .sock
            .and_then(|id| self.sockets.get(&id))
            .and_then(|s| s.connect_started());
        // The connect's own return starts at the connect: only an earlier start is a report.
        if let (Some(started), Some(reported)) = (started, span.start) {
            if started < reported {
                span.end = span.end.or(span.start);
                span.start = Some(started);
            }
        }
        self.failed_connect_spans.push(span);
    }

    /// A nonblocking connect started: the kernel sends the SYN now, so the connection is queued
    /// on a listener that exists already; otherwise the outcome comes later (SO_ERROR, POLLOUT).
    fn start_connecting(
        &mut self,
        ev: &SocketEvent,
        id: SockId,
        target: SocketAddr,
        interrupted: bool,
    ) -> Verdict {
        let listener = self.find_listener(id, target);
        let local = self.sockets.get(&id).and_then(|s| s.local);
        if let Some(s) = self.sockets.get_mut(&id) {
            s.set_state(SockState::Connecting, ev, &mut self.listen_history);
            s.peer = Some(target);
            s.set_connect_target(Some((target, ev.call.loc)));
        }
        if let Some(listener) = listener {
            self.queue_connection(ev, id, listener, target);
        }
        if is_loopback_to_external(local, target) {
            return self.loopback_deviation(ev, id, local, target);
        }
        if interrupted {
            return Verdict::Accept;
        }
        let timeout = self.sockets.get(&id).map_or(0, |s| s.options().sndtimeo_us);
        // A Fast Open sendto connects with the call's own flags (Linux's
        // tcp_sendmsg_fastopen): with MSG_DONTWAIT it returns EINPROGRESS on a blocking socket.
        let dontwait = matches!(&ev.call.syscall, Syscall::Send { flags, .. } if flags.dontwait);
        self.would_block(ev, id, dontwait, timeout)
    }

    fn loopback_deviation(
        &self,
        ev: &SocketEvent,
        id: SockId,
        local: Option<SocketAddr>,
        peer: SocketAddr,
    ) -> Verdict {
        let local = local.unwrap_or(peer);
        self.deviate(
            DeviationKind::LoopbackBoundExternalPeer { local, peer },
            ev,
            id,
            Vec::new(),
            format!("{id} is bound to {local} but talks to {peer} (Linux: EINVAL)"),
        )
    }

    /// Creates the connection record and queues it on the listener.
    fn queue_connection(
        &mut self,
        ev: &SocketEvent,
        client: SockId,
        listener: SockId,
        target: SocketAddr,
    ) -> ConnId {
        let mut conn = Connection::new(client, Some(listener), ev.call.loc);
        conn.opened_at = ev.call.time;
        conn.record.client_view = (
            self.sockets.get(&client).and_then(|s| s.local),
            Some(target),
        );
        conn.record.server_view.0 = self.sockets.get(&listener).and_then(|s| s.local);
        let conn_id = self.conns.push(conn);
        self.queue_watch_connected(conn_id, listener);
        if let Some(s) = self.sockets.get_mut(&client) {
            s.join(conn_id, ev, &mut self.listen_history);
            s.peer = Some(target);
        }
        if let Some(l) = self.sockets.get_mut(&listener) {
            l.push_pending(conn_id);
        }
        self.touch(WaitKey::Sock(listener));
        conn_id
    }

    pub(in crate::model) fn completion(&self, id: SockId) -> Result<Completion, String> {
        let Some(sock) = self.sockets.get(&id) else {
            return Err("socket unknown".into());
        };
        if sock.conn().is_some() {
            return Ok(Completion::Queued);
        }
        let Some((target, _)) = sock.connect_target() else {
            return Err(format!("{id} has no connect in progress"));
        };
        match self.find_listener(id, target) {
            Some(listener) => Ok(Completion::To(listener, target)),
            None if self.forcing => Ok(Completion::Outside),
            None => Err(format!("no traced socket listens at {target} yet")),
        }
    }

    /// Evidence that a connect completed (success return, SO_ERROR 0, POLLOUT, EISCONN).
    pub(in crate::model) fn complete_connect(&mut self, ev: &SocketEvent, id: SockId) -> Verdict {
        match self.completion(id) {
            Ok(c) => self.apply_completion(ev, id, c),
            Err(reason) => self.wait_for(reason, &[WaitKey::AnyListen]),
        }
    }

    pub(in crate::model) fn apply_completion(
        &mut self,
        ev: &SocketEvent,
        id: SockId,
        c: Completion,
    ) -> Verdict {
        let local = self.sockets.get(&id).and_then(|s| s.local);
        let target = self
            .sockets
            .get(&id)
            .and_then(|s| s.connect_target().map(|t| t.0));
        match c {
            Completion::Queued => {}
            Completion::To(listener, target) => {
                self.queue_connection(ev, id, listener, target);
            }
            Completion::Outside => {
                // `ev` shows the connect completed, and no traced socket listens there: the
                // peer is a process no trace shows, and the connect is over (not in progress).
                self.note_connect_timing(ev, id);
                if let Some(s) = self.sockets.get_mut(&id) {
                    s.external = true;
                    s.peer = target.or(s.peer);
                    s.set_connect_target(None);
                }
                let own_address = local.unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)));
                if target.is_some_and(|t| self.is_own_host_peer(id.trace, own_address, t)) {
                    return self.connected_to_untraced_neighbour();
                }
                let detail = format!(
                    "{id} connected to {} where no traced socket listens; treated as outside",
                    target.map_or("?".into(), |t| t.to_string())
                );
                return self.deviate(DeviationKind::Forced, ev, id, Vec::new(), detail);
            }
        }
        if let Some(s) = self.sockets.get_mut(&id) {
            s.set_state(SockState::Connected, ev, &mut self.listen_history);
        }
        self.note_connect_timing(ev, id);
        match target {
            Some(t) if is_loopback_to_external(local, t) => {
                self.loopback_deviation(ev, id, local, t)
            }
            _ => Verdict::Accept,
        }
    }

    /// Records how long the connect of `id` took, when `ev` (the connect itself, or the
    /// SO_ERROR / EISCONN that reported it) shows its completion and the trace has the times. A
    /// send that completes a connect says nothing of when it completed, so it is left out,
    /// unless a readiness wait reported the socket writable (without an error) before it: the
    /// connect had completed before that wait returned, and the transfer starts after it, so
    /// the transfer's start bounds the completion from above by the program's own wake-up and
    /// handling (microseconds to milliseconds, against the whole second of a SYN
    /// retransmission), as a receive's start bounds an answer's arrival.
    pub(in crate::model) fn note_connect_timing(&mut self, ev: &SocketEvent, id: SockId) {
        let Some(s) = self.sockets.get(&id) else {
            return;
        };
        let Some((_, connect)) = s.connect_target() else {
            return;
        };
        let seconds = if ev.call.loc == connect {
            ev.call.duration
        } else if matches!(
            ev.call.syscall,
            Syscall::Connect { .. } | Syscall::Getsockopt { .. }
        ) || (s.connect_reported()
            && !s.connect_aborted()
            && matches!(ev.call.syscall, Syscall::Send { .. } | Syscall::Recv { .. }))
        {
            ev.call
                .time
                .zip(s.connect_started())
                .map(|(t, start)| t - start)
        } else {
            None
        };
        if let Some(seconds) = seconds.filter(|s| s.is_finite() && *s >= 0.0) {
            if let Some(conn) = self.sockets.get(&id).and_then(|s| s.conn()) {
                self.queue_watch_connect_took(conn, seconds);
            }
            self.connect_timings.push(ConnectTiming {
                sock: id,
                connect,
                shown_by: ev.call.loc,
                seconds,
            });
        }
    }

    /// A connect ended with `errno` (returned directly or through SO_ERROR).
    pub(in crate::model) fn connect_failed(
        &mut self,
        ev: &SocketEvent,
        id: SockId,
        errno: Errno,
    ) -> Verdict {
        let Some(sock) = self.sockets.get(&id) else {
            return Verdict::NotModelled;
        };
        let Some((target, _)) = sock.connect_target() else {
            return self.unexpected_failure(ev, id, errno);
        };
        let local = sock.local;
        // A listener whose port is unknown matches any port: no evidence that it listened
        // where this connect failed.
        let listener = self
            .find_listener(id, target)
            .filter(|l| !self.port_unknown(*l));
        // The failed attempt leaves the socket as it was before connect.
        let back_to = if local.is_some() {
            SockState::Bound
        } else {
            SockState::Created
        };
        let queued = sock.conn();
        if let Some(s) = self.sockets.get_mut(&id) {
            s.set_state(back_to, ev, &mut self.listen_history);
            s.set_connect_target(None);
        }
        if let Some(conn) = queued {
            self.drop_queued(conn);
        }
        if is_loopback_to_external(local, target) {
            return self.loopback_deviation(ev, id, local, target);
        }
        if errno == Errno::ECONNREFUSED && listener.is_none() {
            if let Some(v6only) = self
                .find_listener_where(id, target, true)
                .filter(|l| !self.port_unknown(*l))
            {
                return self.deviate(
                    DeviationKind::IpVersionMismatch,
                    ev,
                    id,
                    self.sockets
                        .get(&v6only)
                        .and_then(|l| l.listen_loc())
                        .into_iter()
                        .collect(),
                    format!("IPv4 connect to {target}, but {v6only} listens IPv6-only"),
                );
            }
        }
        // What the connect call itself may also return: a local filter (EACCES, EPERM), a
        // reset answering the SYN, no source address, a bad address.
        let immediate_errors = [
            Errno::EACCES,
            Errno::EPERM,
            Errno::ECONNRESET,
            Errno::EADDRNOTAVAIL,
            Errno::EINVAL,
        ];
        let known = ASYNC_CONNECT_ERRNOS.contains(&errno) || immediate_errors.contains(&errno);
        if !known {
            return self.unexpected_failure(ev, id, errno);
        }
        let related = listener
            .and_then(|l| self.sockets.get(&l))
            .and_then(|l| l.listen_loc())
            .into_iter()
            .collect();
        let detail = match listener {
            Some(l) => {
                format!("connect to {target} failed with {errno} although {l} listens there")
            }
            None => {
                format!("connect to {target} failed with {errno}; no traced socket listened there when the connect was replayed")
            }
        };
        self.deviate(
            DeviationKind::ConnectFailed {
                errno,
                target,
                listener,
            },
            ev,
            id,
            related,
            detail,
        )
    }

    /// Removes a connection that never got established from its listener's queue.
    pub(in crate::model) fn drop_queued(&mut self, conn: ConnId) {
        let Some(listener) = self.conns.get(conn).and_then(|c| c.record.listener) else {
            return;
        };
        if let Some(l) = self.sockets.get_mut(&listener) {
            l.withdraw_pending(conn);
        }
    }

    /// Position in `listener`'s queue of the first connection that can be from `peer`.
    fn queued_from(
        &self,
        listener: SockId,
        peer: Option<SocketAddr>,
        returned_at: Option<f64>,
    ) -> Option<usize> {
        let queue = self.sockets.get(&listener)?.pending();
        queue
            .iter()
            .position(|conn| self.queued_conn_can_be_from(listener, *conn, peer, returned_at))
    }

    /// Can `conn`, queued on `listener`, be the connection an accept there returned from `peer`
    /// (at `returned_at`, on the server's clock)?
    pub(in crate::model) fn queued_conn_can_be_from(
        &self,
        listener: SockId,
        conn: ConnId,
        peer: Option<SocketAddr>,
        returned_at: Option<f64>,
    ) -> bool {
        let Some(c) = self.conns.get(conn) else {
            return false;
        };
        // Linux queues a connection for accept once its handshake completes, which the client
        // sees first: a connect whose own wait for it timed out was not complete then, and one
        // then closed never completes (Varnish's 2 s connect_timeout on a SYN lost twice).
        let unfinished = self
            .sockets
            .get(&c.record.client)
            .is_some_and(|s| s.is_connecting() && s.connect_timed_out());
        if !self.forcing && unfinished {
            return false;
        }
        // Programs of one host read one clock: a connect that began after the accept returned
        // is not the connection it took.
        let (server, client) = (listener.trace, c.record.client.trace);
        let one_clock = self.host_key(server) == self.host_key(client)
            && self.topology.clocks_comparable(server, client);
        if let (true, Some(opened), Some(returned)) = (one_clock, c.opened_at, returned_at) {
            if opened > returned {
                return false;
            }
        }
        // The client's address as it was when it connected (the client may be closed).
        match (peer, c.record.client_view.0) {
            (Some(p), Some(client_local)) if client_local.port() != 0 => self.can_be(
                c.record.client,
                client_local,
                listener.trace,
                p,
                Role::Client,
            ),
            // Ephemeral port unknown: at least the peer's IP must be the client host's (or
            // nobody's, e.g. a NAT's public address).
            (Some(p), _) => {
                let owners = self.traces_behind(p);
                owners.is_empty() || owners.contains(&c.record.client.trace)
            }
            (None, _) => true,
        }
    }

    /// Other listeners sharing this one's port on the same host through SO_REUSEPORT.
    fn reuseport_siblings(&self, listener: SockId) -> Vec<SockId> {
        let Some(l) = self.sockets.get(&listener) else {
            return Vec::new();
        };
        let Some(port) = l.local.map(|a| a.port()).filter(|p| *p != 0) else {
            return Vec::new();
        };
        if !l.options().reuseport {
            return Vec::new();
        }
        let host = self.host_key(listener.trace);
        self.listeners_by_port
            .get(&port)
            .into_iter()
            .flat_map(|set| set.keys())
            .copied()
            .filter(|other| {
                *other != listener
                    && self.host_key(other.trace) == host
                    && self
                        .sockets
                        .get(other)
                        .is_some_and(|o| o.options().reuseport)
            })
            .collect()
    }

    pub(in crate::model) fn accept(
        &mut self,
        ev: &SocketEvent,
        fd: Fd,
        peer: Option<&SockAddr>,
        nonblock: bool,
        new_fd: Option<Fd>,
    ) -> Verdict {
        let (listener_id, listener) = match self.target(ev, fd) {
            Target::Sock(id, s) => (id, s),
            Target::Skip(v) => return v,
        };
        if let Some(errno) = ev.call.outcome.errno {
            return match errno {
                e if e.is_would_block() => {
                    let timeout = listener.options().rcvtimeo_us;
                    self.would_block(ev, listener_id, false, timeout)
                }
                e if e.is_restart() || e == Errno::ECONNABORTED => Verdict::Accept,
                e => self.unexpected_failure(ev, listener_id, e),
            };
        }
        let Some(new_id) = new_fd.and_then(|fd| ev.sock(fd)) else {
            return Verdict::NotModelled;
        };
        let peer = peer.and_then(inet_of);
        let mut accepted = Socket::accepted(new_id, listener, peer);
        // Linux does not pass O_NONBLOCK on to accepted sockets, BSD and Windows do: remember
        // that the flag only came from the listener.
        accepted.nonblock = if nonblock {
            Nonblock::explicit(true)
        } else if listener.nonblock.on {
            Nonblock {
                on: true,
                inherited: true,
                unknown: false,
            }
        } else {
            Nonblock::default()
        };
        if let Some(p) = peer.filter(|p| self.matcher.is_unobserved(*p)) {
            self.note_unknown_peer(ev, p);
            self.note_inbound_unknown_peer(new_id.trace, p);
            accepted.external = true;
            self.sockets.insert(new_id, Box::new(accepted));
            self.track_unobserved_accept(listener_id, new_id, (ev.call.loc, ev.call.pid));
            return Verdict::NotModelled;
        }
        // When it returned: its start and duration, or, on a nonblocking listener, which
        // cannot wait, its start.
        let returned_at = match ev.call.duration {
            Some(d) => ev.call.time.map(|t| t + d),
            None => ev.call.time.filter(|_| listener.nonblock.on),
        };
        let mut siblings = self.reuseport_siblings(listener_id);
        siblings.extend(self.unknown_port_siblings(listener_id));
        let found = std::iter::once(listener_id)
            .chain(siblings.iter().copied())
            .find_map(|owner| Some((owner, self.queued_from(owner, peer, returned_at)?)))
            .or_else(|| self.queued_elsewhere(listener_id, peer, returned_at));
        let Some((owner, position)) = found else {
            if !self.forcing {
                let reason = match listener.pending().len() {
                    0 => format!("no connection waiting on {listener_id}"),
                    n => format!("none of the {n} connections waiting on {listener_id} is from the accepted peer"),
                };
                let keys: Vec<WaitKey> = std::iter::once(listener_id)
                    .chain(siblings)
                    .map(WaitKey::Sock)
                    .collect();
                return self.wait_for(reason, &keys);
            }
            // Blocked: no traced connect can supply this connection (NAT, port forwarding, or
            // an untraced client).
            let local = listener.local.unwrap_or_else(|| listener.local_or_any());
            accepted.external = true;
            self.sockets.insert(new_id, Box::new(accepted));
            return match peer {
                Some(p) if self.is_own_host_peer(listener_id.trace, local, p) => self
                    .accept_from_untraced_neighbour(
                        listener_id,
                        new_id,
                        (ev.call.loc, ev.call.pid),
                    ),
                Some(p) => {
                    self.note_unknown_peer(ev, p);
                    self.note_inbound_unknown_peer(new_id.trace, p);
                    self.deviate(
                        DeviationKind::AcceptFromUnknownPeer { peer: p, local },
                        ev,
                        new_id,
                        Vec::new(),
                        format!("{listener_id} accepted {p}, which no traced connect matches"),
                    )
                }
                None => self.deviate(
                    DeviationKind::Forced,
                    ev,
                    new_id,
                    Vec::new(),
                    format!("{listener_id} accepted a connection no traced connect matches"),
                ),
            };
        };
        let Some(conn_id) = self
            .sockets
            .get_mut(&owner)
            .and_then(|l| l.remove_pending(position))
        else {
            return Verdict::NotModelled;
        };
        // Bytes may reach a connection before its program accepts it and looks for them.
        self.reading_paused.insert(new_id);
        let target = self.conns.get(conn_id).and_then(|c| c.record.client_view.1);
        if let Some(target) = target {
            if self.learn_listener_port(listener_id, target).is_some() {
                accepted.local = Some(target);
            }
        }
        let mut client = None;
        if let Some(c) = self.conns.get_mut(conn_id) {
            // With SO_REUSEPORT the kernel spreads connections over the listeners: the one
            // that accepted it is the one it went to.
            c.record.listener = Some(listener_id);
            c.record.server = Some(new_id);
            c.record.accept_loc = Some(ev.call.loc);
            c.accepted_at = ev.call.time;
            c.record.server_view = (accepted.local, peer);
            client = Some(c.record.client);
            if accepted.peer.is_none() {
                accepted.peer = c.record.client_view.0;
            }
        }
        accepted.join(conn_id, ev, &mut self.listen_history);
        self.sockets.insert(new_id, Box::new(accepted));
        self.load_accepted(listener_id, conn_id);
        if let Some(client) = client {
            self.touch(WaitKey::Sock(client));
        }
        Verdict::Accept
    }
}
