//! TCP streams: each direction of a connection, and the unreceived-data findings.

use std::net::SocketAddr;

use crate::diagnose::claims::{Claims, Direction};
use crate::diagnose::context::Context;
use crate::diagnose::rule::Rule;
use crate::diagnose::{Evidence, Finding};
use crate::model::{Stream, TcpConnection, SHORT_MESSAGE};
use crate::source::SockId;

use super::deviations::group_by;
use super::refusals::CLOCK_MARGIN_S;

/// A direction of a connection: the stream, its sender and its receiver.
pub(crate) struct StreamView<'a> {
    pub index: usize,
    pub dir: Direction,
    pub connection: &'a TcpConnection,
    pub stream: &'a Stream,
    pub sender: SockId,
    /// None when the connection was never accepted.
    pub receiver: Option<SockId>,
}

impl<'a> StreamView<'a> {
    /// The stream flowing the other way.
    pub fn reverse(&self) -> &'a Stream {
        match self.dir {
            Direction::ToServer => &self.connection.to_client,
            Direction::ToClient => &self.connection.to_server,
        }
    }

    /// The address the client dialled (the server's public address).
    pub fn server_address(&self) -> Option<SocketAddr> {
        self.connection.client_view.1
    }

    /// Where the bytes were sent, else where the connection was set up.
    pub fn evidence(&self, note: &str) -> Vec<Evidence> {
        let mut evidence = Vec::new();
        if let Some(loc) = self.stream.stats.last_send {
            evidence.push(Evidence::new(loc, note));
        }
        evidence.push(Evidence::new(self.connection.connect_loc, "connect"));
        if let Some(loc) = self.connection.accept_loc {
            evidence.push(Evidence::new(loc, "accept"));
        }
        evidence
    }
}

/// Every direction of every connection, in outcome order.
pub(crate) fn streams<'a>(cx: &Context<'a>) -> impl Iterator<Item = StreamView<'a>> {
    cx.outcome.tcp.iter().enumerate().flat_map(|(index, c)| {
        Direction::BOTH.into_iter().map(move |dir| match dir {
            Direction::ToServer => StreamView {
                index,
                dir,
                connection: c,
                stream: &c.to_server,
                sender: c.client,
                receiver: c.server,
            },
            Direction::ToClient => StreamView {
                index,
                dir,
                connection: c,
                stream: &c.to_client,
                sender: c.server.unwrap_or(c.client),
                receiver: c.server.map(|_| c.client),
            },
        })
    })
}

/// Every byte unreceived was sent after the receiver shut down reading: it chose to leave them
/// unread. After, in the replay's order, or by the clocks when the oldest unreceived send came
/// more than the clock margin between hosts after the shutdown (nothing orders a send against
/// the peer's shutdown; their clocks do, roughly). `one_clock`: the sender's and the receiver's
/// times can be set against each other (see `Topology::clocks_comparable`).
pub(crate) fn unread_by_choice(stream: &Stream, one_clock: bool) -> bool {
    let Some(shut) = stream.stats.shut_by_receiver else {
        return false;
    };
    if stream.unreceived() == 0 {
        return false;
    }
    let sent_after = match (shut.at, stream.first_unreceived_time) {
        (Some(shut_at), Some(sent_at)) => one_clock && sent_at > shut_at + CLOCK_MARGIN_S,
        _ => false,
    };
    shut.sent <= stream.stats.received || sent_after
}

