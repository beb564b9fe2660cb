//! The `netcheck` binary: the command line in `netcheck::cli`.

use std::process::ExitCode;

fn main() -> ExitCode {
    netcheck::cli::main()
}
