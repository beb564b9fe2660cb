//! The frame of one strace line: pid and timestamp prefixes, instruction pointer, and what the
//! line is (a call, an unfinished call, a resumed call, a signal, an exit, or a message), with the
//! call's text split into name, arguments, return value and `-T` duration. Everything borrows the
//! line; nothing is allocated.

use super::error::{ParseError, Part, Result};
use super::swar;
use super::value;
use crate::source::TraceClock;

/// A timestamp as printed: `-t`/`-tt` time of day, or `-ttt`/`-r` plain seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stamp {
    TimeOfDay(f64),
    Seconds(f64),
}

/// Plain seconds below this are `-r` deltas, above it `-ttt` epoch times: a delta between two
/// lines is never three years long, and every epoch time strace can print today is past 2001.
const EPOCH_SECONDS_FROM: f64 = 1e8;

impl Stamp {
    /// The clock a trace whose first stamp is this one reads.
    pub fn clock(self) -> TraceClock {
        match self {
            Stamp::TimeOfDay(_) => TraceClock::TimeOfDay,
            Stamp::Seconds(s) if s < EPOCH_SECONDS_FROM => TraceClock::SinceStart,
            Stamp::Seconds(_) => TraceClock::Epoch,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Body<'a> {
    /// `name(args) = ret`: `tail` is everything after `name(`. `packed` is the name as the
    /// name table keys it, when the framing had it at hand (names under 16 bytes).
    Call {
        name: &'a [u8],
        tail: &'a [u8],
        packed: Option<u128>,
    },
    /// `name(args <unfinished ...>`: `head` is the argument text printed so far.
    Unfinished { name: &'a [u8], head: &'a [u8] },
    /// `<... name resumed>rest`.
    Resumed { name: &'a [u8], rest: &'a [u8] },
    /// `--- SIGxxx {...} ---`
    Signal { name: &'a [u8] },
    /// `+++ exited with N +++`
    Exited { code: i64 },
    /// `+++ killed by SIGxxx +++`
    Killed { signal: &'a [u8] },
    /// Nothing to parse: blank lines, `Process N attached`, strace's own messages.
    Skip,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame<'a> {
    pub pid: Option<u32>,
    /// The timestamp's text; read with [`stamp`] only when needed (most lines are ignored).
    pub stamp: Option<&'a [u8]>,
    pub body: Body<'a>,
}

const UNFINISHED: &[u8] = b"<unfinished ...>";
/// What strace prints instead when it detaches (`strace -p` stopped) while the call is in
/// progress: the call never returns in the trace, like one still unfinished at its end.
const DETACHED: &[u8] = b"<detached ...>";

/// Reads the frame of one line.
pub fn frame(line: &[u8]) -> Result<Frame<'_>> {
    let mut rest = line.trim_ascii_start();
    let mut pid = None;
    if let Some(after) = rest.strip_prefix(b"[pid") {
        let close = memchr::memchr(b']', after).ok_or(ParseError::at(Part::Pid, rest))?;
        let inside = value::trim(after.get(..close).unwrap_or_default());
        let digits = without_command_name(inside);
        pid = Some(parse_pid(digits).ok_or(ParseError::at(Part::Pid, inside))?);
        rest = after
            .get(close + 1..)
            .unwrap_or_default()
            .trim_ascii_start();
    } else if rest.first().is_some_and(u8::is_ascii_digit) {
        // A first word of digits only is the pid; digits running into `:` or `.` are a stamp.
        // The value is read in the same pass that finds the word's end (every line has one).
        let mut value = 0u64;
        let mut digits_len = 0;
        for &b in rest {
            if !b.is_ascii_digit() {
                break;
            }
            value = value.wrapping_mul(10).wrapping_add(u64::from(b - b'0'));
            digits_len += 1;
        }
        // `-Y` prints the command name after the pid: `7281<curl> `.
        let word_end = match rest.get(digits_len) {
            Some(b'<') => command_name_end(rest, digits_len),
            _ => Some(digits_len),
        };
        if let Some(word_end) = word_end.filter(|&end| matches!(rest.get(end), None | Some(b' '))) {
            let word = rest.get(..digits_len).unwrap_or_default();
            pid = Some(match u32::try_from(value) {
                // Nine digits cannot overflow; longer words take the checked path.
                Ok(pid) if digits_len <= 9 => pid,
                _ => parse_pid(word).ok_or(ParseError::at(Part::Pid, word))?,
            });
            rest = rest.get(word_end..).unwrap_or_default().trim_ascii_start();
        }
    }
    let mut stamp = None;
    if rest.first().is_some_and(u8::is_ascii_digit) {
        let word_len = rest.iter().position(|&b| b == b' ').unwrap_or(rest.len());
        let word = rest.get(..word_len).unwrap_or_default();
        stamp = Some(word);
        rest = rest.get(word_len..).unwrap_or_default().trim_ascii_start();
    }
    // `-n` prints the call's number (`[  59] `, `[????]` when unknown), `-i` the instruction
    // pointer (`[00007f0e8c3b4e9b] `), in that order when both are given.
    for _ in 0..2 {
        match leader_group_len(rest) {
            Some(len) => rest = rest.get(len..).unwrap_or_default().trim_ascii_start(),
            None => break,
        }
    }
    let body = match body(rest) {
        Err(_) if is_summary_line(line) => Body::Skip,
        other => other?,
    };
    Ok(Frame { pid, stamp, body })
}

/// Length of a `-n` or `-i` group at the start of `text`: brackets around a number (hex digits,
/// padded with spaces) or around the question marks strace prints when it has none.
fn leader_group_len(text: &[u8]) -> Option<usize> {
    if text.first() != Some(&b'[') {
        return None;
    }
    let close = memchr::memchr(b']', text)?;
    let inside = value::trim(text.get(1..close)?);
    let number = !inside.is_empty()
        && (inside.iter().all(u8::is_ascii_hexdigit) || inside.iter().all(|&b| b == b'?'));
    number.then_some(close + 1)
}

/// A line of the call count table that `-c`/`-C` print when the trace ends: its header
/// (`% time     seconds  usecs/call ...`), the dashed rules, and the rows, numbers ending with a
/// call's name or `total`. A call line always has a `(`; these never do.
fn is_summary_line(line: &[u8]) -> bool {
    let text = line.trim_ascii();
    if text.starts_with(b"% time") || text.starts_with(b"System call usage summary") {
        return true;
    }
    if !text.is_empty() && text.iter().all(|&b| b == b'-' || b == b' ') {
        return true;
    }
    let mut words = text
        .split(u8::is_ascii_whitespace)
        .filter(|w| !w.is_empty());
    let Some(last) = words.next_back() else {
        return false;
    };
    let numbers = words.map(|w| w.iter().all(|&b| b.is_ascii_digit() || b == b'.'));
    let mut count = 0;
    for is_number in numbers {
        if !is_number {
            return false;
        }
        count += 1;
    }
    let named = last
        .first()
        .is_some_and(|&b| b.is_ascii_alphabetic() || b == b'_');
    count >= 2 && named && last.iter().all(|&b| NAME_BYTE[usize::from(b)])
}

/// Index just past the `<comm>` that `-Y` prints after a pid, which starts at `open`. A thread
/// name may hold spaces (`<Web Content>`), so the name ends at the first `>` before a space.
fn command_name_end(text: &[u8], open: usize) -> Option<usize> {
    let rest = text.get(open..)?;
    let close = value::find_pair(rest, *b"> ")
        .or_else(|| (rest.last() == Some(&b'>')).then(|| rest.len() - 1))?;
    Some(open + close + 1)
}

/// The pid of `[pid 7281<curl>]` (`-Y`) or `[pid 7281]`.
fn without_command_name(inside: &[u8]) -> &[u8] {
    match memchr::memchr(b'<', inside) {
        Some(open) if inside.ends_with(b">") => inside.get(..open).unwrap_or_default(),
        _ => inside,
    }
}

fn parse_pid(digits: &[u8]) -> Option<u32> {
    u32::try_from(value::int(digits)?).ok()
}

fn body(text: &[u8]) -> Result<Body<'_>> {
    let Some(&first) = text.first() else {
        return Ok(Body::Skip);
    };
    match first {
        b'<' => resumed(text),
        b'-' if text.starts_with(b"--- ") => Ok(signal(text)),
        b'+' if text.starts_with(b"+++ ") => process_end(text),
        b'a'..=b'z' | b'A'..=b'Z' | b'_' => call(text),
        // strace names a call `???` when it cannot tell which one a thread entered: a thread
        // caught entering a call while another's exit_group ends the process (Go's runtime:
        // `3688  11:43:17.708474 ???( <unfinished ...>`, then `<... ??? resumed>) = ?`).
        b'?' if text.starts_with(UNKNOWN_CALL) => {
            let tail = text.get(UNKNOWN_CALL.len()..).unwrap_or_default();
            Ok(call_body(b"???", tail, None))
        }
        // `[ Process PID=1234 runs in 32 bit mode. ]` and similar notes; `|` starts the hex
        // dump lines of `-e read=`/`-e write=`.
        b'[' | b'|' => Ok(Body::Skip),
        // `-k` prints the call's stack after it, one ` > frame` line each; `-e write=` opens
        // the dump of each buffer of a vector write with ` * N bytes in buffer I`.
        b'>' if text.starts_with(b"> ") => Ok(Body::Skip),
        b'*' if text.starts_with(b"* ")
            && memchr::memmem::find(text, b" bytes in buffer ").is_some() =>
        {
            Ok(Body::Skip)
        }
        _ => Err(ParseError::at(Part::Name, text)),
    }
}

/// The name and parenthesis strace prints for a call it could not identify.
const UNKNOWN_CALL: &[u8] = b"???(";

/// Bytes a call name is made of: `[A-Za-z0-9_]`.
const NAME_BYTE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || c == b'_';
        b += 1;
    }
    table
};

