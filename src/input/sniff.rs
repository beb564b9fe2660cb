//! What an input is, from a bounded look at its head: strace text, a config file, or something
//! else. The look is bounded so an endless input (`/dev/zero`, a device, a pipe that never
//! ends) is refused after at most [`LONG_LINE_LIMIT`] bytes instead of being read forever.

use std::io::{self, Read};

/// How much is read to decide, when the head has complete lines.
pub const HEAD_BYTES: usize = 64 * 1024;
/// How far the first line may run before the input is judged not to be text lines at all.
/// strace's longest lines (a `-s 65535` read of a 64 KiB buffer, escaped) stay well below it.
pub const LONG_LINE_LIMIT: usize = 1024 * 1024;
/// Why an input holding only a `strace -c` call count table is refused.
pub const CALL_SUMMARY_REFUSAL: &str =
    "a call count summary (strace -c) without the calls: record without -c (-C prints both)";
/// How much of a foreign first line a message quotes.
const QUOTED_CHARS: usize = 80;

/// The config commands (any case) a config file's lines start with.
pub const CONFIG_COMMANDS: [&str; 5] = ["host", "trace", "ip", "nat", "ignore"];

/// What the head of an input looks like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// No bytes, or only white space.
    Empty,
    /// A NUL byte: strace escapes every non-printable byte, so its output never has one.
    Binary,
    /// Some line is a system call, an unfinished/resumed call or a `+++`/`---` note.
    Strace,
    /// No system-call line, and some line starts with a config command.
    Config,
    /// Only the call count table that `strace -c` prints instead of the calls: nothing in it
    /// can be replayed.
    CallSummary,
    /// Text with neither; `first_line` is quoted in the refusal.
    Other { first_line: String },
}

/// The first bytes of an input and their verdict.
#[derive(Debug, Clone)]
pub struct Head {
    pub bytes: Vec<u8>,
    pub content: Content,
}

/// Reads the head of `stream` and classifies it.
pub fn read_head(stream: &mut dyn Read) -> io::Result<Head> {
    let mut bytes = Vec::with_capacity(HEAD_BYTES);
    let mut at_end = fill(stream, &mut bytes, HEAD_BYTES)?;
    // One line longer than the head: read on to its end, within the bound.
    while !at_end && !bytes.contains(&b'\n') && bytes.len() < LONG_LINE_LIMIT {
        if bytes.contains(&0) {
            break;
        }
        let want = (bytes.len() * 2).min(LONG_LINE_LIMIT);
        at_end = fill(stream, &mut bytes, want)?;
    }
    let content = classify(&bytes, at_end);
    Ok(Head { bytes, content })
}

