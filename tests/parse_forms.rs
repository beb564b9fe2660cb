//! Reader-level behaviour on small hand-written traces: pid and timestamp forms, unfinished and
//! resumed calls, process lines, strace's own messages, `-ff` sets, and the line accounting.

use std::path::{Path, PathBuf};

use netcheck::parse::{
    Call, Errno, ParseStats, Part, ProcessEvent, Syscall, SyscallName, TraceEvent, TraceReader,
};
use netcheck::source::TraceId;

/// A temporary directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "netcheck-parse-{tag}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn read_path(path: &Path) -> (Vec<TraceEvent>, ParseStats) {
    let mut reader = TraceReader::open(path, TraceId(0)).unwrap();
    let events: Vec<TraceEvent> = reader.by_ref().collect();
    let stats = reader.stats().clone();
    assert_eq!(stats.accounted_lines(), stats.lines, "{stats:#?}");
    (events, stats)
}

fn read_text(tag: &str, text: &str) -> (Vec<TraceEvent>, ParseStats) {
    let dir = TempDir::new(tag);
    read_path(&dir.write("trace", text))
}

fn calls_of(events: &[TraceEvent]) -> Vec<&Call> {
    events
        .iter()
        .filter_map(|e| match e {
            TraceEvent::Call(c) => Some(c),
            _ => None,
        })
        .collect()
}

#[test]
fn follow_forks_into_a_file() {
    let (events, stats) = read_text(
        "f",
        "100   socket(AF_INET, SOCK_STREAM, IPPROTO_IP) = 3\n\
         100   mmap(NULL, 8192, PROT_READ, MAP_PRIVATE, -1, 0) = 0x7f00\n\
         101   close(3)                          = 0\n",
    );
    let calls = calls_of(&events);
    assert_eq!(calls.iter().map(|c| c.pid).collect::<Vec<_>>(), [100, 101]);
    assert_eq!(calls[1].loc.line, 3);
    assert_eq!(
        (stats.lines, stats.calls, stats.ignored.get("mmap")),
        (3, 2, Some(&1))
    );
}

#[test]
fn no_pid_column_means_pid_zero() {
    let (events, _) = read_text(
        "nopid",
        "close(3) = 0\nclose(4) = -1 EBADF (Bad file descriptor)\n",
    );
    let calls = calls_of(&events);
    assert_eq!(calls.iter().map(|c| c.pid).collect::<Vec<_>>(), [0, 0]);
    assert_eq!(calls[1].outcome.errno, Some(Errno::EBADF));
}

#[test]
fn timestamps_durations_and_instruction_pointers() {
    let (events, _) = read_text(
        "times",
        "7 23:59:59.500000 close(3) = 0 <0.000010>\n\
         7 00:00:00.250000 close(4) = 0 <0.000123>\n",
    );
    let calls = calls_of(&events);
    assert_eq!(calls[0].time, Some(86_399.5));
    // Past midnight the day goes on.
    assert_eq!(calls[1].time, Some(86_400.25));
    assert_eq!(calls[1].duration, Some(0.000123));
    let (events, _) = read_text(
        "ttt",
        "[pid 9] 1700000000.500000 [00007f3c2a1b2c3d] close(3) = 0\n",
    );
    assert_eq!(calls_of(&events)[0].time, Some(1_700_000_000.5));
    let (events, _) = read_text(
        "relative",
        "     0.000000 close(3) = 0\n     0.500000 close(4) = 0\n     0.250000 close(5) = 0\n",
    );
    let times: Vec<_> = calls_of(&events).iter().map(|c| c.time.unwrap()).collect();
    assert_eq!(times, [0.0, 0.5, 0.75]);
}

