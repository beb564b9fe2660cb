//! `netcheck parse`.

use super::{CmdResult, Failure};

pub fn run(_args: &super::ParseArgs) -> CmdResult {
    Err(Failure("`parse` is not available yet".into()))
}