/// Only the sender's last short message in direction `dir` went unread, after an exchange both
/// ends completed: the receiver had read everything before it and both ends closed, and
/// everything the receiver sent the other way was received. What is left is at most one short
/// message ([`SHORT_MESSAGE`]): a protocol's goodbye or control frame that crossed the
/// receiver's close (a TLS close_notify, 24 bytes from stunnel when its backend ended; an
/// HTTP/2 GOAWAY or PING acknowledgement from a gRPC server as its client closed the channel),
/// not a response the receiver waited for. Linux answers a close with unread bytes with a
/// reset, so the sender may see ECONNRESET for it. A message sent more than the clock margin
/// between hosts after the receiver had closed (`one_clock`: the two ends' times can be set
/// against each other) did not cross the close: it went to a peer long gone (a server that
/// ended between two requests of a session), a request no goodbye. Nor did a server killed while
/// running (SIGKILL, a crash) complete any exchange: what it left unread is what its death cut.
pub(crate) fn only_closing_message_unread(
    c: &TcpConnection,
    dir: Direction,
    one_clock: bool,
) -> bool {
    let (stream, reverse) = match dir {
        Direction::ToServer => (&c.to_server, &c.to_client),
        Direction::ToClient => (&c.to_client, &c.to_server),
    };
    let shut_at = stream.stats.shut_by_receiver.and_then(|shut| shut.at);
    let sent_long_after_the_close = match (shut_at, stream.first_unreceived_time) {
        (Some(shut_at), Some(sent_at)) => one_clock && sent_at > shut_at + CLOCK_MARGIN_S,
        _ => false,
    };
    let receiver_killed = dir == Direction::ToServer && c.server_killed;
    (1..=SHORT_MESSAGE).contains(&stream.unreceived())
        && !receiver_killed
        && stream.stats.received > 0
        && stream.stats.closed_by_receiver
        && stream.stats.closed_by_sender
        && reverse.stats.sent > 0
        && reverse.unreceived() == 0
        && !sent_long_after_the_close
}

/// The two ends of a connection were traced on clocks whose times can be compared.
pub(crate) fn ends_share_a_clock(cx: &Context, c: &TcpConnection) -> bool {
    c.server
        .is_some_and(|server| cx.topology.clocks_comparable(c.client.trace, server.trace))
}

/// Accepted streams with bytes that never arrived and no earlier rule explaining them. Bytes
/// left to a server killed while running (SIGKILL, a crash) are its death's, neither lost on
/// the way nor left by its program's choice: the sender's own rules report what the death did
/// to it (the reset, the end of stream, the unanswered request).
pub(crate) fn unexplained_unreceived<'a>(cx: &Context<'a>, claims: &Claims) -> Vec<StreamView<'a>> {
    streams(cx)
        .filter(|s| s.receiver.is_some() && s.stream.unreceived() > 0)
        .filter(|s| !(s.dir == Direction::ToServer && s.connection.server_killed))
        .filter(|s| {
            let one_clock = s
                .receiver
                .is_some_and(|r| cx.topology.clocks_comparable(s.sender.trace, r.trace));
            !unread_by_choice(s.stream, one_clock)
        })
        .filter(|s| {
            !only_closing_message_unread(s.connection, s.dir, ends_share_a_clock(cx, s.connection))
        })
        .filter(|s| !claims.stream(s.index, s.dir))
        .collect()
}

/// One finding per (sender trace, receiver trace, dialled address, direction) over streams with
/// unreceived bytes; claims the streams.
pub(crate) fn unreceived_findings(
    cx: &Context,
    claims: &mut Claims,
    rule: &'static Rule,
    selected: Vec<StreamView>,
    describe: impl Fn(&UnreceivedGroup) -> UnreceivedText,
) -> Vec<Finding> {
    let groups = group_by(selected, |s| {
        (
            s.sender.trace,
            s.receiver.map(|r| r.trace),
            s.server_address(),
            s.dir,
        )
    });
    let mut findings = Vec::new();
    for ((sender_trace, receiver_trace, server_address, dir), group) in groups {
        for s in &group {
            claims.claim_stream(s.index, s.dir);
        }
        let summary_of = UnreceivedGroup {
            sender: cx.who(sender_trace),
            receiver: receiver_trace.map_or_else(|| "?".to_string(), |t| cx.who(t)),
            server_address: crate::diagnose::context::addr_or_unknown(server_address),
            direction: dir,
            connections: group.len(),
            sent: group.iter().map(|s| s.stream.stats.sent).sum(),
            unreceived: group.iter().map(|s| s.stream.unreceived()).sum(),
            receiver_closed: group
                .iter()
                .filter(|s| s.stream.stats.closed_by_receiver)
                .count(),
        };
        let text = describe(&summary_of);
        let mut finding = rule.finding(text.summary, text.hint).with_evidence(
            group
                .iter()
                .flat_map(|s| s.evidence("last unreceived send")),
        );
        for s in &group {
            finding = finding.with_fact(format!(
                "{} → {}: {} bytes sent, {} received",
                s.sender,
                s.receiver
                    .map_or_else(|| "?".to_string(), |r| r.to_string()),
                s.stream.stats.sent,
                s.stream.stats.received
            ));
        }
        if summary_of.receiver_closed > 0 {
            finding = finding.with_fact(format!(
                "the receiver closed {} of these connection(s) with the bytes unread",
                summary_of.receiver_closed
            ));
        }
        if let Some(because) = text.because {
            finding = finding.with_fact(because);
        }
        findings.push(finding);
    }
    findings
}

