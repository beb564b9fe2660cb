//! Running the program under strace, and telling apart the ways that can fail before it starts.

use std::ffi::OsString;
use std::io;
use std::net::IpAddr;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};

use super::addresses::{host_addresses, process_addresses};
use super::flags::{strace_args, Traced};
use super::signals::{pass_on, StopSignals};

/// How often a recording checks for a stop signal to pass on.
const STOP_POLL: std::time::Duration = std::time::Duration::from_millis(50);

/// What to record and where.
#[derive(Debug, Clone)]
pub struct RecordRequest {
    /// The trace file strace writes.
    pub output: PathBuf,
    /// strace's `-s`: payload bytes shown per string.
    pub string_limit: u32,
    /// The program to start, or the running process to attach to.
    pub traced: Traced,
    /// The strace executable (a name looked up in `PATH`, or a path).
    pub strace: OsString,
}

impl RecordRequest {
    /// A request with netcheck's defaults: `strace` from `PATH`, strings up to 4096 bytes.
    pub fn new(output: PathBuf, command: Vec<String>) -> Self {
        RecordRequest {
            output,
            string_limit: 4096,
            traced: Traced::Command(command),
            strace: "strace".into(),
        }
    }
}

/// How the recorded program ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgramExit {
    /// It exited with this status.
    Exited(i32),
    /// It was killed by this signal (strace re-raises the program's fatal signal on itself).
    Killed(i32),
    /// An attached process: the recording was stopped and strace detached from it, leaving it
    /// running.
    Detached,
    /// An attached process ended while strace was attached to it.
    EndedWhileAttached,
}

impl std::fmt::Display for ProgramExit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProgramExit::Exited(code) => write!(f, "exited with status {code}"),
            ProgramExit::Killed(signal) => write!(f, "was killed by signal {signal}"),
            ProgramExit::Detached => write!(f, "keeps running (strace detached from it)"),
            ProgramExit::EndedWhileAttached => write!(f, "ended while strace was attached"),
        }
    }
}

/// The result of a recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub exit: ProgramExit,
    /// This network namespace's addresses, for the config's `ip` lines.
    pub addresses: Vec<IpAddr>,
}

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("{} is not installed (install it with `apt-get install strace`, `dnf install strace` or `apk add strace`)", .strace.to_string_lossy())]
    StraceMissing { strace: OsString },
    #[error("strace may not trace processes here: {detail}\n  ptrace is restricted: check /proc/sys/kernel/yama/ptrace_scope (0 or 1 allows tracing your own children), and inside a container grant CAP_SYS_PTRACE (e.g. `docker run --cap-add SYS_PTRACE`)")]
    PtraceDenied { detail: String },
    #[error("strace does not work: {detail}")]
    StraceBroken { detail: String },
    #[error("cannot run {}: {source}", .strace.to_string_lossy())]
    Spawn { strace: OsString, source: io::Error },
    #[error("no trace was written to {}: strace could not start the program (see its message above)", .output.display())]
    NothingRecorded { output: PathBuf },
    #[error("strace ended without an exit status")]
    NoExitStatus,
    #[error("no process {pid} to attach to (it is not running, or /proc is not mounted)")]
    NoSuchProcess { pid: u32 },
}

