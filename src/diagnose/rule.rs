//! A diagnosis rule: its stable ID, class, title, long explanation and detection function. The
//! table of all rules is [`registry`](super::registry).

use super::claims::Claims;
use super::context::Context;
use super::finding::{Class, Finding};

/// A diagnosis rule.
#[derive(Debug)]
pub struct Rule {
    /// Stable public ID; never renamed or reused.
    pub id: &'static str,
    pub class: Class,
    /// One line.
    pub title: &'static str,
    /// Markdown with the sections listed in [`EXPLANATION_SECTIONS`].
    pub explanation: &'static str,
    pub detect: fn(&Context, &mut Claims) -> Vec<Finding>,
}

/// Headings every explanation has, in this order.
pub const EXPLANATION_SECTIONS: [&str; 4] = [
    "## What it detects",
    "## Why it matters",
    "## Evidence",
    "## What to do",
];

impl Rule {
    /// A finding of this rule, in the rule's class.
    pub fn finding(&self, summary: String, hint: impl Into<String>) -> Finding {
        Finding {
            rule: self.id,
            class: self.class,
            summary,
            hint: hint.into(),
            evidence: Vec::new(),
            facts: Vec::new(),
        }
    }
}
