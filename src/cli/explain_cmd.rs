//! `netcheck explain` and `netcheck rules`.

use serde::Serialize;

use super::status::print;
use super::{CmdResult, ExplainArgs, Failure, Format, RulesArgs, Status};
use crate::diagnose::registry;
use crate::diagnose::rule::Rule;
use crate::diagnose::Class;

#[derive(Serialize)]
struct RuleJson {
    id: &'static str,
    class: Class,
    title: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    explanation: Option<&'static str>,
}

fn to_json(rule: &Rule, with_explanation: bool) -> RuleJson {
    RuleJson {
        id: rule.id,
        class: rule.class,
        title: rule.title,
        explanation: with_explanation.then_some(rule.explanation),
    }
}

fn json_text(value: &impl Serialize) -> Result<String, Failure> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    Ok(text)
}

pub fn run_explain(args: &ExplainArgs) -> CmdResult {
    let Some(rule) = registry::find(&args.rule) else {
        let close = registry::close_matches(&args.rule);
        let suggestion = if close.is_empty() {
            "run `netcheck rules` for the list".to_string()
        } else {
            format!("did you mean: {}?", close.join(", "))
        };
        return Err(Failure(format!(
            "unknown rule `{}`; {suggestion}",
            args.rule
        )));
    };
    let text = match args.format {
        Format::Json => json_text(&to_json(rule, true))?,
        Format::Text => format!(
            "# {} ({})\n\n{}\n\n{}",
            rule.id, rule.class, rule.title, rule.explanation
        ),
    };
    print(&text)?;
    Ok(Status::Clean)
}

pub fn run_rules(args: &RulesArgs) -> CmdResult {
    let mut rules: Vec<&Rule> = registry::RULES.iter().collect();
    rules.sort_by_key(|r| (r.class, r.id));
    let text = match args.format {
        Format::Json => {
            let list: Vec<RuleJson> = rules.iter().map(|r| to_json(r, false)).collect();
            json_text(&list)?
        }
        Format::Text => {
            let width = rules.iter().map(|r| r.id.len()).max().unwrap_or(0);
            rules
                .iter()
                .map(|r| format!("{:width$}  {:11}  {}\n", r.id, r.class.as_str(), r.title))
                .collect()
        }
    };
    print(&text)?;
    Ok(Status::Clean)
}