fn call(text: &[u8]) -> Result<Body<'_>> {
    // The common case: the name and its `(` within the first 16 bytes.
    if let Some(word) = swar::load16(text) {
        if let Some(name_len) = swar::find_byte(word, b'(').filter(|&n| swar::is_name(word, n)) {
            let name = text.get(..name_len).unwrap_or_default();
            let tail = text.get(name_len + 1..).unwrap_or_default();
            return Ok(call_body(name, tail, Some(swar::prefix(word, name_len))));
        }
    }
    let name_len = text
        .iter()
        .position(|&b| !NAME_BYTE[usize::from(b)])
        .unwrap_or(text.len());
    let name = text.get(..name_len).unwrap_or_default();
    if text.get(name_len) != Some(&b'(') {
        if text.starts_with(b"Process ") || text.starts_with(b"strace: ") {
            return Ok(Body::Skip);
        }
        return Err(ParseError::at(Part::Name, text));
    }
    let tail = text.get(name_len + 1..).unwrap_or_default();
    Ok(call_body(name, tail, None))
}

fn call_body<'a>(name: &'a [u8], tail: &'a [u8], packed: Option<u128>) -> Body<'a> {
    let trimmed = tail.trim_ascii_end();
    match trimmed
        .strip_suffix(UNFINISHED)
        .or_else(|| trimmed.strip_suffix(DETACHED))
    {
        Some(head) => Body::Unfinished { name, head },
        None => Body::Call { name, tail, packed },
    }
}

