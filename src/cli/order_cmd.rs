//! `netcheck order`.

use super::{CmdResult, Failure};

pub fn run(_args: &super::OrderArgs) -> CmdResult {
    Err(Failure("`order` is not available yet".into()))
}
