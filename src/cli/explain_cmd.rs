//! `netcheck explain` and `netcheck rules`.

use super::{CmdResult, ExplainArgs, Failure, RulesArgs};

pub fn run_explain(_args: &ExplainArgs) -> CmdResult {
    Err(Failure("`explain` is not available yet".into()))
}

pub fn run_rules(_args: &RulesArgs) -> CmdResult {
    Err(Failure("`rules` is not available yet".into()))
}
