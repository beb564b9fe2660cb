//! UDP flows with losses, and datagram totals by size.

use crate::diagnose::claims::Claims;
use crate::diagnose::context::Context;
use crate::model::UdpFlow;

/// A UDP flow to a modelled receiver with datagrams lost and no earlier rule explaining it:
/// `(index, flow, sent, received)`.
pub(crate) fn lossy_udp_flows<'a>(
    cx: &Context<'a>,
    claims: &Claims,
) -> Vec<(usize, &'a UdpFlow, u64, u64)> {
    let matcher = cx.matcher();
    cx.outcome
        .udp
        .iter()
        .enumerate()
        .filter(|(i, f)| !claims.udp_flow(*i) && !matcher.is_outside(f.receiver_addr))
        .map(|(i, f)| {
            let (sent, received) = totals(f, |_| true);
            (i, f, sent, received)
        })
        .filter(|(_, _, sent, received)| sent > received)
        .collect()
}

/// `socket A0 on host a (10.0.0.1:5000)`.
pub(crate) fn udp_sender(cx: &Context, flow: &UdpFlow) -> String {
    match flow.sender_addr {
        Some(addr) => format!("{} ({addr})", cx.sock(flow.sender)),
        None => cx.sock(flow.sender),
    }
}

/// Claims a flow whose losses a rule explains, with the readiness waits on its receivers that
/// timed out while lost datagrams counted as in flight: the loss explains those waits too.
pub(crate) fn claim_lossy_flow(cx: &Context, claims: &mut Claims, index: usize) {
    claims.claim_udp_flow(index);
    let Some(flow) = cx.outcome.udp.get(index) else {
        return;
    };
    for (i, deviation) in cx.outcome.deviations.iter().enumerate() {
        let on_receiver = deviation
            .sock
            .is_some_and(|sock| flow.receivers.contains(&sock));
        if on_receiver && deviation.kind == crate::model::DeviationKind::PollMissedData {
            claims.claim_deviation(i);
        }
    }
}

/// Datagrams sent and received (never more than sent) over the sizes accepted by `select`.
pub(crate) fn totals(flow: &UdpFlow, select: impl Fn(u64) -> bool) -> (u64, u64) {
    flow.by_size
        .iter()
        .filter(|(len, _, _)| select(*len))
        .fold((0, 0), |(s, r), (_, sent, received)| {
            (s + sent, r + (*received).min(*sent))
        })
}
