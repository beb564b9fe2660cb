//! One file per rule: its registry entry (`RULE`), its long explanation and its detection
//! function. Helpers shared by several rules live in [`shared`].

pub mod accepted_after_client_left;
pub mod address_in_use;
pub mod admission_limit;
pub mod bind_failed;
pub mod broadcast_not_permitted;
pub mod buffer_overrun;
pub mod client_finished;
pub mod connect_filtered;
pub mod connect_never_completed;
pub mod connect_refused;
pub mod connect_refused_while_listening;
pub mod connect_to_unspecified;
pub mod connect_unexpected_failure;
pub mod connection_not_accepted;
pub mod connection_reset;
pub mod data_mismatch;
pub mod data_unreceived;
pub mod data_unreceived_poll_missed;
pub mod datagram_truncated;
pub mod descriptor_exhaustion;
pub mod filtered_trace;
pub mod injected_results;
pub mod ip_version_mismatch;
pub mod loopback_bound_external_peer;
pub mod mtu_black_hole;
pub mod nat_undeclared;
pub mod network_stall;
pub mod no_peer_traffic;
pub mod no_reply;
pub mod nonblock_inherited;
pub mod ordering_incomplete;
pub mod port_forwarding;
pub mod refused_before_listening;
pub mod send_after_peer_closed;
pub mod shutdown_order;
pub mod udp_all_lost;
pub mod udp_loss;
pub mod undecoded_addresses;
pub mod unexpected_blocking;
pub mod unix_connect_failed;
pub mod unparsed_lines;
pub mod unsupported_call;
pub mod untraced_children;

mod shared;

pub(crate) use shared::*;

#[cfg(test)]
mod tests {
    use crate::diagnose::registry::RULES;
    /// Every rule's file tests the rule on a pattern of its own.

    #[test]
    fn every_rule_has_a_pattern() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/diagnose/rules");
        for rule in RULES {
            let file = dir.join(format!("{}.rs", rule.id.replace('-', "_")));
            let text = std::fs::read_to_string(&file)
                .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            let code: String = text.split_whitespace().collect();
            assert!(
                code.contains("assert_fires_alone(&RULE")
                    || code.contains("assert_fires_on(&RULE")
                    || code.contains("assert_fires_on_traces(&RULE"),
                "no pattern for {}",
                rule.id
            );
        }
    }
}
