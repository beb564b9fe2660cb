//! The *model* stage: a POSIX socket API and an ideal network (reliable, zero latency). Every
//! socket event is simulated and judged: accept, retry later, deviation, or not modelled.

pub mod outcome;

pub use outcome::*;
