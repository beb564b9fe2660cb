//! Builders of test input without strace text: socket event scripts for the model and the
//! ordering, hand-made topologies and replay outcomes for the rules and the report. Compiled for
//! the crate's own tests and, through the `testkit` feature, for integration tests and benchmarks.

pub mod fixtures;
pub mod rules;
pub mod script;
pub mod table;
