//! The parser never panics: not on arbitrary bytes, not on real strace lines cut, spliced or
//! mutated at random; and every line is still accounted for.

use std::io::Write;
use std::path::{Path, PathBuf};

use netcheck::parse::TraceReader;
use netcheck::source::TraceId;
use proptest::prelude::*;

/// Real lines, one of each shape the fixtures contain.
const SAMPLES: &[&str] = &[
    r#"320   connect(4<TCP:[57188]>, {sa_family=AF_INET, sin_port=htons(8203), sin_addr=inet_addr("127.0.0.1")}, 16) = -1 EINPROGRESS (Operation now in progress)"#,
    r#"326   <... accept4 resumed>{sa_family=AF_INET, sin_port=htons(58148), sin_addr=inet_addr("127.0.0.1")}, [16], SOCK_CLOEXEC) = 5<TCP:[127.0.0.1:8203->127.0.0.1:58148]>"#,
    "326   accept4(3<TCP:[127.0.0.1:8203]>,  <unfinished ...>",
    r#"320   <... poll resumed>)               = 1 ([{fd=4, revents=POLLOUT}])"#,
    r#"326   pselect6(4, [3], NULL, NULL, {tv_sec=5, tv_nsec=0}, NULL) = 1 (in [3], left {tv_sec=4, tv_nsec=976237766})"#,
    r#"326   recvmsg(5, {msg_name=0x7fac09f028c0, msg_namelen=16 => 0, msg_iov=[{iov_base="onetwo", iov_len=16}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, 0) = 6"#,
    r#"[pid   474] sendmsg(5, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="ab", iov_len=2}, {iov_base="c\n\t\0\377", iov_len=5}], msg_iovlen=2, msg_controllen=0, msg_flags=0}, 0) = 7"#,
    r#"765 00:34:19.222505 epoll_wait(3, [{events=EPOLLIN, data={u32=6, u64=6}}, {events=EPOLLOUT, data={u32=7, u64=7}}], 3, 0) = 2 <0.000010>"#,
    r#"clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD, child_tid=0x7f6b257ae990, exit_signal=0} => {parent_tid=[474]}, 88) = 474"#,
    r#"setsockopt(3, SOL_IP, IP_ADD_MEMBERSHIP, {imr_multiaddr=inet_addr("224.0.0.1"), imr_interface=inet_addr("0.0.0.0")}, 8) = 0"#,
    r#"589   sendto(5, "GET / HTTP/1.1\r\nHost: 127.0.0.1:"..., 78, MSG_NOSIGNAL, NULL, 0) = 78"#,
    r#"read(3, "\x7f\x45\x4c\x46\x02\x01", 832) = 832"#,
    r#"[pid 12] --- SIGPIPE {si_signo=SIGPIPE, si_code=SI_USER, si_pid=12, si_uid=0} ---"#,
    "+++ killed by SIGKILL (core dumped) +++",
    "strace: Process 474 attached",
    r#"connect(4, {sa_family=AF_INET6, sin6_port=htons(80), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = 0"#,
    "select(5, [3 4], [4], NULL, {tv_sec=1, tv_usec=500}) = 2 (in [3], out [4], left {tv_sec=0, tv_usec=1})",
    "fcntl(4, F_GETFL) = 0x802 (flags O_RDWR|O_NONBLOCK)",
    "exit_group(0)                           = ?",
];

fn scratch_file(bytes: &[u8]) -> PathBuf {
    // One file per proptest thread and case is enough: cases run one after another.
    let path: PathBuf = std::env::temp_dir().join(format!(
        "netcheck-proptest-{}-{:?}.strace",
        std::process::id(),
        std::thread::current().id()
    ));
    let mut file = std::fs::File::create(&path).unwrap();
    file.write_all(bytes).unwrap();
    path
}