/// A finding's texts for a group of unreceived streams: summary, hint, and the `because: ...`
/// fact that says why the finding has its class, when the rule gives one.
pub(crate) struct UnreceivedText {
    pub summary: String,
    pub hint: String,
    pub because: Option<String>,
}

/// What the unreceived-data rules say about a group of streams.
pub(crate) struct UnreceivedGroup {
    pub sender: String,
    pub receiver: String,
    pub server_address: String,
    pub direction: Direction,
    pub connections: usize,
    pub sent: u64,
    pub unreceived: u64,
    pub receiver_closed: usize,
}

impl UnreceivedGroup {
    /// `host a (trace A) sent 120 bytes ... to host b (trace B) on 1 connection to 10.0.0.2:80`.
    pub fn describe(&self) -> String {
        let side = match self.direction {
            Direction::ToServer => "client → server",
            Direction::ToClient => "server → client",
        };
        format!(
            "{} of {} bytes sent by {} were never received by {} ({} TCP connection(s) to {}, \
             {side})",
            self.unreceived,
            self.sent,
            self.sender,
            self.receiver,
            self.connections,
            self.server_address
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ReadShut;
    use crate::testkit::fixtures::{loc, stream};
    use crate::testkit::rules::accepted;

    /// rpc/tls-healthy--plain, the second connection through stunnel: the client sent 3619
    /// bytes, all read; stunnel sent 4917, the last its 24-byte close_notify as the backend
    /// ended (proxy.trace:581, `write(3<TCP:[10.92.1.1:7443->10.92.1.2:33970]>,
    /// "\27\3\3\0\23...", 24) = 24`); the client had read the 4893 before it and closed
    /// (client.trace:946, `close(3<TCP:[10.92.1.2:33970->10.92.1.1:7443]>) = 0`).
    fn tunnel_connection(sent_back: u64, read_back: u64) -> TcpConnection {
        let mut c = accepted(3619, 3619, 3022);
        c.to_client = stream(sent_back, read_back, 3022, 9, loc(1, 581));
        for s in [&mut c.to_server, &mut c.to_client] {
            s.stats.closed_by_sender = true;
            s.stats.closed_by_receiver = true;
        }
        c
    }

    #[test]
    fn a_goodbye_left_unread_after_a_complete_exchange_is_no_lost_data() {
        let c = tunnel_connection(4917, 4893);
        assert!(only_closing_message_unread(&c, Direction::ToClient, true));
        // The other direction lost nothing: there is nothing to excuse.
        assert!(!only_closing_message_unread(&c, Direction::ToServer, true));
    }

    /// lab/reset-unread--curl--python: the server reads 16 bytes of a 2000-byte request and
    /// closes: far more than one short message is left, a request cut short.
    #[test]
    fn a_request_left_mostly_unread_is_no_goodbye() {
        let mut c = tunnel_connection(120, 120);
        c.to_server = stream(2000, 16, 2000, 1, loc(0, 12));
        c.to_server.stats.closed_by_receiver = true;
        c.to_server.stats.closed_by_sender = true;
        assert!(!only_closing_message_unread(&c, Direction::ToServer, true));
    }

    /// A receiver that read nothing of the direction, or whose own bytes did not all arrive,
    /// had no complete exchange: what it left unread counts.
    #[test]
    fn without_a_complete_exchange_a_short_message_still_counts() {
        assert!(!only_closing_message_unread(
            &tunnel_connection(24, 0),
            Direction::ToClient,
            true
        ));
        let mut c = tunnel_connection(4917, 4893);
        c.to_server.stats.received = 3000;
        assert!(!only_closing_message_unread(&c, Direction::ToClient, true));
        let mut open = tunnel_connection(4917, 4893);
        open.to_client.stats.closed_by_sender = false;
        assert!(!only_closing_message_unread(
            &open,
            Direction::ToClient,
            true
        ));
    }

    /// coord/prosody-killed--xx: Prosody was killed (its end closed at 30.887713, server.trace:1775
    /// `+++ killed by SIGKILL +++`); the client sent its 77-byte ping two seconds later, by
    /// the clock both namespaces share. A request sent to a peer long gone crossed no close.
    #[test]
    fn a_message_sent_long_after_the_receivers_close_is_no_goodbye() {
        let mut c = tunnel_connection(4917, 4893);
        c.to_client.stats.shut_by_receiver = Some(ReadShut {
            sent: 4893,
            at: Some(30.887713),
        });
        c.to_client.first_unreceived_time = Some(32.92);
        assert!(!only_closing_message_unread(&c, Direction::ToClient, true));
        // Clocks that cannot be compared say nothing; within the margin it crossed the close.
        assert!(only_closing_message_unread(&c, Direction::ToClient, false));
        c.to_client.first_unreceived_time = Some(31.1);
        assert!(only_closing_message_unread(&c, Direction::ToClient, true));
    }

    /// coord/prosody-killed--xx from the server's side: its end closed at `+++ killed by
    /// SIGKILL +++` with the client's 77-byte ping unread. Without a clock to compare, the kill
    /// alone says the exchange was cut, not completed.
    #[test]
    fn what_a_killed_server_left_unread_is_no_goodbye() {
        let mut c = tunnel_connection(4917, 4893);
        std::mem::swap(&mut c.to_server, &mut c.to_client);
        assert!(only_closing_message_unread(&c, Direction::ToServer, false));
        c.server_killed = true;
        assert!(!only_closing_message_unread(&c, Direction::ToServer, false));
    }

    fn shut_stream(sent: u64, received: u64, shut: ReadShut, first_unreceived: f64) -> Stream {
        let mut stream = Stream::default();
        stream.stats.sent = sent;
        stream.stats.received = received;
        stream.stats.shut_by_receiver = Some(shut);
        stream.first_unreceived_time = Some(first_unreceived);
        stream
    }

    /// apps/maria-replication-healthy: the replica shuts down reading (replica.trace:1238) with
    /// all 1309 bytes sent so far read; the primary's 46-byte heartbeat comes after.
    #[test]
    fn bytes_sent_after_the_shutdown_in_the_replay_are_unread_by_choice() {
        let shut = ReadShut {
            sent: 1309,
            at: Some(1_796_616_669.159_514),
        };
        let stream = shut_stream(1355, 1309, shut, 1_796_616_669.678_207);
        assert!(unread_by_choice(&stream, true));
    }

    /// apps/maria-replication-healthy-plain: the replay placed the primary's last 9-byte packet
    /// (server.trace:434, 04:57:05.654411) before the replica's `shutdown(48, SHUT_RDWR)`
    /// (replica.trace:876, 04:57:05.083392); the clocks put it 0.57 s after, more than the margin
    /// between hosts.
    #[test]
    fn bytes_sent_after_the_shutdown_by_the_clocks_are_unread_by_choice() {
        let shut = ReadShut {
            sent: 1318,
            at: Some(4.0 * 3600.0 + 57.0 * 60.0 + 5.083_392),
        };
        let sent_at = 4.0 * 3600.0 + 57.0 * 60.0 + 5.654_411;
        assert!(unread_by_choice(
            &shut_stream(1318, 1309, shut, sent_at),
            true
        ));
        // Clocks that cannot be compared (`-r` counts) order nothing.
        assert!(!unread_by_choice(
            &shut_stream(1318, 1309, shut, sent_at),
            false
        ));
    }

    /// lab/tcp-data-dropped--curl--socat--record: curl's request (client.trace:175, sent at
    /// 1796551618.204345) was dropped; socat shut the connection down 3.4 s later
    /// (server.trace:97). Sent before the shutdown: not the receiver's choice.
    #[test]
    fn bytes_sent_before_the_shutdown_still_count() {
        let shut = ReadShut {
            sent: 94,
            at: Some(1_796_551_621.575_076),
        };
        let stream = shut_stream(94, 0, shut, 1_796_551_618.204_345);
        assert!(!unread_by_choice(&stream, true));
    }

    /// Within the clock margin the clocks cannot order the two calls.
    #[test]
    fn a_send_within_the_clock_margin_of_the_shutdown_still_counts() {
        let shut = ReadShut {
            sent: 100,
            at: Some(1_000.0),
        };
        assert!(!unread_by_choice(
            &shut_stream(100, 90, shut, 1_000.3),
            true
        ));
    }
}
