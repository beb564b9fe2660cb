//! netcheck: diagnose network problems of distributed applications from strace traces.
//!
//! The modules follow the data, one per pipeline stage:
//!
//! `record` → `config` → `parse` → `fold` → `model` + `order` → `diagnose` → `report`
//!
//! See `docs/ARCHITECTURE.md` for the typed interface between each pair of stages.

pub mod cli;
pub mod config;
pub mod diagnose;
pub mod fold;
pub mod input;
pub mod int_hash;
pub mod model;
pub mod order;
pub mod parse;
pub mod pipeline;
pub mod record;
pub mod report;
pub mod source;
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;
