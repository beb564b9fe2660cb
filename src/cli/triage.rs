//! Triage options of `diagnose`: which findings to keep (`--select`, `--ignore`) and whether to
//! colour (`--color`, `NO_COLOR`).

use std::io::IsTerminal as _;

use super::{ColorChoice, Failure};
use crate::diagnose::{registry, Class, Finding};

/// A rule ID or a whole class.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Pattern {
    Rule(&'static str),
    Class(Class),
}

impl Pattern {
    fn parse(text: &str) -> Result<Pattern, Failure> {
        let text = text.trim();
        if let Some(class) = Class::ALL.iter().find(|c| c.as_str() == text) {
            return Ok(Pattern::Class(*class));
        }
        if let Some(rule) = registry::find(text) {
            return Ok(Pattern::Rule(rule.id));
        }
        let mut message = format!(
            "unknown rule or class `{text}` (classes: network, application, ambiguous, \
             portability, info; `netcheck rules` lists the rules)"
        );
        if let Some(best) = registry::close_matches(text).first() {
            message.push_str(&format!("; did you mean `{best}`?"));
        }
        Err(Failure(message))
    }

    fn matches(&self, finding: &Finding) -> bool {
        match self {
            Pattern::Rule(id) => finding.rule == *id,
            Pattern::Class(class) => finding.class == *class,
        }
    }
}

/// The findings `--select` and `--ignore` keep.
#[derive(Debug, Default)]
pub struct RuleFilter {
    select: Vec<Pattern>,
    ignore: Vec<Pattern>,
}

impl RuleFilter {
    pub fn new(select: &[String], ignore: &[String]) -> Result<RuleFilter, Failure> {
        let parse = |list: &[String]| {
            list.iter()
                .filter(|s| !s.trim().is_empty())
                .map(|s| Pattern::parse(s))
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(RuleFilter {
            select: parse(select)?,
            ignore: parse(ignore)?,
        })
    }

    /// Is `finding` reported? Selected (or no selection) and not ignored.
    pub fn keeps(&self, finding: &Finding) -> bool {
        (self.select.is_empty() || self.select.iter().any(|p| p.matches(finding)))
            && !self.ignore.iter().any(|p| p.matches(finding))
    }

    pub fn apply(&self, findings: &mut Vec<Finding>) {
        findings.retain(|f| self.keeps(f));
    }
}

/// Should standard output be coloured? `always` and `never` win over `NO_COLOR`.
pub fn color_wanted(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => crate::report::text::use_color(
            std::io::stdout().is_terminal(),
            std::env::var_os("NO_COLOR").as_deref(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(rule: &'static str) -> Finding {
        let Some(rule) = registry::find(rule) else {
            panic!("{rule} is a rule");
        };
        rule.finding("summary".into(), "hint")
    }

    #[test]
    fn select_and_ignore_take_rule_ids_and_classes() {
        let nat = finding("nat-undeclared");
        let refused = finding("connect-refused");
        let filter = RuleFilter::new(&["network".into()], &["nat-undeclared".into()]).unwrap();
        assert_eq!(nat.class, Class::Network);
        assert!(!filter.keeps(&nat));
        assert_eq!(filter.keeps(&refused), refused.class == Class::Network);
        let only_nat = RuleFilter::new(&["nat-undeclared".into()], &[]).unwrap();
        assert!(only_nat.keeps(&nat) && !only_nat.keeps(&refused));
        assert!(RuleFilter::new(&[], &[]).unwrap().keeps(&refused));
    }

    #[test]
    fn unknown_names_are_errors_with_a_suggestion() {
        let Err(Failure(message)) = RuleFilter::new(&["nat-undeclard".into()], &[]) else {
            panic!("a misspelt rule is refused");
        };
        assert!(
            message.contains("did you mean `nat-undeclared`"),
            "{message}"
        );
    }
}
