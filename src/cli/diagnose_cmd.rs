//! `netcheck diagnose`.

use super::{CmdResult, Failure};

pub fn run(_args: &super::DiagnoseArgs) -> CmdResult {
    Err(Failure("`diagnose` is not available yet".into()))
}
