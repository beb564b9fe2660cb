//! The strace command line netcheck relies on.

use std::ffi::OsString;
use std::path::Path;

/// Syscalls kept in the trace besides strace's `%network` and `%process` classes: every call that
/// creates, duplicates, closes, reads, writes or waits on a descriptor, which fd folding needs to
/// follow sockets across dup, fork and fd reuse.
///
/// strace's `%desc` class covers all of these (except `close_range`), but also every stat, seek and
/// mmap, which tripled the size of an interpreter's trace without telling anything about sockets;
/// hence the explicit list. `?` makes strace skip a name its version does not know.
const DESCRIPTOR_CALLS: &[&str] = &[
    // data
    "read",
    "write",
    "readv",
    "writev",
    "sendfile",
    "sendfile64",
    "splice",
    "tee",
    "vmsplice",
    "copy_file_range",
    // descriptor table
    "close",
    "close_range",
    "dup",
    "dup2",
    "dup3",
    "fcntl",
    "fcntl64",
    "ioctl",
    "pidfd_getfd",
    // readiness
    "select",
    "_newselect",
    "pselect6",
    "poll",
    "ppoll",
    "epoll_create",
    "epoll_create1",
    "epoll_ctl",
    "epoll_wait",
    "epoll_pwait",
    "epoll_pwait2",
    // other calls that return a new descriptor (so a reused number is not taken for a socket)
    "open",
    "openat",
    "openat2",
    "creat",
    "pipe",
    "pipe2",
    "eventfd",
    "eventfd2",
    "signalfd",
    "signalfd4",
    "timerfd_create",
    "memfd_create",
    "pidfd_open",
    "inotify_init",
    "inotify_init1",
    "fanotify_init",
    "userfaultfd",
    "perf_event_open",
    "io_uring_setup",
];

/// The `-e` qualifier: `trace=%network,%process,?read,?write,...`.
pub fn syscall_filter() -> String {
    let mut filter = String::from("trace=%network,%process");
    for call in DESCRIPTOR_CALLS {
        filter.push_str(",?");
        filter.push_str(call);
    }
    filter
}

/// What strace traces: a command it starts, or a running process it attaches to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Traced {
    /// The program and its arguments.
    Command(Vec<String>),
    /// A running process (`strace -p`): with `-f`, all its threads and the children it starts.
    Process(u32),
}

/// Arguments for `strace` (without the program name itself) that trace `traced` into `output`.
///
/// `-f` follows forks and threads into one file, `-ttt` and `-T` give each call its wall-clock
/// start and duration, `-yy` decorates descriptors with their socket endpoints, and `-s` keeps
/// payloads readable up to `string_limit` bytes.
pub fn strace_args(output: &Path, string_limit: u32, traced: &Traced) -> Vec<OsString> {
    let mut args: Vec<OsString> = [
        "-f",
        "-ttt",
        "-T",
        "-yy",
        "-s",
        &string_limit.max(1).to_string(),
        "-e",
        &syscall_filter(),
        "-o",
    ]
    .iter()
    .map(OsString::from)
    .collect();
    args.push(output.as_os_str().to_owned());
    match traced {
        Traced::Command(command) => {
            args.push("--".into());
            args.extend(command.iter().map(OsString::from));
        }
        Traced::Process(pid) => {
            args.push("-p".into());
            args.push(pid.to_string().into());
        }
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command(words: &[&str]) -> Traced {
        Traced::Command(words.iter().map(|w| w.to_string()).collect())
    }

    #[test]
    fn a_running_process_is_attached_to_with_the_same_flags() {
        let args = as_strings(&strace_args(Path::new("t"), 4096, &Traced::Process(4242)));
        for flag in ["-f", "-ttt", "-T", "-yy"] {
            assert!(args.contains(&flag.to_string()), "{flag} in {args:?}");
        }
        assert_eq!(&args[args.len() - 2..], ["-p", "4242"]);
        assert!(!args.contains(&"--".to_string()));
    }

    fn as_strings(args: &[OsString]) -> Vec<String> {
        args.iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn carries_every_flag_the_parser_relies_on() {
        let args = as_strings(&strace_args(
            Path::new("out.trace"),
            4096,
            &command(&["true"]),
        ));
        for flag in ["-f", "-ttt", "-T", "-yy"] {
            assert!(
                args.contains(&flag.to_string()),
                "missing {flag} in {args:?}"
            );
        }
        let s = args.iter().position(|a| a == "-s").expect("-s present");
        assert_eq!(args[s + 1], "4096");
        let o = args.iter().position(|a| a == "-o").expect("-o present");
        assert_eq!(args[o + 1], "out.trace");
    }

    #[test]
    fn command_follows_the_separator_verbatim() {
        let command: Vec<String> = ["python3", "-c", "print('-f')"].map(String::from).to_vec();
        let args = as_strings(&strace_args(
            Path::new("t"),
            64,
            &Traced::Command(command.clone()),
        ));
        let sep = args.iter().position(|a| a == "--").expect("separator");
        assert_eq!(&args[sep + 1..], command.as_slice());
    }

    #[test]
    fn zero_string_limit_is_raised_to_one() {
        let args = as_strings(&strace_args(Path::new("t"), 0, &command(&["true"])));
        let s = args.iter().position(|a| a == "-s").expect("-s present");
        assert_eq!(args[s + 1], "1");
    }

    #[test]
    fn filter_keeps_network_process_and_descriptor_calls() {
        let filter = syscall_filter();
        assert!(filter.starts_with("trace=%network,%process,"), "{filter}");
        let calls: Vec<&str> = filter.split(',').collect();
        for call in [
            "?dup",
            "?dup2",
            "?dup3",
            "?close",
            "?close_range",
            "?fcntl",
            "?ioctl",
        ] {
            assert!(calls.contains(&call), "{call} not kept in {filter}");
        }
        for call in [
            "?select",
            "?pselect6",
            "?poll",
            "?ppoll",
            "?epoll_wait",
            "?read",
            "?write",
        ] {
            assert!(calls.contains(&call), "{call} not kept in {filter}");
        }
        assert!(!calls
            .iter()
            .any(|c| c.contains("stat") || c.contains("mmap")));
    }
}
