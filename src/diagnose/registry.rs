//! The one table of rules: ID, class, title, long explanation and detection function. The order
//! of [`RULES`] is the order rules run in, and so their precedence (see `docs/rules.md`).

use super::rule::Rule;
use super::rules;

/// Every rule, in precedence order: a rule that explains something claims it, and the rules after
/// it do not report it again.
pub static RULES: &[Rule] = &[
    // Causes that explain stalled streams and lost datagrams come first.
    rules::mtu_black_hole::RULE,
    rules::nat_undeclared::RULE,
    rules::port_forwarding::RULE,
    // Connection establishment.
    rules::connect_filtered::RULE,
    rules::connect_refused_while_listening::RULE,
    rules::refused_before_listening::RULE,
    // Failures that the way a program started, stopped or finished explains.
    rules::shutdown_order::RULE,
    rules::client_finished::RULE,
    rules::accepted_after_client_left::RULE,
    rules::connect_refused::RULE,
    rules::connect_unexpected_failure::RULE,
    rules::admission_limit::RULE,
    rules::connection_not_accepted::RULE,
    rules::connect_never_completed::RULE,
    rules::network_stall::RULE,
    // Established connections: specific causes before the generic "data never arrived".
    rules::connection_reset::RULE,
    rules::send_after_peer_closed::RULE,
    rules::filtered_trace::RULE,
    rules::undecoded_addresses::RULE,
    rules::data_mismatch::RULE,
    rules::buffer_overrun::RULE,
    rules::data_unreceived_poll_missed::RULE,
    rules::data_unreceived::RULE,
    // Datagrams.
    rules::udp_all_lost::RULE,
    rules::udp_loss::RULE,
    rules::datagram_truncated::RULE,
    // Requests a peer no trace shows never answered.
    rules::no_reply::RULE,
    // One call, one finding.
    rules::address_in_use::RULE,
    rules::bind_failed::RULE,
    rules::descriptor_exhaustion::RULE,
    rules::unix_connect_failed::RULE,
    rules::connect_to_unspecified::RULE,
    rules::loopback_bound_external_peer::RULE,
    rules::ip_version_mismatch::RULE,
    rules::nonblock_inherited::RULE,
    rules::unexpected_blocking::RULE,
    rules::broadcast_not_permitted::RULE,
    // Whole-trace observations, after everything that could explain them.
    rules::untraced_children::RULE,
    rules::injected_results::RULE,
    rules::no_peer_traffic::RULE,
    rules::ordering_incomplete::RULE,
    rules::unsupported_call::RULE,
    rules::unparsed_lines::RULE,
];

/// The rule with this ID.
pub fn find(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}

/// Rule IDs close to `query` (by edit distance or shared words), best first, for "did you mean".
pub fn close_matches(query: &str) -> Vec<&'static str> {
    let query = query.to_ascii_lowercase();
    let mut scored: Vec<(usize, &'static str)> = RULES
        .iter()
        .filter_map(|r| {
            let distance = edit_distance(&query, r.id);
            let shares_word = query
                .split(['-', '_', ' '])
                .filter(|w| w.len() >= 3)
                .any(|w| r.id.contains(w));
            let close = distance <= r.id.len().max(query.len()) / 3;
            (close || shares_word).then_some((distance, r.id))
        })
        .collect();
    scored.sort();
    scored.into_iter().map(|(_, id)| id).take(5).collect()
}

/// Levenshtein distance over bytes (rule IDs are ASCII).
fn edit_distance(a: &str, b: &str) -> usize {
    let b = b.as_bytes();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.bytes().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, &cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(edit_distance("connect-refused", "connect-refused"), 0);
        assert_eq!(edit_distance("conect-refused", "connect-refused"), 1);
        assert_eq!(edit_distance("abc", "xyz"), 3);
    }

    #[test]
    fn close_matches_find_typos_and_shared_words() {
        assert_eq!(
            close_matches("conect-refused").first(),
            Some(&"connect-refused")
        );
        assert!(close_matches("udp-lost").contains(&"udp-all-lost"));
        assert!(close_matches("refused").contains(&"connect-refused"));
        assert!(close_matches("zzzzzzzz").is_empty());
    }
}