#[test]
fn unfinished_calls_resume_per_pid_across_interleaving() {
    let (events, stats) = read_text(
        "resume",
        "10 accept4(3,  <unfinished ...>\n\
         11 read(5,  <unfinished ...>\n\
         12 futex(0x1, FUTEX_WAIT, 0, NULL <unfinished ...>\n\
         11 <... read resumed>\"hi\", 10) = 2\n\
         10 <... accept4 resumed>{sa_family=AF_INET, sin_port=htons(5000), sin_addr=inet_addr(\"10.0.0.2\")}, [16], SOCK_CLOEXEC) = 4\n\
         12 <... futex resumed>) = 0\n\
         13 recvfrom(6,  <unfinished ...>\n",
    );
    let calls = calls_of(&events);
    // The receive still unfinished at the end is handed on as a call that never returned.
    assert_eq!(calls.len(), 3);
    assert_eq!(
        (calls[0].name, calls[0].pid, calls[0].loc.line),
        (SyscallName::Read, 11, 2)
    );
    assert_eq!(
        (calls[2].name, calls[2].pid, calls[2].loc.line),
        (SyscallName::Recvfrom, 13, 7)
    );
    assert!(calls[2].outcome.never_returned());
    let Syscall::Recv { data, .. } = &calls[0].syscall else {
        panic!()
    };
    assert_eq!(data.shown(), b"hi");
    assert!(matches!(
        calls[1].syscall,
        Syscall::Accept {
            new_fd: Some(4),
            ..
        }
    ));
    assert_eq!(stats.merged_unfinished, 2);
    assert_eq!(stats.ignored.get("futex"), Some(&2));
    assert_eq!(stats.unfinished_at_end, 1);
}

#[test]
fn a_call_left_by_exit_resumes_with_unknown_result() {
    let (events, stats) = read_text(
        "exit-resume",
        "5 read(3,  <unfinished ...>\n\
         6 exit_group(0) = ?\n\
         5 <... read resumed> <unfinished ...>) = ?\n\
         5 +++ exited with 0 +++\n\
         6 +++ killed by SIGKILL +++\n",
    );
    let calls = calls_of(&events);
    assert_eq!(calls[1].name, SyscallName::Read);
    assert_eq!(calls[1].outcome.value, None);
    assert_eq!(stats.process_events, 2);
    assert!(events.iter().any(|e| matches!(e,
        TraceEvent::Process { pid: 6, event: ProcessEvent::Killed { signal }, .. } if signal == "SIGKILL")));
}

#[test]
fn signals_exits_and_strace_messages() {
    let (events, stats) = read_text(
        "process",
        "strace: Process 1234 attached\n\
         [pid  1234] --- SIGPIPE {si_signo=SIGPIPE, si_code=SI_USER, si_pid=1234} ---\n\
         Process 1234 detached\n\
         [pid  1234] +++ exited with 3 +++\n\
         \n",
    );
    assert_eq!(stats.skipped, 3);
    assert!(
        matches!(&events[0], TraceEvent::Process { pid: 1234, event: ProcessEvent::Signal { signal }, .. } if signal == "SIGPIPE")
    );
    assert!(matches!(
        &events[1],
        TraceEvent::Process {
            event: ProcessEvent::Exited { code: 3 },
            ..
        }
    ));
}

#[test]
fn strace_stream_with_an_attach_note_inside_a_line() {
    let (events, stats) = read_text(
        "stderr",
        "socket(AF_INET, SOCK_STREAM, IPPROTO_IP) = 3\n\
         clone3({flags=CLONE_VM|CLONE_FILES|CLONE_THREAD, exit_signal=0}strace: Process 474 attached\n\
          => {parent_tid=[474]}, 88) = 474\n\
         [pid   474] close(3) = 0\n\
         [pid   457] close(4) = 0\n\
         [pid   474] +++ exited with 0 +++\n\
         close(5) = 0\n",
    );
    let calls = calls_of(&events);
    // Lines printed before any pid column belong to the process that later shows as 457.
    assert_eq!(
        calls.iter().map(|c| c.pid).collect::<Vec<_>>(),
        [457, 457, 474, 457, 457]
    );
    assert!(matches!(
        calls[1].syscall,
        Syscall::Spawn {
            child: Some(474),
            shares_fds: true,
            ..
        }
    ));
    assert_eq!(calls[1].loc.line, 2);
    assert_eq!(stats.skipped, 1);
}