fn parse_all(path: &Path) {
    let mut reader = TraceReader::open(path, TraceId(0)).unwrap();
    for event in reader.by_ref() {
        // Touch the event so nothing is optimised away.
        let _ = event.loc();
    }
    let stats = reader.stats();
    assert_eq!(stats.accounted_lines(), stats.lines, "{stats:#?}");
}

fn run(bytes: &[u8]) {
    let path = scratch_file(bytes);
    parse_all(&path);
    let _ = std::fs::remove_file(&path);
}

/// A mutation of a real line: cut, byte replaced, byte inserted, or spliced with another line.
fn mutated_line() -> impl Strategy<Value = Vec<u8>> {
    (
        0..SAMPLES.len(),
        0..SAMPLES.len(),
        any::<prop::sample::Index>(),
        any::<u8>(),
        0..4u8,
    )
        .prop_map(|(a, b, at, byte, kind)| {
            let mut line = SAMPLES[a].as_bytes().to_vec();
            let at = at.index(line.len() + 1);
            match kind {
                0 => line.truncate(at),
                1 => {
                    if let Some(slot) = line.get_mut(at) {
                        *slot = byte;
                    }
                }
                2 => line.insert(at, byte),
                _ => {
                    let other = SAMPLES[b].as_bytes();
                    let from = at.min(other.len());
                    line.truncate(at);
                    line.extend_from_slice(&other[from..]);
                }
            }
            line
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        run(&bytes);
    }

    #[test]
    fn strace_like_noise_never_panics(text in r#"([0-9 \[\]{}()<>"\\=,.|:a-z_A-Z-]|\.\.\.|<unfinished \.\.\.>|<\.\.\. read resumed>|\n){0,200}"#) {
        run(text.as_bytes());
    }

    #[test]
    fn mutated_real_lines_never_panic(lines in prop::collection::vec(mutated_line(), 1..12)) {
        let mut bytes = Vec::new();
        for line in lines {
            bytes.extend_from_slice(&line);
            bytes.push(b'\n');
        }
        run(&bytes);
    }
}

#[test]
fn every_sample_line_parses_cleanly() {
    let mut text = SAMPLES.join("\n");
    text.push('\n');
    let path = scratch_file(text.as_bytes());
    let mut reader = TraceReader::open(&path, TraceId(0)).unwrap();
    reader.by_ref().for_each(drop);
    let stats = reader.stats().clone();
    let _ = std::fs::remove_file(&path);
    // Out of context, the two resumed lines have no start and the unfinished accept4 never
    // resumes; every other line parses.
    assert_eq!(stats.unparsed, 2, "{:#?}", stats.first_unparsed);
    assert!(stats
        .first_unparsed
        .iter()
        .all(|u| u.text.contains("resumed>")));
    assert_eq!(stats.unfinished_at_end, 1);
    assert_eq!(stats.process_events, 2);
}

// Arguments nested a million levels deep (a crafted line; strace nests a few) are read without
// exhausting the stack of a reader thread, and the line is still accounted for.
#[test]
fn deeply_nested_arguments_do_not_exhaust_the_stack() {
    let depth = 1_000_000;
    let mut line = b"1 epoll_wait(3, ".to_vec();
    for _ in 0..depth {
        line.extend_from_slice(b"[{");
    }
    for _ in 0..depth {
        line.extend_from_slice(b"}]");
    }
    line.extend_from_slice(b", 8, 0) = 1\n1 close(3) = 0\n");
    let path = scratch_file(&line);
    let stats = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || {
            let mut reader = TraceReader::open(&path, TraceId(0)).unwrap();
            reader.by_ref().for_each(drop);
            let _ = std::fs::remove_file(&path);
            reader.stats().clone()
        })
        .unwrap()
        .join()
        .expect("the reader thread ended without a panic or a stack overflow");
    assert_eq!(stats.lines, 2);
    assert_eq!(stats.accounted_lines(), stats.lines, "{stats:#?}");
}
