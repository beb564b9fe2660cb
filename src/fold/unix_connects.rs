//! Connects to unix-domain sockets. They never leave the host, so the model does not follow
//! them, but a failed one says by itself that the local service it names is missing, stale or
//! closed to the caller (an nginx in front of a PHP-FPM, a client of a database's socket).

use serde::Serialize;

use crate::parse::{Call, Errno};
use crate::source::Loc;

/// Distinct (path, errno) pairs kept per trace: a client retrying for hours adds to its pair's
/// count, never to the list; programs talk to a handful of local services.
const MAX_KEPT: usize = 64;

/// The failed unix-domain connects of one trace, by path and errno.
#[derive(Debug, Clone, Default, Serialize)]
pub struct UnixConnects {
    pub failures: Vec<UnixConnectFailures>,
}

/// The connects to one path that failed with one errno.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnixConnectFailures {
    /// As strace prints it (an abstract name keeps its leading `@`).
    pub path: String,
    pub errno: Errno,
    pub count: u64,
    pub first: Loc,
    pub last: Loc,
    /// Start times of the first and last failure, when the trace has timestamps.
    pub first_time: Option<f64>,
    pub last_time: Option<f64>,
    /// A later connect to the same path succeeded: the service came up, or back, meanwhile.
    pub then_connected: Option<Loc>,
}

impl UnixConnects {
    /// Notes a connect to `path` (its call carries the outcome).
    pub fn note(&mut self, path: &str, call: &Call) {
        let Some(errno) = call.outcome.errno else {
            if call.outcome.is_success() {
                for f in self.failures.iter_mut().filter(|f| f.path == path) {
                    f.then_connected.get_or_insert(call.loc);
                }
            }
            return;
        };
        // A signal cut the connect short, or it is already connected: nothing about the path.
        if errno == Errno::EINTR || errno.is_restart() || errno == Errno::EISCONN {
            return;
        }
        if let Some(f) = self
            .failures
            .iter_mut()
            .find(|f| f.path == path && f.errno == errno)
        {
            f.count += 1;
            f.last = call.loc;
            f.last_time = call.time;
            // Failing again after a success: the service went away again.
            f.then_connected = None;
            return;
        }
        if self.failures.len() < MAX_KEPT {
            self.failures.push(UnixConnectFailures {
                path: path.to_owned(),
                errno,
                count: 1,
                first: call.loc,
                last: call.loc,
                first_time: call.time,
                last_time: call.time,
                then_connected: None,
            });
        }
    }
}