#[test]
fn old_strace_attach_notes_without_prefix() {
    let (events, stats) = read_text(
        "old-note",
        "[pid 10] clone(child_stack=0, flags=CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f01) = 11\n\
         [pid 10] vfork(Process 12 attached\n\
         ) = 12\n\
         [pid 12] close(3) = 0\n",
    );
    assert_eq!(stats.unparsed, 0, "{:#?}", stats.first_unparsed);
    let spawned: Vec<Option<u32>> = calls_of(&events)
        .iter()
        .filter_map(|c| match c.syscall {
            Syscall::Spawn { child, .. } => Some(child),
            _ => None,
        })
        .collect();
    assert_eq!(spawned, [Some(11), Some(12)]);
}

#[test]
fn unparsable_lines_are_counted_with_samples_and_reading_goes_on() {
    let (events, stats) = read_text(
        "garbage",
        "1 close(3) = 0\n\
         1 connect(zz, NULL, 0) = 0\n\
         @@@ not strace\n\
         1 <... recvfrom resumed>\"x\", 1, 0, NULL, NULL) = 1\n\
         1 close(4) = 0",
    );
    assert_eq!(
        calls_of(&events).len(),
        2,
        "the last line has no newline and still counts"
    );
    assert_eq!(stats.unparsed, 3);
    let first = &stats.first_unparsed[0];
    assert_eq!((first.loc.line, first.column), (2, 11));
    assert!(first.reason.contains("file descriptor"), "{}", first.reason);
    assert!(stats.first_unparsed[2]
        .reason
        .contains(&Part::ResumedWithoutStart.to_string()));
    assert!(stats.first_unparsed[1].path.ends_with("trace"));
}

#[test]
fn unknown_errno_names_still_parse() {
    let (events, stats) = read_text(
        "errno",
        "connect(3, NULL, 0) = -1 EBRANDNEW (Something new)\n",
    );
    assert_eq!(stats.unparsed, 0);
    assert_eq!(calls_of(&events)[0].outcome.errno, Some(Errno::OTHER));
}

#[test]
fn ff_sets_merge_by_fork_without_timestamps() {
    let dir = TempDir::new("ff-fork");
    dir.write("out.200", "socket(AF_INET, SOCK_STREAM, IPPROTO_IP) = 3\nclone(child_stack=NULL, flags=SIGCHLD) = 201\nclose(3) = 0\n+++ exited with 0 +++\n");
    dir.write("out.201", "close(3) = 0\n+++ exited with 0 +++\n");
    let (events, stats) = read_path(&dir.0.join("out"));
    let order: Vec<(u32, u32, u64)> = events
        .iter()
        .map(|e| match e {
            TraceEvent::Call(c) => (c.pid, c.loc.file, c.loc.line),
            TraceEvent::Process { pid, loc, .. } => (*pid, loc.file, loc.line),
        })
        .collect();
    assert_eq!(
        order,
        [
            (200, 0, 1),
            (200, 0, 2),
            (201, 1, 1),
            (201, 1, 2),
            (200, 0, 3),
            (200, 0, 4)
        ]
    );
    assert_eq!(stats.lines, 6);
    // One member names the whole set too.
    let (again, _) = read_path(&dir.0.join("out.201"));
    assert_eq!(again.len(), events.len());
}

#[test]
fn ff_sets_merge_by_timestamp() {
    let dir = TempDir::new("ff-time");
    dir.write(
        "t.300",
        "10:00:00.000001 close(3) = 0\n10:00:00.000005 close(5) = 0\n",
    );
    dir.write("t.301", "10:00:00.000003 close(4) = 0\n");
    let (events, _) = read_path(&dir.0.join("t"));
    let fds: Vec<i32> = calls_of(&events)
        .iter()
        .map(|c| c.syscall.primary_fd().unwrap())
        .collect();
    assert_eq!(fds, [3, 4, 5]);
}

#[test]
fn opening_errors_name_the_path() {
    let dir = TempDir::new("open");
    let missing = TraceReader::open(&dir.0.join("nothing"), TraceId(0))
        .err()
        .unwrap();
    assert!(missing.to_string().contains("nothing"));
    assert!(TraceReader::open(&dir.0, TraceId(0)).is_err());
}

#[test]
fn lines_over_the_length_cap_are_unparsed_not_buffered() {
    let long = format!(
        "1 write(1, \"{}\", 5) = 5\n1 close(3) = 0\n",
        "a".repeat(17 * 1024 * 1024)
    );
    let (events, stats) = read_text("long", &long);
    assert_eq!(calls_of(&events).len(), 1);
    assert_eq!(stats.unparsed, 1);
    assert!(stats.first_unparsed[0].reason.contains("length limit"));
}

