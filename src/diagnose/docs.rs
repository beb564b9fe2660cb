//! `docs/rules.md`, generated from the registry so that it cannot drift from the code (a test
//! compares the file with [`rules_markdown`]).

use std::fmt::Write as _;

use super::registry::RULES;
use super::rules::{admission_limit, mtu_black_hole as mtu, network_stall, udp_loss};
use super::{Class, MAX_EVIDENCE};

/// The rules reference, in Markdown.
pub fn rules_markdown() -> String {
    let mut out = String::from(
        "# Diagnosis rules\n\n\
         <!-- Generated from src/diagnose/registry.rs by `UPDATE_GOLDEN=1 cargo test --test \
         diagnose_docs`; do not edit by hand. -->\n\n\
         Every finding carries one of these rule IDs. The IDs are stable: they are never renamed \
         or reused. `netcheck rules` lists them and `netcheck explain ID` prints one \
         explanation.\n\n\
         ## Classes\n\n\
         | Class | Meaning | Exit status |\n| --- | --- | --- |\n\
         | network | the network or its configuration (NAT, firewall, MTU, loss) is the likely \
         cause | 1 |\n\
         | application | the programs themselves are the likely cause | 1 |\n\
         | ambiguous | network or application; the traces cannot tell | 1 |\n\
         | portability | works here, breaks on another operating system | 1 |\n\
         | info | about the analysis itself (coverage, ordering), not a problem | 0 |\n\n\
         ## Rules\n\n| ID | Class | Title |\n| --- | --- | --- |\n",
    );
    let mut sorted: Vec<_> = RULES.iter().collect();
    sorted.sort_by_key(|r| (r.class, r.id));
    for rule in &sorted {
        let _ = writeln!(out, "| `{}` | {} | {} |", rule.id, rule.class, rule.title);
    }
    out.push_str(
        "\n## Precedence\n\n\
         Rules run in the order below. A rule that explains a connection, a stream, a UDP flow, \
         a deviation or a trace claims it, and the rules after it do not report it again, so \
         one cause gives one finding. In particular:\n\n\
         * `mtu-black-hole` takes a stalled TCP direction before `buffer-overrun`, \
         `data-unreceived-poll-missed` and `data-unreceived`, and a UDP flow before `udp-all-lost` \
         and `udp-loss`;\n\
         * `nat-undeclared` takes an accept from an unknown peer before `port-forwarding`, and \
         traces that only talk to unknown addresses before `no-peer-traffic`; both NAT rules also \
         take the never-accepted connects matched to the listener whose accepts they explain, \
         before `connection-not-accepted`;\n\
         * `connect-filtered` takes ETIMEDOUT, EHOSTUNREACH, ENETUNREACH, EACCES and EPERM, the \
         two refusal rules take ECONNREFUSED, and only the remaining connect errors reach \
         `connect-unexpected-failure`;\n\
         * `connection-not-accepted`, `connection-reset`, `send-after-peer-closed` and \
         `buffer-overrun` take the unreceived bytes of the streams they explain before \
         `data-unreceived-poll-missed` and `data-unreceived`;\n\
         * `ordering-incomplete` takes the calls forced through at blocked points, \
         `unsupported-call` the not-modelled deviations.\n\n\
         `bind-failed` takes the binds that failed with EACCES or EADDRNOTAVAIL and \
         `descriptor-exhaustion` the accepts and sockets that failed with EMFILE, ENFILE or \
         ENOBUFS; other `UnexpectedFailure`s (a call other than connect failed for no modelled \
         reason) and `UnexpectedSuccess` have no rule of their own. They are counted in the \
         report's `replay.deviations` and `replay.unexplained_deviations`.\n\n\
         Order:\n\n",
    );
    for (i, rule) in RULES.iter().enumerate() {
        let _ = writeln!(out, "{}. `{}`", i + 1, rule.id);
    }
    let _ = write!(
        out,
        "\n## Thresholds\n\n\
         | Rule | Threshold |\n| --- | --- |\n\
         | `mtu-black-hole` (TCP) | largest send ≥ {} bytes, more than {} bytes unreceived, some \
         bytes received on the connection before, receiver did not close without a readiness \
         wait timing out |\n\
         | `mtu-black-hole` (UDP) | lost sizes start above {} bytes; smaller datagrams lose ≤ \
         {:.0}%, larger ones ≥ {:.0}% and ≥ {} datagrams |\n\
         | `udp-loss` | ≥ {:.0}% of the flow's datagrams and ≥ {} datagrams lost, not all |\n\
         | `network-stall` | a connect completed within −{}/+{} s of {} × ((2^i − 1) + (2^j − 1)) s, \
         i = 0..{} SYN and j = 0..{} SYN-ACK retransmissions, not both 0, measured on one trace's \
         clock |\n\
         | `network-stall` (round trips) | a round trip with a traced peer ≥ {} s slower than the \
         socket's fastest, the requester's wait (ended by a wait that blocked ≥ {} s) less the \
         peer's own handling |\n\
         | `admission-limit` (read, then refused) | short answers (≤ {} bytes) only at the most \
         connections the listener ever held, that most ≥ {} |\n\
         | `data-unreceived`, `connection-reset` (a goodbye left unread) | ≤ {} bytes left at the \
         end of a direction after an exchange both ends completed and closed: not reported, or \
         a reset of class info |\n\
         | every rule | at most {MAX_EVIDENCE} evidence calls per finding; the rest are counted \
         in a fact |\n",
        mtu::TCP_LARGE_SEND,
        crate::model::SHORT_MESSAGE,
        mtu::UDP_MIN_BLACK_HOLE_SIZE - 1,
        mtu::UDP_SMALL_MAX_LOSS * 100.0,
        mtu::UDP_LARGE_MIN_LOSS * 100.0,
        mtu::UDP_LARGE_MIN_LOST,
        udp_loss::MIN_LOSS_RATE * 100.0,
        udp_loss::MIN_LOST_DATAGRAMS,
        network_stall::EARLY_MARGIN,
        network_stall::LATE_MARGIN,
        network_stall::INITIAL_RTO,
        network_stall::MAX_SYN_RETRIES,
        network_stall::MAX_SYNACK_RETRIES,
        network_stall::MIN_RTO,
        crate::model::round_trips::MIN_BLOCKED,
        crate::model::SHORT_MESSAGE,
        admission_limit::MIN_CEILING,
        crate::model::SHORT_MESSAGE,
    );
    for class in Class::ALL {
        for rule in sorted.iter().filter(|r| r.class == class) {
            let _ = write!(
                out,
                "\n---\n\n# `{}` ({})\n\n{}\n\n{}",
                rule.id,
                rule.class,
                rule.title,
                rule.explanation
                    .replace("\n## ", "\n### ")
                    .replace("## What it detects", "### What it detects")
            );
        }
    }
    out
}
