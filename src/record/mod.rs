//! The *record* stage: run a program under strace with the flags netcheck needs, and describe the
//! host it ran on as a config stanza.
//!
//! ```no_run
//! use netcheck::record::{record, RecordRequest};
//! let request = RecordRequest::new("client.trace".into(), vec!["curl".into(), "-s".into(), "http://10.0.0.2/".into()]);
//! let recorded = record(&request).expect("strace runs");
//! println!("{}", netcheck::record::stanza("client", &request.output, &recorded.addresses));
//! ```

mod addresses;
mod flags;
mod runner;
mod signals;
mod stanza;

pub use addresses::{
    host_addresses, parse_fib_trie, parse_if_inet6, parse_ip_addr_output, process_addresses,
};
pub use flags::{strace_args, syscall_filter, Traced};
pub use runner::{record, ProgramExit, RecordError, RecordRequest, Recorded};
pub use stanza::stanza;