/// Reads until `buf` holds `want` bytes or the stream ends; true at the end.
fn fill(stream: &mut dyn Read, buf: &mut Vec<u8>, want: usize) -> io::Result<bool> {
    let mut chunk = [0u8; 8192];
    while buf.len() < want {
        let room = (want - buf.len()).min(chunk.len());
        match stream.read(&mut chunk[..room]) {
            Ok(0) => return Ok(true),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(false)
}

/// The verdict on a head; `at_end` says the head is the whole input.
pub fn classify(head: &[u8], at_end: bool) -> Content {
    let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    if head.contains(&0) {
        return Content::Binary;
    }
    if head.iter().all(u8::is_ascii_whitespace) {
        return Content::Empty;
    }
    let text = String::from_utf8_lossy(head);
    // The last piece is a whole line only when the input ends there.
    let complete = match text.rfind('\n') {
        _ if at_end => &text[..],
        Some(end) => &text[..end],
        None => &text[..],
    };
    if !at_end && !head.contains(&b'\n') {
        // One line longer than the look: judge it by how it starts.
        if looks_like_call_start(&text) {
            return Content::Strace;
        }
    }
    let mut commands = 0;
    for line in complete.lines() {
        if looks_like_strace(line) {
            return Content::Strace;
        }
        let token = line.split_whitespace().next().unwrap_or_default();
        if CONFIG_COMMANDS.contains(&token.to_ascii_lowercase().as_str()) {
            commands += 1;
        }
    }
    if commands > 0 {
        return Content::Config;
    }
    let first_line = text
        .lines()
        .find(|line| !line.trim().is_empty())
        .unwrap_or_default();
    // `-c` writes its table, headed so (`-w` and `-S` change the columns, not the header;
    // `-f -c` with threads may head it "System call usage summary for ..."), and no call.
    let header = first_line.trim_start();
    if header.starts_with("% time") || header.starts_with("System call usage summary") {
        return Content::CallSummary;
    }
    Content::Other {
        first_line: quoted(first_line),
    }
}

/// A line strace writes: `name(args) = result`, an unfinished/resumed call, a `+++`/`---` note
/// or its attach/detach messages, after any pid and timestamp columns.
pub fn looks_like_strace(line: &str) -> bool {
    let rest = past_columns(line);
    // A signal note is `--- SIGCHLD {...} ---` or `--- stopped by SIGSTOP ---`; a line of
    // dashes alone is a rule of the `-c`/`-C` call count table.
    rest.starts_with("+++")
        || rest.starts_with("--- ")
        || rest.starts_with("<...")
        || rest.starts_with("strace: ")
        || (rest.starts_with("Process ")
            && (rest.contains(" attached") || rest.contains(" detached")))
        || (call_start(rest) && (rest.contains(" = ") || rest.contains("unfinished")))
        || line.contains("resumed>")
}

/// The start of a line too long to be read whole: it must at least open a call.
fn looks_like_call_start(line: &str) -> bool {
    call_start(past_columns(line))
}

/// `line` past its `[pid N]`, pid, `comm`, and time columns.
fn past_columns(line: &str) -> &str {
    let mut rest = line.trim_start();
    if let Some(after) = rest.strip_prefix("[pid") {
        rest = after
            .split_once(']')
            .map_or("", |(_, tail)| tail)
            .trim_start();
    }
    // Pids (`1234`, `1234<comm>` with -Y), times (`10:00:01.5`, `1795566951.86`, `+0.0001`),
    // call numbers (`[  59]`, `[????]` with -n) and instruction pointers (`[00007f3c2a1b2c3d]`
    // with -i).
    loop {
        if let Some(after) = bracketed_number_len(rest).and_then(|len| rest.get(len..)) {
            rest = after.trim_start();
            continue;
        }
        let Some((word, tail)) = rest.split_once(' ') else {
            break;
        };
        let word = word.split('<').next().unwrap_or(word);
        let number = word.bytes().any(|b| b.is_ascii_digit())
            && word
                .bytes()
                .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b':' | b'+'));
        if !number {
            break;
        }
        rest = tail.trim_start();
    }
    rest
}

/// Length of a bracketed number at the start of `text` (a `-n` call number padded with spaces,
/// a `-i` instruction pointer in hex, or the question marks strace prints when it has none).
fn bracketed_number_len(text: &str) -> Option<usize> {
    let inside = text.strip_prefix('[')?;
    let close = inside.find(']')?;
    let number = inside[..close].trim();
    let known = !number.is_empty()
        && (number.bytes().all(|b| b.is_ascii_hexdigit()) || number.bytes().all(|b| b == b'?'));
    known.then_some(close + 2)
}

/// An identifier (`connect`, `epoll_wait`, `_llseek`) followed by `(`.
fn call_start(text: &str) -> bool {
    let name_len = text
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
        .count();
    name_len > 0 && text.as_bytes().get(name_len) == Some(&b'(')
}