fn resumed(text: &[u8]) -> Result<Body<'_>> {
    let inner = text
        .strip_prefix(b"<... ")
        .ok_or(ParseError::at(Part::Resumed, text))?;
    let close = memchr::memchr(b'>', inner).ok_or(ParseError::at(Part::Resumed, text))?;
    let label = inner.get(..close).unwrap_or_default();
    let name = label
        .strip_suffix(b" resumed")
        .ok_or(ParseError::at(Part::Resumed, label))?;
    let rest = inner.get(close + 1..).unwrap_or_default();
    Ok(Body::Resumed { name, rest })
}

fn signal(text: &[u8]) -> Body<'_> {
    let after = text.get(4..).unwrap_or_default();
    let name_len = after.iter().position(|&b| b == b' ').unwrap_or(after.len());
    let name = after.get(..name_len).unwrap_or_default();
    if name.starts_with(b"SIG") {
        Body::Signal { name }
    } else {
        // `--- stopped by SIGSTOP ---` and other notes.
        Body::Skip
    }
}

fn process_end(text: &[u8]) -> Result<Body<'_>> {
    let inner = value::trim(
        text.get(4..)
            .unwrap_or_default()
            .trim_ascii_end()
            .strip_suffix(b"+++")
            .ok_or(ParseError::at(Part::ProcessEvent, text))?,
    );
    if let Some(code) = inner.strip_prefix(b"exited with ") {
        let code = value::int(code).ok_or(ParseError::at(Part::ProcessEvent, code))?;
        return Ok(Body::Exited { code });
    }
    if let Some(signal) = inner.strip_prefix(b"killed by ") {
        let len = signal
            .iter()
            .position(|&b| b == b' ')
            .unwrap_or(signal.len());
        return Ok(Body::Killed {
            signal: signal.get(..len).unwrap_or_default(),
        });
    }
    // `+++ superseded by execve in pid N +++`
    Ok(Body::Skip)
}

