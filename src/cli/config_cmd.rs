//! `netcheck config`.

use super::{CmdResult, Failure};

pub fn run(_args: &super::ConfigArgs) -> CmdResult {
    Err(Failure("`config` is not available yet".into()))
}
