//! The *diagnose* stage: deviations, blocked points and the final model state → findings, each
//! with a stable rule ID, a class and evidence.
//!
//! Every rule is one file under [`rules`] and one line in [`registry`]. Rules run in registry
//! order, which is also their precedence: a rule that explains a connection, a stream or a
//! deviation *claims* it (see [`Claims`]) and later rules leave it alone, so one cause is
//! reported once.

pub mod claims;
pub mod context;
pub mod docs;
pub mod finding;
pub mod registry;
pub mod rule;
pub mod rules;

pub use claims::Claims;
pub use context::Context;
pub use finding::{sort_findings, Class, Evidence, Finding, MAX_EVIDENCE};
pub use rule::Rule;

/// Runs every rule in precedence order and returns the findings sorted by class severity, then
/// rule ID, then first evidence.
pub fn diagnose(cx: &Context) -> Vec<Finding> {
    diagnose_with_leftovers(cx).0
}

/// [`diagnose`], plus the indices of the deviations no finding explains (reported apart, so
/// that nothing the model saw is silently dropped).
pub fn diagnose_with_leftovers(cx: &Context) -> (Vec<Finding>, Vec<usize>) {
    let mut claims = Claims::default();
    let mut findings: Vec<Finding> = registry::RULES
        .iter()
        .flat_map(|rule| (rule.detect)(cx, &mut claims))
        .collect();
    sort_findings(&mut findings);
    let leftovers = claims.unclaimed_deviations(cx.outcome.deviations.len());
    (findings, leftovers)
}
