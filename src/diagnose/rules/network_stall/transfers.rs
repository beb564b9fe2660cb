//! `network-stall`'s transfer form: a receiver that waited a retransmission timeout for bytes
//! its traced peer had handed to its socket at once (see `model/transfer_stalls.rs`).

use super::{MIN_RTO, RULE};
use crate::diagnose::rules::group_by;
use crate::diagnose::{Context, Evidence, Finding};
use crate::model::transfer_stalls::{SocketTransferStalls, TransferStall};

/// Transfers that stalled between the hosts: one finding per receiving trace.
pub(super) fn stalled_transfers(cx: &Context) -> Vec<Finding> {
    let slow = cx.outcome.transfer_stalls.iter().filter_map(|s| {
        let slow: Vec<&TransferStall> = s.slowest.iter().filter(|t| t.network >= MIN_RTO).collect();
        (!slow.is_empty()).then_some((s, slow))
    });
    group_by(slow, |(s, _): &(&SocketTransferStalls, _)| s.receiver.trace)
        .into_iter()
        .map(|(trace, group)| {
            let mut stalls: Vec<&TransferStall> =
                group.iter().flat_map(|(_, s)| s.iter().copied()).collect();
            stalls.sort_by(|a, b| b.network.total_cmp(&a.network));
            stalls.truncate(8);
            let times: Vec<String> = stalls
                .iter()
                .map(|t| format!("{:.3} s", t.waited))
                .collect();
            let summary = format!(
                "{} waited {} for bytes its traced peer had already handed to its socket: the \
                 transfer stalled between the hosts, TCP retransmissions after loss",
                cx.who(trace),
                times.join(", "),
            );
            let evidence = stalls.iter().flat_map(|t| {
                [
                    Evidence::new(
                        t.sent,
                        format!(
                            "the sender offered these bytes {:.3} s after the ones received \
                             before the wait (its clock)",
                            t.sender_span
                        ),
                    ),
                    Evidence::new(t.wait, "the receiver found nothing to read and waited"),
                    Evidence::new(
                        t.receive,
                        format!("the bytes arrived {:.3} s later (its clock)", t.waited),
                    ),
                ]
            });
            RULE.finding(
                summary,
                "measure the loss: ss -ti (retrans), nstat -az TcpRetransSegs, ip -s link on both hosts and the hops between",
            )
            .with_evidence(evidence)
            .with_fact(format!(
                "Linux waits at least {MIN_RTO} s (TCP_RTO_MIN) before retransmitting a segment; a path that carries the bytes delivers them without gaps that long"
            ))
        })
        .collect()
}
