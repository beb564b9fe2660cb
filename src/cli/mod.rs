//! Command-line interface: argument definitions and glue. Each subcommand lives in its own file and
//! calls into the pipeline stages; no analysis logic lives here.

use std::process::ExitCode;

use clap::Parser;

mod args;
mod config_cmd;
mod diagnose_cmd;
mod explain_cmd;
mod order_cmd;
mod parse_cmd;
mod progress;
mod record_cmd;
mod shell_cmd;
mod status;
pub mod table;
mod triage;

pub use args::*;
pub use status::{CmdResult, Failure, Status};

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                Status::Error
            } else {
                Status::Clean
            };
            let _ = e.print();
            return code.into();
        }
    };
    let result = match &cli.command {
        Command::Record(a) => record_cmd::run(a),
        Command::Parse(a) => parse_cmd::run(a),
        Command::Config(a) => config_cmd::run(a),
        Command::Order(a) => order_cmd::run(a),
        Command::Diagnose(a) => diagnose_cmd::run(a),
        Command::Explain(a) => explain_cmd::run_explain(a),
        Command::Rules(a) => explain_cmd::run_rules(a),
        Command::Completions(a) => shell_cmd::completions(a),
        Command::Man(a) => shell_cmd::man(a),
    };
    match result {
        Ok(status) => status.into(),
        Err(Failure(msg)) => {
            eprintln!(
                "netcheck: {}",
                crate::report::terminal::printable(&msg, false)
            );
            Status::Error.into()
        }
    }
}
