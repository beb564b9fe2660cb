//! The token tree of a call's arguments gives the items, keys, values and bracket groups that
//! the scanner (`parse::value`) gives, on every argument text of the recorded traces, on real
//! argument texts mutated at random and on arbitrary bytes; and reading never panics.

use std::path::Path;

use netcheck::parse::frame;
use netcheck::parse::tokens::{Item, Items, Tokens};
use netcheck::parse::value;
use proptest::prelude::*;

/// Compares the tree of `text` with the scanner's reading; `false` when the tokenizer declined
/// the text (its brackets do not match), which leaves the scanner to read it.
fn same_reading(text: &[u8]) -> bool {
    let mut tokens = Tokens::default();
    if !tokens.read(text) {
        return false;
    }
    let tree = tokens.tree(text);
    same_items(Some(tree.items()), Some(text), text, 0);
    true
}

fn same_items(tree: Option<Items>, scanned: Option<&[u8]>, whole: &[u8], depth: usize) {
    let show = || String::from_utf8_lossy(whole).into_owned();
    let (tree, scanned) = match (tree, scanned) {
        (None, None) => return,
        (Some(tree), Some(scanned)) => (tree, scanned),
        (tree, scanned) => panic!(
            "group read by one side only (tree {}, scanner {}) in {}",
            tree.is_some(),
            scanned.is_some(),
            show()
        ),
    };
    let tree: Vec<Item> = tree.collect();
    let scanned: Vec<&[u8]> = value::items(scanned).collect();
    let texts: Vec<&[u8]> = tree.iter().map(|item| item.text()).collect();
    assert_eq!(texts, scanned, "items of {}", show());
    if depth > 16 {
        return;
    }
    for (item, text) in tree.into_iter().zip(scanned) {
        let (key, val) = value::field(text);
        assert_eq!(item.key(), key, "key of {}", show());
        assert_eq!(item.value().text(), val, "value of {}", show());
        for (open, close) in [(b'{', b'}'), (b'[', b']')] {
            let whole_group = value::inner(text, open, close);
            same_items(item.group(open), whole_group, whole, depth + 1);
            let value_group = value::inner(val, open, close);
            same_items(item.value().group(open), value_group, whole, depth + 1);
        }
    }
}

/// The argument text of a complete call line, as the reader hands it to the typed conversion.
fn arguments(line: &[u8]) -> Option<&[u8]> {
    let framed = frame::frame(line).ok()?;
    let frame::Body::Call { tail, .. } = framed.body else {
        return None;
    };
    Some(frame::split_tail(tail).ok()?.args)
}

fn trace_files(dir: &Path, found: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            trace_files(&path, found);
        } else if path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with(".trace") || n.contains(".strace"))
        {
            found.push(path);
        }
    }
}

#[test]
fn every_recorded_argument_text_reads_the_same() {
    let mut files = Vec::new();
    trace_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures"),
        &mut files,
    );
    assert!(files.len() > 100, "fixtures not found");
    let (mut read, mut declined) = (0u64, 0u64);
    for file in files {
        let Ok(bytes) = std::fs::read(&file) else {
            continue;
        };
        for line in bytes.split(|&b| b == b'\n') {
            let Some(args) = arguments(line) else {
                continue;
            };
            if same_reading(args) {
                read += 1;
            } else {
                // `capset`'s `1<<CAP_CHOWN` reads as a decoration to both: left to the scanner.
                declined += 1;
            }
        }
    }
    // Recorded lines are well formed: the tree reads nearly all of them.
    assert!(
        read > 100 * declined.max(1),
        "{read} read, {declined} declined"
    );
}

/// Real argument texts, one of each shape the socket-heavy traces are made of.
const SAMPLES: &[&str] = &[
    r#"7<anon_inode:[eventpoll]>, [{events=EPOLLIN, data={u32=8, u64=8}}, {events=EPOLLIN|EPOLLRDHUP, data={u32=9, u64=9}}], 512, 60000"#,
    r#"3<TCP:[10.77.1.10:8000]>, {sa_family=AF_INET, sin_port=htons(20000), sin_addr=inet_addr("10.77.1.21")}, [112 => 16], SOCK_CLOEXEC|SOCK_NONBLOCK"#,
    r#"5<TCP:[10.77.1.21:20000->10.77.1.10:8000]>, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="GET / HTTP/1.1\r\n\r\n", iov_len=18}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, MSG_NOSIGNAL"#,
    r#"8<TCP:[10.77.1.10:8000->10.77.1.21:20000]>, [{iov_base="HTTP/1.0 200 OK\r\n\r\n", iov_len=19}, {iov_base="hello", iov_len=5}], 2"#,
    r#"[{fd=5<TCP:[10.77.1.21:20000->10.77.1.10:8000]>, events=POLLIN}], 1, 5000"#,
    r#"4, {sa_family=AF_INET6, sin6_port=htons(80), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28"#,
    r#"3, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="x", iov_len=1}], msg_iovlen=1, msg_control=[{cmsg_len=20, cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS, cmsg_data=[5<TCP:[1.2.3.4:5->6.7.8.9:10]>]}], msg_controllen=24, msg_flags=0}, 0"#,
    r#"{flags=CLONE_VM|CLONE_FILES, child_tid=0x7f6b257ae990, exit_signal=0} => {parent_tid=[474]}, 88"#,
    r#"0x2 /* AF_INET */, 0x1 /* SOCK_STREAM */|0x80800 /* SOCK_CLOEXEC|SOCK_NONBLOCK */, 0"#,
    r#"5, [{msg_hdr={msg_name=NULL, msg_namelen=0, msg_iov(1)=[{"abc", 3}], msg_controllen=0, msg_flags=0}, msg_len=3}], 1, 0"#,
];

/// A mutation of a real argument text: cut, byte replaced, byte inserted, or spliced.
fn mutated_text() -> impl Strategy<Value = Vec<u8>> {
    (
        0..SAMPLES.len(),
        0..SAMPLES.len(),
        any::<prop::sample::Index>(),
        prop::sample::select(b"{}[]()<>\",=/* \\.x0".to_vec()),
        0..4u8,
    )
        .prop_map(|(a, b, at, byte, kind)| {
            let mut text = SAMPLES[a].as_bytes().to_vec();
            let at = at.index(text.len() + 1);
            match kind {
                0 => text.truncate(at),
                1 => {
                    if let Some(slot) = text.get_mut(at) {
                        *slot = byte;
                    }
                }
                2 => text.insert(at, byte),
                _ => {
                    text.truncate(at);
                    text.extend_from_slice(SAMPLES[b].as_bytes());
                }
            }
            text
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_read_the_same(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        same_reading(&bytes);
    }

    #[test]
    fn strace_like_noise_reads_the_same(text in r#"([0-9 \[\]{}()<>"\\=,.|:a-z_/*-]|=>|->|/\*|\*/){0,120}"#) {
        same_reading(text.as_bytes());
    }

    #[test]
    fn mutated_real_arguments_read_the_same(text in mutated_text()) {
        same_reading(&text);
    }
}