/// Reads a timestamp's text: `12:34:56`, `12:34:56.123456`, `1700000000.123456`, `0.000123`.
pub fn stamp(word: &[u8]) -> Result<Stamp> {
    parse_stamp(word).ok_or(ParseError::at(Part::Timestamp, word))
}

fn parse_stamp(word: &[u8]) -> Option<Stamp> {
    // Seconds are the common form; a word with a colon is never a decimal.
    if let Some(seconds) = decimal(word) {
        return Some(Stamp::Seconds(seconds));
    }
    let colon = word.iter().position(|&b| b == b':')?;
    let hours = whole(word.get(..colon)?)? as f64;
    let rest = word.get(colon + 1..)?;
    let colon = rest.iter().position(|&b| b == b':')?;
    let minutes = whole(rest.get(..colon)?)? as f64;
    let seconds = decimal(rest.get(colon + 1..)?)?;
    Some(Stamp::TimeOfDay(hours * 3600.0 + minutes * 60.0 + seconds))
}

/// Most digits a whole number (or a fraction) may have.
const MAX_DIGITS: usize = 15;

/// Up to 15 decimal digits (leading zeros are plain decimal here: `08:09:10`).
fn whole(digits: &[u8]) -> Option<u64> {
    match leading_digits(digits) {
        (value, []) if (1..=MAX_DIGITS).contains(&digits.len()) => Some(value),
        _ => None,
    }
}

/// The value of the digits that open `text` (at most one more than [`MAX_DIGITS`] are read, so
/// the value cannot overflow) and the text after them.
fn leading_digits(text: &[u8]) -> (u64, &[u8]) {
    let mut value = 0u64;
    let mut rest = text;
    while let [digit @ b'0'..=b'9', ref after @ ..] = *rest {
        if text.len() - rest.len() > MAX_DIGITS {
            break;
        }
        value = value * 10 + u64::from(digit - b'0');
        rest = after;
    }
    (value, rest)
}

/// A non-negative decimal number with an optional fraction (`123`, `0.000123`). Digits are
/// accumulated in one pass: timestamps are on every line of a timed trace.
pub fn decimal(word: &[u8]) -> Option<f64> {
    const POWERS_OF_TEN: [f64; MAX_DIGITS + 1] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    ];
    let (integer, rest) = leading_digits(word);
    let integer_len = word.len() - rest.len();
    if integer_len == 0 || integer_len > MAX_DIGITS {
        return None;
    }
    let mut value = integer as f64;
    match *rest {
        [] => Some(value),
        [b'.', ref fraction @ ..] => {
            if !fraction.is_empty() {
                let scale = POWERS_OF_TEN.get(fraction.len())?;
                value += whole(fraction)? as f64 / scale;
            }
            Some(value)
        }
        _ => None,
    }
}

/// A complete call's text after `name(`, split into its parts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tail<'a> {
    pub args: &'a [u8],
    pub ret: &'a [u8],
    pub duration: Option<f64>,
}