/// Traces `request.traced` into `request.output`, waits for it (or, attached to a running
/// process, for a stop signal), and reports how it ended.
///
/// strace is first tried on itself (`strace -V`, traced with no syscalls shown) so that a missing
/// strace or a ptrace restriction is reported as such rather than as a failure of the program.
pub fn record(request: &RecordRequest) -> Result<Recorded, RecordError> {
    check_strace_can_trace(&request.strace)?;
    let attached = match request.traced {
        Traced::Process(pid) if !std::path::Path::new(&format!("/proc/{pid}")).exists() => {
            return Err(RecordError::NoSuchProcess { pid });
        }
        Traced::Process(pid) => Some(pid),
        Traced::Command(_) => None,
    };
    // A stale trace from an earlier run must not pass for this run's.
    let _ = std::fs::remove_file(&request.output);
    let stop = StopSignals::catch();
    let spawn_error = |source| RecordError::Spawn {
        strace: request.strace.clone(),
        source,
    };
    let mut strace = Command::new(&request.strace)
        .args(strace_args(
            &request.output,
            request.string_limit,
            &request.traced,
        ))
        .spawn()
        .map_err(spawn_error)?;
    // Waits for strace, passing on a SIGINT or SIGTERM sent to netcheck to the program it
    // started; an attached process is left running: strace itself is asked to detach.
    let mut detached = false;
    let status = loop {
        if let Some(signal) = stop.take() {
            match attached {
                Some(_) => {
                    detach(strace.id());
                    detached = true;
                }
                None => pass_on(strace.id(), signal),
            }
        }
        match strace.try_wait().map_err(spawn_error)? {
            Some(status) => break status,
            None => std::thread::sleep(STOP_POLL),
        }
    };
    drop(stop);
    let wrote_trace = std::fs::metadata(&request.output)
        .map(|m| m.len() > 0)
        .unwrap_or(false);
    if !wrote_trace {
        return Err(RecordError::NothingRecorded {
            output: request.output.clone(),
        });
    }
    let (exit, addresses) = match attached {
        Some(pid) => {
            let exit = if detached {
                ProgramExit::Detached
            } else {
                ProgramExit::EndedWhileAttached
            };
            // The process's own namespace (it may not be netcheck's); read before it is gone
            // if it still runs, else this namespace's.
            let own = process_addresses(pid);
            (
                exit,
                if own.is_empty() {
                    host_addresses()
                } else {
                    own
                },
            )
        }
        None => (program_exit(status)?, host_addresses()),
    };
    Ok(Recorded { exit, addresses })
}

/// Asks strace to stop tracing: on SIGINT it detaches from the processes it attached to and
/// exits, and they go on running.
fn detach(strace_pid: u32) {
    let Ok(pid) = libc::pid_t::try_from(strace_pid) else {
        return;
    };
    // SAFETY: kill has no memory effects; a strace that already exited only makes it fail.
    unsafe {
        libc::kill(pid, libc::SIGINT);
    }
}

fn program_exit(status: ExitStatus) -> Result<ProgramExit, RecordError> {
    if let Some(code) = status.code() {
        return Ok(ProgramExit::Exited(code));
    }
    status
        .signal()
        .map(ProgramExit::Killed)
        .ok_or(RecordError::NoExitStatus)
}

fn check_strace_can_trace(strace: &OsString) -> Result<(), RecordError> {
    let probe = Command::new(strace)
        .args(["-qq", "-o", "/dev/null", "-e", "trace=none", "--"])
        .arg(strace)
        .arg("-V")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output();
    let probe = match probe {
        Ok(probe) => probe,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(RecordError::StraceMissing {
                strace: strace.clone(),
            })
        }
        Err(source) => {
            return Err(RecordError::Spawn {
                strace: strace.clone(),
                source,
            })
        }
    };
    if probe.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&probe.stderr);
    let detail = stderr
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("no message")
        .trim()
        .to_string();
    if is_ptrace_denial(&stderr) {
        Err(RecordError::PtraceDenied { detail })
    } else {
        Err(RecordError::StraceBroken { detail })
    }
}

/// strace reports a refused PTRACE_TRACEME/PTRACE_SEIZE with EPERM's text.
fn is_ptrace_denial(stderr: &str) -> bool {
    stderr.contains("Operation not permitted") || stderr.contains("EPERM")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ptrace_denial_is_recognised_from_stracess_message() {
        assert!(is_ptrace_denial(
            "strace: test_ptrace_get_syscall_info: PTRACE_TRACEME: Operation not permitted\n"
        ));
        assert!(!is_ptrace_denial("strace: invalid option -- 'Q'\n"));
    }

    #[test]
    fn missing_strace_is_reported_with_an_install_hint() {
        let request = RecordRequest {
            strace: "/nonexistent/strace-for-netcheck-tests".into(),
            ..RecordRequest::new(PathBuf::from("/nonexistent/out.trace"), vec!["true".into()])
        };
        let error = record(&request).expect_err("no strace at that path");
        assert!(
            matches!(error, RecordError::StraceMissing { .. }),
            "{error:?}"
        );
        assert!(error.to_string().contains("apt-get install strace"));
    }

    #[test]
    fn exit_codes_and_signals_are_told_apart() {
        assert_eq!(
            program_exit(ExitStatus::from_raw(3 << 8)).ok(),
            Some(ProgramExit::Exited(3))
        );
        assert_eq!(
            program_exit(ExitStatus::from_raw(9)).ok(),
            Some(ProgramExit::Killed(9))
        );
    }
}