fn quoted(line: &str) -> String {
    let line = line.trim();
    if line.chars().count() <= QUOTED_CHARS {
        return line.to_string();
    }
    let mut cut: String = line.chars().take(QUOTED_CHARS).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content(text: &[u8]) -> Content {
        read_head(&mut &text[..]).expect("read").content
    }

    #[test]
    fn strace_lines_of_every_shape_are_recognised() {
        for line in [
            &b"1234  socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3\n"[..],
            b"connect(3, {sa_family=AF_INET}, 16 <unfinished ...>\n",
            b"<... connect resumed>) = 0\n",
            b"+++ exited with 0 +++\n",
            b"--- SIGCHLD {si_signo=SIGCHLD} ---\n",
            b"strace: Process 1234 attached\n",
            b"[pid  1234] --- SIGPIPE {si_signo=SIGPIPE} ---\n",
            b"10:00:01.123456 close(3) = 0\n",
            b"[pid 9] 1700000000.500000 [00007f3c2a1b2c3d] close(3) = 0\n",
            // `-n` with times, as strace 6.1 writes them (`-f -n -ttt`, `-n -r`, `-n -i -ttt`).
            b"5561  1796624698.396537 [  12] brk(NULL) = 0x562ce82d8000\n",
            b"0.000000 [  59] execve(\"/usr/bin/python3\", [\"python3\"], 0x7ffe56c0cd98 /* 35 vars */) = 0\n",
            b"11114 1796624780.121079 [  59] [00007fda2e8abad7] execve(\"/usr/bin/python3\", [\"python3\"], 0x7ffe /* 1 var */) = 0\n",
            b"7 [????] [????????????????] close(3) = 0\n",
            b"1234<curl> 1795566951.865831 socket(AF_INET, SOCK_STREAM, 0) = 3 <0.000010>\n",
        ] {
            assert_eq!(
                content(line),
                Content::Strace,
                "{}",
                String::from_utf8_lossy(line)
            );
        }
    }

    #[test]
    fn configs_logs_binaries_and_empty_files_are_told_apart() {
        assert_eq!(content(b"host a\n trace a.trace\n"), Content::Config);
        assert_eq!(content(b"\xef\xbb\xbfhost a\n"), Content::Config);
        assert_eq!(content(b""), Content::Empty);
        assert_eq!(content(b"\n  \n"), Content::Empty);
        assert_eq!(content(b"abc\0def"), Content::Binary);
        assert_eq!(
            content(b"Dec 06 10:00:01 host sshd[12]: Accepted key\n"),
            Content::Other {
                first_line: "Dec 06 10:00:01 host sshd[12]: Accepted key".into()
            }
        );
    }

    #[test]
    fn a_call_count_table_alone_is_told_from_a_trace() {
        // `strace -f -c -o c.trace redis-cli -h 10.213.7.2 -p 9001 ping` (strace 6.1), cut.
        let table = b"% time     seconds  usecs/call     calls    errors syscall\n\
------ ----------- ----------- --------- --------- ------------------\n\
  0.00    0.000000           0        19           read\n\
  0.00    0.000000           0         2         1 connect\n\
------ ----------- ----------- --------- --------- ------------------\n\
100.00    0.000000           0       274        17 total\n";
        assert_eq!(content(table), Content::CallSummary);
        // `-C` prints the same table after the calls: a trace.
        let mut with_calls = b"20347 connect(3, {sa_family=AF_INET, sin_port=htons(9001), \
sin_addr=inet_addr(\"10.213.7.2\")}, 16) = 0\n"
            .to_vec();
        with_calls.extend_from_slice(table);
        assert_eq!(content(&with_calls), Content::Strace);
    }

    #[test]
    fn an_endless_input_is_judged_within_the_bound() {
        let mut endless = std::io::repeat(b'a');
        let head = read_head(&mut endless).expect("read");
        assert!(head.bytes.len() <= LONG_LINE_LIMIT);
        assert!(
            matches!(head.content, Content::Other { ref first_line } if first_line.ends_with('…'))
        );
        let mut zeros = std::io::repeat(0);
        assert_eq!(
            read_head(&mut zeros).expect("read").content,
            Content::Binary
        );
    }

    #[test]
    fn a_first_line_longer_than_the_look_is_judged_by_its_start() {
        let mut text = b"1 write(1, \"".to_vec();
        text.extend(std::iter::repeat_n(b'a', 2 * LONG_LINE_LIMIT));
        assert_eq!(content(&text), Content::Strace);
        let mut prose = b"lorem ipsum (dolor) ".to_vec();
        prose.extend(std::iter::repeat_n(b'a', 2 * LONG_LINE_LIMIT));
        assert!(matches!(content(&prose), Content::Other { .. }));
    }

    #[test]
    fn a_long_first_line_is_read_to_its_end() {
        let mut text = b"read(3, \"".to_vec();
        text.extend(std::iter::repeat_n(b'x', 200_000));
        text.extend(b"\", 200000) = 200000\n");
        assert_eq!(content(&text), Content::Strace);
    }
}