#[test]
fn accept_with_a_short_address_buffer_takes_the_peer_from_the_decoration() {
    let (events, stats) = read_text(
        "short-accept",
        "8158  1795566955.218467 accept(5<TCPv6:[[fd77::10]:7000]>, {sa_family=AF_INET6, sa_data=\"\\206b\\0\\0\\0\\0\\375w\\0\\0\\0\\0\\0\\0\"}, [16 => 28]) = 6<TCPv6:[[fd77::10]:7000->[fd77::21]:34402]> <0.000019>\n",
    );
    assert_eq!(stats.unparsed, 0);
    let calls = calls_of(&events);
    match &calls[0].syscall {
        Syscall::Accept { peer, new_fd, .. } => {
            assert_eq!(*new_fd, Some(6));
            assert_eq!(
                *peer,
                Some(netcheck::parse::SockAddr::Inet(
                    "[fd77::21]:34402".parse().unwrap()
                ))
            );
        }
        other => panic!("expected accept, got {other:?}"),
    }
}

#[test]
fn calls_left_by_exit_are_unfinished_not_unparsed() {
    // memcached's worker thread in epoll_wait when the process exited (strace 6.1, -f -ttt -T -yy).
    let (events, stats) = read_text(
        "left-by-exit",
        "20688 1796551796.046627 epoll_wait(7<anon_inode:[eventpoll]>,  <unfinished ...>\n\
         20686 1796551797.882595 exit_group(0)   = ?\n\
         20688 1796551797.887016 <... epoll_wait resumed> <unfinished ...>) = ?\n\
         3530  1796552125.611793 epoll_pwait(4<anon_inode:[eventpoll]>,  <unfinished ...>) = ?\n\
         3531  1796552125.611800 connect(5, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr(\"10.0.0.2\")}, 16 <unfinished ...>) = ?\n\
         20688 1796551797.887158 +++ exited with 0 +++\n",
    );
    assert_eq!(stats.unparsed, 0, "{:?}", stats.first_unparsed);
    // Both epoll waits (left by exit over two lines, or cut on one) are read as waits that never
    // returned, naming their instance; the connect's arguments were all printed.
    assert_eq!(stats.unfinished_at_end, 0);
    // A connect whose arguments were all printed is still a connect (its SYN left).
    let calls = calls_of(&events);
    assert!(
        calls.iter().any(|c| c.name == SyscallName::Connect),
        "{calls:?}"
    );
    let left = calls
        .iter()
        .filter(|c| {
            matches!(c.name, SyscallName::EpollWait | SyscallName::EpollPwait)
                && c.outcome.never_returned()
        })
        .count();
    assert_eq!(left, 2, "{calls:?}");
}

#[test]
fn without_t_a_resumed_call_lasts_from_its_first_stamp_to_its_resumed_stamp() {
    // Go's epoll wait, split by another thread's line; plain `strace -f -tt`.
    let (events, _) = read_text(
        "resumed-duration",
        "27589 10:18:08.887959 epoll_pwait(5,  <unfinished ...>\n\
         27593 10:18:08.888107 nanosleep({tv_sec=0, tv_nsec=20000}, NULL) = 0\n\
         27589 10:18:12.414791 <... epoll_pwait resumed>0x7ffeb5c71ab8, 128, -1, NULL, 0) = -1 EINTR (Interrupted system call)\n\
         27593 10:18:12.500000 read(3,  <unfinished ...>\n\
         27593 10:18:12.600000 <... read resumed>\"x\", 1) = 1 <0.000020>\n",
    );
    let calls = calls_of(&events);
    let wait = calls
        .iter()
        .find(|c| c.name == SyscallName::EpollPwait)
        .expect("the wait");
    let lasted = wait.duration.expect("a duration from the two stamps");
    assert!((lasted - 3.526832).abs() < 1e-6, "{lasted}");
    // `-T`'s own figure wins where strace printed one.
    let read = calls
        .iter()
        .find(|c| c.name == SyscallName::Read)
        .expect("the read");
    assert_eq!(read.duration, Some(0.000020));
}
