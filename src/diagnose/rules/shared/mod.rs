//! Helpers shared by several rules.

mod deviations;
mod ends;
mod fallback;
mod peers;
mod refusals;
mod streams;
mod udp;

pub(crate) use deviations::*;
pub(crate) use ends::*;
pub(crate) use fallback::*;
pub(crate) use peers::*;
pub(crate) use refusals::*;
pub(crate) use streams::*;
pub(crate) use udp::*;
