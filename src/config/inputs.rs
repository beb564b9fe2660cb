//! What a run starts from: the paths named on the command line, and the error when they do not
//! make a configuration.

use std::path::PathBuf;

/// What the user named on the command line.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// One config file, or trace files (one host per trace, topology inferred).
    pub paths: Vec<PathBuf>,
    /// Traces that all belong to one host (`--trace`).
    pub one_host: Vec<PathBuf>,
}

/// Config problems, each with file and line; `message` is all of them, one per line.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ConfigError {
    pub message: String,
    /// Every problem found (`netcheck.conf:7: unknown command 'hots'`), in file order.
    pub problems: Vec<String>,
}

impl ConfigError {
    pub fn new(problems: Vec<String>) -> Self {
        ConfigError {
            message: problems.join("\n"),
            problems,
        }
    }
}
