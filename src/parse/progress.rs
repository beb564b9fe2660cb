//! How far a trace has been read, shared with whoever shows progress: the reader adds its bytes
//! to a counter in steps, so the count costs nothing per line.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Bytes read between two additions to the shared counter.
const STEP: u64 = 1 << 20;

#[derive(Debug)]
pub(super) struct Reporter {
    counter: Arc<AtomicU64>,
    reported: u64,
}

impl Reporter {
    pub fn new(counter: Arc<AtomicU64>) -> Reporter {
        Reporter {
            counter,
            reported: 0,
        }
    }

    /// The reader has read `bytes` in all.
    pub fn note(&mut self, bytes: u64) {
        if bytes >= self.reported + STEP {
            self.counter
                .fetch_add(bytes - self.reported, Ordering::Relaxed);
            self.reported = bytes;
        }
    }
}
