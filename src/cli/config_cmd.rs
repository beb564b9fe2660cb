//! `netcheck config`: check a config file and echo it, or print the topology inferred from
//! traces (`--infer`) as a config file the user can check and save.

use super::{CmdResult, Failure, Status};
use crate::config::{self, Inputs, TopologyOrigin};

pub fn run(args: &super::ConfigArgs) -> CmdResult {
    let inputs = Inputs {
        paths: args.input.inputs.clone(),
        one_host: args.input.one_host_traces.clone(),
    };
    let loaded = config::load_detailed(&inputs)?;
    if args.infer && loaded.topology.origin == TopologyOrigin::ConfigFile {
        return Err(Failure(
            "--infer reads traces, but the input is a config file (drop --infer to check it)"
                .into(),
        ));
    }
    let text = config::render(&loaded.topology, loaded.inference.as_ref());
    print!("{}", crate::report::terminal::printable(&text, false));
    Ok(Status::Clean)
}
