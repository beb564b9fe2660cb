//! Failures on a connection that its peer's way of ending explains: resets and sends into a
//! connection the peer had closed, picked by how and when the peer's program closed its end.

use crate::diagnose::claims::{Claims, Direction};
use crate::diagnose::context::Context;
use crate::model::{Deviation, DeviationKind, TcpConnection};

use super::{claim_socket_deviations, deviation_evidence, deviations};
use crate::diagnose::Finding;

/// A reset, or a send into a connection the peer had closed, with the connection it happened on.
pub(crate) struct ConnectionFailure<'a> {
    pub index: usize,
    pub deviation: &'a Deviation,
    /// Index of the connection in the outcome's `tcp`.
    pub connection: usize,
    pub record: &'a TcpConnection,
    /// The deviation's socket is the connection's client end.
    pub is_client: bool,
}

/// Unclaimed resets and sends after the peer closed, on connections the replay knows, that
/// `select(connection, failing side is the client)` accepts.
pub(crate) fn connection_failures<'a>(
    cx: &Context<'a>,
    claims: &Claims,
    select: impl Fn(&TcpConnection, bool) -> bool,
) -> Vec<ConnectionFailure<'a>> {
    let kinds = |k: &DeviationKind| {
        matches!(
            k,
            DeviationKind::ConnectionReset | DeviationKind::SendAfterPeerClosed { .. }
        )
    };
    deviations(cx, claims, kinds)
        .into_iter()
        .filter_map(|(index, deviation)| {
            let (connection, record, is_client) = cx.connection_of(deviation.sock?)?;
            select(record, is_client).then_some(ConnectionFailure {
                index,
                deviation,
                connection,
                record,
                is_client,
            })
        })
        .collect()
}

/// `finding` as the explanation of `failures`: each one's call and counterpart are evidence
/// (with `note`), its detail a fact, and what it explains is claimed.
pub(crate) fn explained_connection_failures(
    cx: &Context,
    claims: &mut Claims,
    mut finding: Finding,
    failures: &[ConnectionFailure],
    note: &str,
) -> Finding {
    for failure in failures {
        finding = finding
            .with_evidence(deviation_evidence(failure.deviation, note))
            .with_fact(failure.deviation.detail.clone());
        claim_connection_failure(cx, claims, failure);
    }
    finding.facts.dedup();
    finding
}

/// Claims what a finding about `failure` explains: the deviation, both streams of its
/// connection (bytes left unreceived when it ended), and the socket's other resets and sends.
pub(crate) fn claim_connection_failure(
    cx: &Context,
    claims: &mut Claims,
    failure: &ConnectionFailure,
) {
    claims.claim_deviation(failure.index);
    for dir in Direction::BOTH {
        claims.claim_stream(failure.connection, dir);
    }
    if let Some(sock) = failure.deviation.sock {
        claim_socket_deviations(cx, claims, sock, |k| {
            matches!(
                k,
                DeviationKind::ConnectionReset | DeviationKind::SendAfterPeerClosed { .. }
            )
        });
    }
}
