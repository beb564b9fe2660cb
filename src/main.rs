use std::process::ExitCode;

fn main() -> ExitCode {
    netcheck::cli::main()
}
