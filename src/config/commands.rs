//! The command words of the config format, shared by its parser and by the check that tells a
//! config file from a trace.

/// The command words, lower case (commands are case-insensitive).
pub const COMMANDS: [&str; 5] = ["host", "trace", "ip", "nat", "ignore"];
