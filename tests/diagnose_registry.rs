//! The rule registry is the public list of rule IDs: exact, unique, and fully explained.

use std::collections::BTreeSet;

use netcheck::diagnose::registry::{close_matches, find, RULES};
use netcheck::diagnose::rule::EXPLANATION_SECTIONS;
use netcheck::diagnose::Class;

/// The public rule IDs. Changing this list is a breaking change of the report format.
const PUBLIC_IDS: [&str; 43] = [
    "nat-undeclared",
    "port-forwarding",
    "connection-not-accepted",
    "connect-filtered",
    "connect-refused",
    "connect-refused-while-listening",
    "connect-never-completed",
    "connect-unexpected-failure",
    "data-unreceived",
    "data-unreceived-poll-missed",
    "send-after-peer-closed",
    "connection-reset",
    "data-mismatch",
    "udp-all-lost",
    "udp-loss",
    "mtu-black-hole",
    "buffer-overrun",
    "datagram-truncated",
    "no-reply",
    "address-in-use",
    "loopback-bound-external-peer",
    "ip-version-mismatch",
    "nonblock-inherited",
    "unexpected-blocking",
    "broadcast-not-permitted",
    "no-peer-traffic",
    "ordering-incomplete",
    "unsupported-call",
    "unparsed-lines",
    "untraced-children",
    "undecoded-addresses",
    "injected-results",
    "bind-failed",
    "descriptor-exhaustion",
    "connect-to-unspecified",
    "network-stall",
    "admission-limit",
    "unix-connect-failed",
    "refused-before-listening",
    "shutdown-order",
    "client-finished",
    "accepted-after-client-left",
    "filtered-trace",
];

#[test]
fn ids_are_unique() {
    let ids: BTreeSet<&str> = RULES.iter().map(|r| r.id).collect();
    assert_eq!(ids.len(), RULES.len());
}

#[test]
fn ids_match_the_public_list_exactly() {
    let ids: BTreeSet<&str> = RULES.iter().map(|r| r.id).collect();
    let public: BTreeSet<&str> = PUBLIC_IDS.into_iter().collect();
    assert_eq!(ids, public);
}

#[test]
fn ids_are_lowercase_words_joined_by_hyphens() {
    for rule in RULES {
        assert!(
            rule.id
                .split('-')
                .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase())),
            "{}",
            rule.id
        );
    }
}

#[test]
fn every_explanation_has_all_sections_in_order_with_text() {
    for rule in RULES {
        let mut from = 0;
        for heading in EXPLANATION_SECTIONS {
            let at = rule.explanation[from..]
                .find(heading)
                .map(|i| i + from)
                .unwrap_or_else(|| panic!("{} lacks `{heading}` (in order)", rule.id));
            let body_start = at + heading.len();
            let body_end = rule.explanation[body_start..]
                .find("\n## ")
                .map_or(rule.explanation.len(), |i| i + body_start);
            assert!(
                rule.explanation[body_start..body_end].trim().len() > 20,
                "{}: `{heading}` is empty",
                rule.id
            );
            from = body_start;
        }
        assert!(
            !rule.title.is_empty() && !rule.title.ends_with('.'),
            "{}",
            rule.id
        );
    }
}

#[test]
fn classes_follow_the_public_definition() {
    let class = |id| find(id).map(|r| r.class);
    assert_eq!(class("connect-refused"), Some(Class::Application));
    assert_eq!(
        class("connect-refused-while-listening"),
        Some(Class::Ambiguous)
    );
    assert_eq!(class("data-unreceived-poll-missed"), Some(Class::Ambiguous));
    assert_eq!(class("datagram-truncated"), Some(Class::Portability));
    assert_eq!(class("unparsed-lines"), Some(Class::Info));
    assert_eq!(class("mtu-black-hole"), Some(Class::Network));
    let info: BTreeSet<&str> = RULES
        .iter()
        .filter(|r| r.class == Class::Info)
        .map(|r| r.id)
        .collect();
    assert_eq!(
        info,
        BTreeSet::from([
            "ordering-incomplete",
            "refused-before-listening",
            "shutdown-order",
            "client-finished",
            "accepted-after-client-left",
            "filtered-trace",
            "unsupported-call",
            "undecoded-addresses",
            "injected-results",
            "unparsed-lines"
        ])
    );
}

#[test]
fn unknown_ids_get_close_matches() {
    assert!(find("nat").is_none());
    assert!(close_matches("nat-undeclred").contains(&"nat-undeclared"));
    assert!(close_matches("mtu").contains(&"mtu-black-hole"));
    assert!(close_matches("black-hole").contains(&"mtu-black-hole"));
}
