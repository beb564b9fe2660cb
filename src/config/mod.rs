//! The *config* stage: which traces belong to which host, each host's addresses and NATs, and the
//! endpoints to ignore. Read from the original NetCheck config format or inferred from traces.

mod address;
mod answer_cache;
mod file;
mod groups;
pub mod infer;
mod inputs;
mod load;
pub mod matching;
mod paths;
mod render;
mod topology;

pub use address::{
    format_endpoint, is_limited_broadcast, is_private, parse_endpoint, AddressError,
};
pub use inputs::{ConfigError, Inputs};
pub use load::{load_detailed, Loaded};
pub use paths::check_trace;
pub use render::render;
pub use topology::{default_ignores, Endpoint, Host, NatRule, Topology, TopologyOrigin, TraceSpec};

/// Builds the topology for a run (config file, inference, or one-host mode). Every error is
/// reported before any trace is processed.
pub fn load(inputs: &Inputs) -> Result<Topology, ConfigError> {
    load_detailed(inputs).map(|loaded| loaded.topology)
}
