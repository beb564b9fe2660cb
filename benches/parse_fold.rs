//! Parse + fold throughput benchmark (see README "Performance"). Filled in by the parser work.
fn main() {}
