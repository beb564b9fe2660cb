//! `netcheck record`.

use super::{CmdResult, Failure};

pub fn run(_args: &super::RecordArgs) -> CmdResult {
    Err(Failure("`record` is not available yet".into()))
}
