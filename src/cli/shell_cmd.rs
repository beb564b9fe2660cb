//! `netcheck completions SHELL` and `netcheck man`: generated from the argument definitions, so
//! they always match the binary.

use clap::CommandFactory as _;

use super::status::print;
use super::{Cli, CmdResult, CompletionsArgs, Failure, ManArgs, Status};

pub fn completions(args: &CompletionsArgs) -> CmdResult {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "netcheck", &mut script);
    print(&String::from_utf8_lossy(&script))?;
    Ok(Status::Clean)
}

pub fn man(args: &ManArgs) -> CmdResult {
    let mut netcheck = Cli::command();
    // Building sets each subcommand's full name (`netcheck diagnose`) for its synopsis.
    netcheck.build();
    let page = match &args.subcommand {
        None => clap_mangen::Man::new(netcheck),
        Some(name) => {
            let Some(sub) = netcheck.find_subcommand(name) else {
                return Err(Failure(format!(
                    "no subcommand `{name}` (see `netcheck --help`)"
                )));
            };
            // Titled like the pages the main page lists: netcheck-diagnose(1).
            clap_mangen::Man::new(sub.clone()).title(format!("netcheck-{name}"))
        }
    };
    let mut roff = Vec::new();
    page.render(&mut roff)?;
    print(&String::from_utf8_lossy(&roff))?;
    Ok(Status::Clean)
}
