//! Progress of a long `diagnose` on standard error: shown only when standard error is a
//! terminal and the traces are large, never with `--quiet`, so pipes and logs stay clean.

use std::io::IsTerminal as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::config::Topology;

/// Below this many bytes of trace a run takes well under a second: no bar.
const LARGE_INPUT: u64 = 64 << 20;
/// How often the bar is redrawn.
const REDRAW: Duration = Duration::from_millis(100);

/// Whether to show a bar for `total` bytes of trace.
fn wanted(total: u64, quiet: bool, stderr_is_terminal: bool) -> bool {
    !quiet && stderr_is_terminal && total >= LARGE_INPUT
}

/// A bar following the bytes the readers report, redrawn by a thread of its own.
pub struct Progress {
    pub counter: Arc<AtomicU64>,
    done: Arc<AtomicBool>,
    drawer: Option<JoinHandle<()>>,
}

impl Progress {
    /// A bar for reading `topology`'s traces, if one should be shown.
    pub fn start(topology: &Topology, quiet: bool) -> Option<Progress> {
        let total: u64 = topology
            .traces
            .iter()
            .filter_map(|t| std::fs::metadata(&t.path).ok())
            .map(|m| m.len())
            .sum();
        if !wanted(total, quiet, std::io::stderr().is_terminal()) {
            return None;
        }
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        let style =
            ProgressStyle::with_template("reading traces {wide_bar} {bytes}/{total_bytes} {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        let counter = Arc::new(AtomicU64::new(0));
        let done = Arc::new(AtomicBool::new(false));
        let drawer = {
            let (counter, done) = (Arc::clone(&counter), Arc::clone(&done));
            std::thread::spawn(move || {
                while !done.load(Ordering::Relaxed) {
                    bar.set_position(counter.load(Ordering::Relaxed).min(total));
                    std::thread::sleep(REDRAW);
                }
                bar.finish_and_clear();
            })
        };
        Some(Progress {
            counter,
            done,
            drawer: Some(drawer),
        })
    }

    /// Removes the bar.
    pub fn finish(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(drawer) = self.drawer.take() {
            let _ = drawer.join();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bar_only_for_large_input_on_a_terminal_without_quiet() {
        assert!(wanted(LARGE_INPUT, false, true));
        assert!(!wanted(LARGE_INPUT, true, true), "--quiet");
        assert!(!wanted(LARGE_INPUT, false, false), "standard error piped");
        assert!(!wanted(LARGE_INPUT - 1, false, true), "small input");
    }
}
