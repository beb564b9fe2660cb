//! What the diagnosis produces: [`Finding`]s with their [`Class`] and the [`Evidence`] behind
//! them.

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
    /// empty; the pipeline fills it from the trace file's line.
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

/// The deterministic report order.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
}
