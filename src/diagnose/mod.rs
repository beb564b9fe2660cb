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
pub mod fixtures;
pub mod pipeline;
pub mod registry;
pub mod rules;
pub mod table;

use serde::Serialize;

use crate::source::Loc;

pub use claims::Claims;
pub use context::Context;
pub use pipeline::{run_pipeline, Analysis, PipelineError};

/// The class of a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    Network,
    Application,
    Ambiguous,
    Portability,
    Info,
}

impl Class {
    /// Every class, most severe first (the order findings are sorted in).
    pub const ALL: [Class; 5] = [
        Class::Network,
        Class::Application,
        Class::Ambiguous,
        Class::Portability,
        Class::Info,
    ];

    /// The lowercase name used in reports and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Network => "network",
            Class::Application => "application",
            Class::Ambiguous => "ambiguous",
            Class::Portability => "portability",
            Class::Info => "info",
        }
    }

    /// A problem class makes `diagnose` exit with status 1; `info` does not.
    pub fn is_problem(self) -> bool {
        self != Class::Info
    }
}

impl std::fmt::Display for Class {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A call that backs a finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    pub loc: Loc,
    /// The call as a short text (`connect(3, 10.0.0.2:80) = -1 ECONNREFUSED`). Rules leave it
    /// empty; [`pipeline`] fills it from the trace file's line.
    pub call: String,
    /// What this call shows (`refused`, `listener B0 bound to 0.0.0.0:80`).
    pub note: String,
}

impl Evidence {
    pub fn new(loc: Loc, note: impl Into<String>) -> Self {
        Evidence {
            loc,
            call: String::new(),
            note: note.into(),
        }
    }
}

/// One diagnosis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// Stable rule ID (`nat-undeclared`, ...).
    pub rule: &'static str,
    pub class: Class,
    pub summary: String,
    pub hint: String,
    pub evidence: Vec<Evidence>,
    /// The model facts the finding relies on (what the model expected, counts, addresses).
    pub facts: Vec<String>,
}

/// Most evidence lines kept per finding; the rest are counted in a fact.
pub const MAX_EVIDENCE: usize = 8;

impl Finding {
    /// A finding of `rule` with the class the registry gives it.
    pub fn new(rule: &'static registry::Rule, summary: String, hint: impl Into<String>) -> Self {
        Finding {
            rule: rule.id,
            class: rule.class,
            summary,
            hint: hint.into(),
            evidence: Vec::new(),
            facts: Vec::new(),
        }
    }

    pub fn with_evidence(mut self, evidence: impl IntoIterator<Item = Evidence>) -> Self {
        let all: Vec<Evidence> = evidence.into_iter().collect();
        let total = all.len();
        self.evidence.extend(all.into_iter().take(MAX_EVIDENCE));
        if total > MAX_EVIDENCE {
            self.facts.push(format!(
                "{} more call(s) show the same; only the first {MAX_EVIDENCE} are listed",
                total - MAX_EVIDENCE
            ));
        }
        self
    }

    pub fn with_fact(mut self, fact: impl Into<String>) -> Self {
        let fact = fact.into();
        if !fact.is_empty() {
            self.facts.push(fact);
        }
        self
    }

    fn sort_key(&self) -> (Class, &'static str, Option<Loc>, &str) {
        (
            self.class,
            self.rule,
            self.evidence.first().map(|e| e.loc),
            &self.summary,
        )
    }
}

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

/// The deterministic report order.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
}
