//! The *diagnose* stage: deviations, blocked points and the final model state → findings, each
//! with a stable rule ID, a class and evidence.

use serde::Serialize;

use crate::source::Loc;

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

/// A call that backs a finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    pub loc: Loc,
    /// The call as a short text (`connect(3, 10.0.0.2:80) = -1 ECONNREFUSED`).
    pub call: String,
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
}
