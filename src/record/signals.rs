//! Stopping a recording: while strace runs, SIGINT and SIGTERM do not kill netcheck (it must
//! live on to print the stanza), and a signal sent to netcheck alone (`kill PID`) is passed on to
//! the traced program. A terminal's Ctrl-C already reaches the whole foreground process group,
//! the program included, so it is not sent twice.

use std::sync::atomic::{AtomicI32, Ordering};

/// The signal waiting to be passed on (0: none).
static PENDING: AtomicI32 = AtomicI32::new(0);

/// The signals a recording stops on.
pub const STOP_SIGNALS: [libc::c_int; 2] = [libc::SIGINT, libc::SIGTERM];

extern "C" fn on_stop_signal(
    signal: libc::c_int,
    info: *mut libc::siginfo_t,
    _context: *mut libc::c_void,
) {
    // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO handler; reading a field is
    // async-signal-safe, as is an atomic store.
    let sent_by_a_process = !info.is_null() && unsafe { (*info).si_code } <= libc::SI_USER;
    if sent_by_a_process {
        PENDING.store(signal, Ordering::SeqCst);
    }
}

/// Keeps the handlers installed; dropping it restores the previous dispositions.
pub struct StopSignals {
    previous: Vec<(libc::c_int, libc::sigaction)>,
}

impl StopSignals {
    /// Catches SIGINT and SIGTERM. A caught signal is reset to its default in exec'd children,
    /// so strace and the program still die of them.
    pub fn catch() -> StopSignals {
        PENDING.store(0, Ordering::SeqCst);
        let mut previous = Vec::new();
        for signal in STOP_SIGNALS {
            // SAFETY: a zeroed sigaction is a valid value; the handler only touches an atomic.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                let handler: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                    on_stop_signal;
                action.sa_sigaction = handler as usize;
                action.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
                libc::sigemptyset(&mut action.sa_mask);
                let mut old: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(signal, &action, &mut old) == 0 {
                    previous.push((signal, old));
                }
            }
        }
        StopSignals { previous }
    }

    /// The signal sent to netcheck since the last call, if any.
    pub fn take(&self) -> Option<i32> {
        match PENDING.swap(0, Ordering::SeqCst) {
            0 => None,
            signal => Some(signal),
        }
    }
}

impl Drop for StopSignals {
    fn drop(&mut self) {
        for (signal, old) in &self.previous {
            // SAFETY: restoring an action sigaction returned earlier.
            unsafe {
                libc::sigaction(*signal, old, std::ptr::null_mut());
            }
        }
    }
}

/// The children of process `pid` (of any of its threads), from `/proc`.
pub fn children_of(pid: u32) -> Vec<u32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("children")).ok())
        .flat_map(|list| {
            list.split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect::<Vec<u32>>()
        })
        .collect()
}

/// Passes `signal` on to the traced program (strace's children); to strace itself when it has
/// none yet.
pub fn pass_on(strace_pid: u32, signal: i32) {
    let mut targets = children_of(strace_pid);
    if targets.is_empty() {
        targets.push(strace_pid);
    }
    for pid in targets {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            continue;
        };
        // SAFETY: kill has no memory effects; a vanished pid only makes it fail.
        unsafe {
            libc::kill(pid, signal);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signal_sent_to_netcheck_is_caught_and_remembered() {
        let stop = StopSignals::catch();
        // SAFETY: signalling this process, whose handler is installed just above.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGTERM);
        }
        // Another thread may run the handler: give it a moment.
        let mut caught = None;
        for _ in 0..100 {
            caught = stop.take();
            if caught.is_some() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(caught, Some(libc::SIGTERM));
        assert_eq!(stop.take(), None);
    }

    #[test]
    fn children_are_read_from_proc() {
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .expect("sleep runs");
        let mine = children_of(std::process::id());
        let _ = child.kill();
        let _ = child.wait();
        assert!(mine.contains(&child.id()), "{mine:?}");
    }
}