/// Splits `args) = ret <0.000012>`.
pub fn split_tail(tail: &[u8]) -> Result<Tail<'_>> {
    let mut body = tail.trim_ascii_end();
    let mut duration = None;
    if body.last() == Some(&b'>') {
        if let Some(open) = value::rfind(body, b" <") {
            let inside = body.get(open + 2..body.len() - 1).unwrap_or_default();
            if let Some(seconds) = decimal(inside) {
                duration = Some(seconds);
                body = body.get(..open).unwrap_or_default();
            }
        }
    }
    let eq = value::rfind(body, b" = ").ok_or(ParseError::at(Part::ReturnValue, body))?;
    let ret = value::trim(body.get(eq + 3..).unwrap_or_default());
    let before = body.get(..eq).unwrap_or_default().trim_ascii_end();
    let args = before
        .strip_suffix(b")")
        .ok_or(ParseError::at(Part::Arguments, before))?;
    Ok(Tail {
        args,
        ret,
        duration,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Frame<'_> {
        frame(line.as_bytes()).unwrap()
    }

    #[test]
    fn reads_call_numbers_and_instruction_pointers_together() {
        // `strace -f -n` and `-f -n -i -tt`, as recorded by strace 6.1.
        let f = parse("9042  [  41] socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_TCP) = 4");
        assert_eq!(f.pid, Some(9042));
        assert!(matches!(
            f.body,
            Body::Call {
                name: b"socket",
                ..
            }
        ));
        let f = parse("9042  [   0] <... read resumed>\"/usr/bin/readlink\\n\", 4096) = 18");
        assert!(matches!(f.body, Body::Resumed { name: b"read", .. }));
        let f = parse("10443 22:21:49.710295 [  12] [00007f49568fac47] brk(NULL) = 0x56399ed7b000");
        assert!(matches!(f.body, Body::Call { name: b"brk", .. }));
        assert!(f.stamp.is_some());
        let f = parse("7 [????] [????????????????] close(3) = 0");
        assert!(matches!(f.body, Body::Call { name: b"close", .. }));
        // A note in brackets is still a note.
        assert_eq!(
            parse("[ Process PID=12 runs in 32 bit mode. ]").body,
            Body::Skip
        );
    }

    #[test]
    fn skips_stacks_buffer_headers_and_the_call_count_table() {
        // `-k`, `-e write=all` on a sendmsg of two buffers, and the table `-C` appends.
        for line in [
            " > /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2(_dl_catch_error+0x26f0) [0x1ab70]",
            " * 3 bytes in buffer 0",
            "% time     seconds  usecs/call     calls    errors syscall",
            "------ ----------- ----------- --------- --------- ----------------",
            "  0.00    0.000000           0         1           socketpair",
            " 77.52    0.105450        1318        80        40 wait4",
            "100.00    0.136032          15      8690      1323 total",
        ] {
            assert_eq!(parse(line).body, Body::Skip, "{line}");
        }
        // Numbers without a name stay unreadable.
        assert!(frame(b"12 34 56").is_err());
    }

    #[test]
    fn reads_pid_forms() {
        assert_eq!(parse("1234  close(3) = 0").pid, Some(1234));
        assert_eq!(parse("[pid  1234] close(3) = 0").pid, Some(1234));
        assert_eq!(parse("close(3) = 0").pid, None);
    }

    #[test]
    fn reads_pids_with_command_names() {
        // `-Y`, as recorded (healthy-http--curl--nginx--Y/client.trace:2).
        let f = parse("7281<curl> 10:28:09.761698 brk(NULL)    = 0x55f420a78000");
        assert_eq!(f.pid, Some(7281));
        assert!(matches!(f.body, Body::Call { name: b"brk", .. }));
        assert!(f.stamp.is_some());
        assert_eq!(parse("[pid  7282<curl>] close(3) = 0").pid, Some(7282));
        assert_eq!(parse("7283<Web Content> close(3) = 0").pid, Some(7283));
    }

    #[test]
    fn reads_timestamps_and_instruction_pointers() {
        let read = |f: Frame| f.stamp.map(|s| stamp(s).unwrap());
        let f = parse("1234  12:00:01.500000 close(3) = 0");
        assert_eq!(read(f), Some(Stamp::TimeOfDay(43201.5)));
        let f = parse("12:00:01 close(3) = 0");
        assert_eq!(read(f), Some(Stamp::TimeOfDay(43201.0)));
        let f = parse("[pid 7] 1700000000.250000 [00007f0e8c3b4e9b] close(3) = 0");
        assert_eq!(f.pid, Some(7));
        assert!(matches!(f.body, Body::Call { name: b"close", .. }));
        assert_eq!(read(f), Some(Stamp::Seconds(1700000000.25)));
        let f = parse("     0.000123 close(3) = 0");
        assert_eq!(f.pid, None);
        assert_eq!(read(f), Some(Stamp::Seconds(0.000123)));
        assert_eq!(stamp(b"12:x").unwrap_err().part, Part::Timestamp);
        // Leading zeros are decimal, not octal.
        let f = parse("08:09:10.25 close(3) = 0");
        assert_eq!(
            read(f),
            Some(Stamp::TimeOfDay(8.0 * 3600.0 + 9.0 * 60.0 + 10.25))
        );
    }

    #[test]
    fn a_first_stamp_tells_the_clock() {
        // The first lines of lab traces under -tt, -ttt and -r.
        let clock = |line: &str| parse(line).stamp.map(|s| stamp(s).unwrap().clock());
        assert_eq!(
            clock("9452  12:04:33.081727 execve(\"/usr/bin/curl\", [\"curl\"], 0x7ffd /* 36 vars */) = 0"),
            Some(TraceClock::TimeOfDay)
        );
        assert_eq!(
            clock("20502 1796552244.609545 brk(NULL)       = 0x56005ddeb000 <0.000007>"),
            Some(TraceClock::Epoch)
        );
        assert_eq!(
            clock("4011       0.000000 execve(\"/usr/bin/socat\", [\"socat\"], 0x7ffc /* 36 vars */) = 0"),
            Some(TraceClock::SinceStart)
        );
        assert_eq!(clock("close(3) = 0"), None);
    }

    #[test]
    fn a_call_in_progress_when_strace_detached_is_unfinished() {
        // `netcheck record --pid` stopped while Python's http.server polled its listener.
        let f = parse(
            "20426 1796593558.194083 poll([{fd=3<TCP:[5233130]>, events=POLLIN}], 1, 500 <detached ...>",
        );
        assert_eq!(
            f.body,
            Body::Unfinished {
                name: b"poll",
                head: b"[{fd=3<TCP:[5233130]>, events=POLLIN}], 1, 500 "
            }
        );
    }

    #[test]
    fn reads_unfinished_and_resumed() {
        let f = parse("5 accept4(3,  <unfinished ...>");
        assert_eq!(
            f.body,
            Body::Unfinished {
                name: b"accept4",
                head: b"3,  "
            }
        );
        let f = parse("5 <... accept4 resumed>{sa_family=AF_UNIX}, [2]) = 4");
        assert_eq!(
            f.body,
            Body::Resumed {
                name: b"accept4",
                rest: b"{sa_family=AF_UNIX}, [2]) = 4"
            }
        );
    }

    #[test]
    fn reads_process_lines() {
        assert_eq!(
            parse("+++ exited with 3 +++").body,
            Body::Exited { code: 3 }
        );
        assert_eq!(
            parse("9 +++ killed by SIGKILL (core dumped) +++").body,
            Body::Killed { signal: b"SIGKILL" }
        );
        assert_eq!(
            parse("--- SIGPIPE {si_signo=SIGPIPE, si_code=SI_USER} ---").body,
            Body::Signal { name: b"SIGPIPE" }
        );
        assert_eq!(parse("--- stopped by SIGSTOP ---").body, Body::Skip);
        assert_eq!(parse("strace: Process 474 attached").body, Body::Skip);
        assert_eq!(parse("Process 474 detached").body, Body::Skip);
        assert_eq!(parse("").body, Body::Skip);
        assert_eq!(
            parse(" | 00000  68 69                                      hi               |").body,
            Body::Skip
        );
    }

    #[test]
    fn reads_decimals() {
        assert_eq!(decimal(b"0.000123"), Some(0.000123));
        assert_eq!(decimal(b"1700000000.250000"), Some(1_700_000_000.25));
        assert_eq!(decimal(b"42"), Some(42.0));
        assert_eq!(decimal(b"42."), Some(42.0));
        assert_eq!(decimal(b"123456789012345"), Some(123_456_789_012_345.0));
        for bad in [
            &b""[..],
            b".5",
            b"1.2.3",
            b"1e5",
            b"-1",
            b"12345678901234567",
            b"1234567890123456",
            b"1.1234567890123456",
            b"123456789012345678901234567890",
            b"1:2",
        ] {
            assert_eq!(decimal(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn splits_tails() {
        let t = split_tail(b"3, \"a = b\", 5)     = 5 <0.000012>").unwrap();
        assert_eq!(t.args, b"3, \"a = b\", 5");
        assert_eq!(t.ret, b"5");
        assert_eq!(t.duration, Some(0.000012));
        let t =
            split_tail(b"[{fd=3, events=POLLIN}], 1, 0) = 1 ([{fd=3, revents=POLLIN}])").unwrap();
        assert_eq!(t.ret, b"1 ([{fd=3, revents=POLLIN}])");
        let t = split_tail(b"3) = 4<TCP:[1.2.3.4:5->6.7.8.9:10]>").unwrap();
        assert_eq!(t.ret, b"4<TCP:[1.2.3.4:5->6.7.8.9:10]>");
        assert!(split_tail(b"3, ").is_err());
    }

    #[test]
    fn rejects_garbage_with_the_part_that_failed() {
        let line = b"1234 @@@";
        let err = frame(line).unwrap_err();
        assert_eq!(err.part, Part::Name);
        assert_eq!(err.column_in(line), 6);
        assert_eq!(frame(b"[pid x] close(3) = 0").unwrap_err().part, Part::Pid);
    }
}
