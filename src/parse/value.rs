//! A small scanner for strace's value grammar, working on borrowed bytes without allocating:
//! comma-separated items at the top level of a span (respecting nested `{}` `[]` `()`, quoted
//! strings, `/* comments */` and `-y` fd decorations `3<...>`), `key=value` fields, flag sets
//! `A|B|0x8 /* X */`, numbers, and value-result pairs (`16 => 0`, `[16->16]`).

use super::strings;

/// First index of the two-byte sequence `pair` (cheaper than a general substring search for
/// the short needles strace's grammar needs).
pub fn find_pair(bytes: &[u8], pair: [u8; 2]) -> Option<usize> {
    // Constants, flags and addresses are short: a plain loop costs less than starting a search.
    if bytes.len() <= 32 {
        return bytes.windows(2).position(|w| w == pair);
    }
    let mut from = 0;
    while let Some(at) = bytes.get(from..).and_then(|t| memchr::memchr(pair[0], t)) {
        let i = from + at;
        if bytes.get(i + 1) == Some(&pair[1]) {
            return Some(i);
        }
        from = i + 1;
    }
    None
}

/// Last index of `needle`, searching from the end (the parts looked for sit near a line's end).
pub fn rfind(bytes: &[u8], needle: &[u8]) -> Option<usize> {
    let last = needle.len().checked_sub(1)?;
    let mut end = bytes.len();
    while let Some(at) = bytes
        .get(..end)
        .and_then(|t| memchr::memrchr(needle[last], t))
    {
        if let Some(start) = at.checked_sub(last) {
            if bytes.get(start..=at) == Some(needle) {
                return Some(start);
            }
        } else {
            return None;
        }
        end = at;
    }
    None
}

/// Trims ASCII whitespace at both ends.
pub fn trim(bytes: &[u8]) -> &[u8] {
    bytes.trim_ascii()
}

/// Index just past a `/* ... */` comment starting at `at` (or the end when it never closes).
pub(super) fn comment_end(bytes: &[u8], at: usize) -> usize {
    match bytes
        .get(at + 2..)
        .and_then(|t| memchr::memmem::find(t, b"*/"))
    {
        Some(pos) => at + 2 + pos + 2,
        None => bytes.len(),
    }
}

/// Does a `-y` decoration open at `at` (a `<` right after a descriptor's digits)? Not when
/// another `<` follows: strace writes bit sets as shifts (`idiag_states=1<<TCP_CLOSE|1<<TCP_LISTEN`
/// in a netlink socket-diagnostics request), and no decoration starts with `<`.
pub fn opens_decoration(bytes: &[u8], at: usize) -> bool {
    at > 0
        && bytes.get(at) == Some(&b'<')
        && bytes.get(at - 1).is_some_and(u8::is_ascii_digit)
        && bytes.get(at + 1) != Some(&b'<')
}

/// Index just past a `-y` decoration `<...>` opening at `at` (nested `<>`, `[]` inside).
pub fn decoration_end(bytes: &[u8], at: usize) -> usize {
    plain_decoration_end(bytes, at).unwrap_or_else(|| any_decoration_end(bytes, at))
}

/// [`decoration_end`] of any decoration.
fn any_decoration_end(bytes: &[u8], at: usize) -> usize {
    // Most decorations are a path or an address with nothing nested: the first `>` ends them
    // when nothing before it opens a bracket, an angle or a string.
    if let Some(close) = bytes
        .get(at + 1..)
        .and_then(|rest| memchr::memchr(b'>', rest))
    {
        let inside = bytes.get(at + 1..at + 1 + close).unwrap_or_default();
        if memchr::memchr3(b'<', b'[', b'"', inside).is_none() {
            return at + 1 + close + 1;
        }
    }
    // A socket's `TCP:[10.0.0.1:80->10.0.0.2:5000]>`: the first `]` ends the bracket when
    // nothing nests inside it (IPv6 addresses bring their own brackets: the full scan below).
    if let Some(rest) = bytes.get(at + 1..) {
        if let Some(close) = memchr::memchr(b']', rest) {
            let inside = rest.get(..close).unwrap_or_default();
            if rest.get(close + 1) == Some(&b'>') {
                if let Some(open) = memchr::memchr(b'[', inside) {
                    let before = inside.get(..open).unwrap_or_default();
                    let within = inside.get(open + 1..).unwrap_or_default();
                    if memchr::memchr3(b'<', b'"', b'>', before).is_none()
                        && memchr::memchr3(b'<', b'"', b'[', within).is_none()
                    {
                        return at + 1 + close + 2;
                    }
                }
            }
        }
    }
    let mut angles = 0usize;
    let mut squares = 0usize;
    let mut i = at;
    loop {
        // Addresses and paths are mostly ordinary bytes: skip them with one lookup each.
        let Some(skipped) = bytes
            .get(i..)
            .and_then(|rest| rest.iter().position(|&b| DECORATION_BYTES[usize::from(b)]))
        else {
            return bytes.len();
        };
        i += skipped;
        let Some(&b) = bytes.get(i) else {
            return bytes.len();
        };
        match b {
            // `->` inside `[...]` is an address arrow, not a closing angle.
            b'[' => squares += 1,
            b']' => squares = squares.saturating_sub(1),
            b'<' if squares == 0 => angles += 1,
            b'>' if squares == 0 => {
                angles = angles.saturating_sub(1);
                if angles == 0 {
                    return i + 1;
                }
            }
            b'"' => {
                i = strings::string_end(bytes, i).unwrap_or(bytes.len());
                continue;
            }
            _ => {}
        }
        i += 1;
    }
}

/// The end of the decorations nearly every line of a `-y` trace has, found in one pass without
/// a search call per part: `</path>` (nothing before the first `>` opens anything) and
/// `<TCP:[addr->addr]>` (one bracket, nothing inside it opens anything, `]>` closes it). `None`
/// for anything else, which the general reading of [`decoration_end`] takes (it ends these
/// two forms at the same place).
fn plain_decoration_end(bytes: &[u8], at: usize) -> Option<usize> {
    let mut i = at + 1;
    let mut in_bracket = false;
    loop {
        i += bytes
            .get(i..)?
            .iter()
            .position(|&b| DECORATION_BYTES[usize::from(b)])?;
        match (*bytes.get(i)?, in_bracket) {
            (b'>', false) => return Some(i + 1),
            (b'[', false) => in_bracket = true,
            (b'>', true) => {}
            (b']', true) => return (bytes.get(i + 1) == Some(&b'>')).then_some(i + 2),
            _ => return None,
        }
        i += 1;
    }
}

/// Bytes that matter inside a decoration.
static DECORATION_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    let special = b"[]<>\"";
    while i < special.len() {
        table[special[i] as usize] = true;
        i += 1;
    }
    table
};

/// Bytes that can change the nesting state of a scan, plus `extra`.
const fn special_bytes(extra: u8) -> [bool; 256] {
    let mut table = [false; 256];
    let mut i = 0;
    let special = b"([{)]}\"/<";
    while i < special.len() {
        table[special[i] as usize] = true;
        i += 1;
    }
    table[extra as usize] = true;
    table
}

/// The bytes a scan for `,` (argument and field lists) must look at.
static COMMA_SCAN: [bool; 256] = special_bytes(b',');
/// The bytes a scan for a closing bracket must look at (the brackets are special already).
static BRACKET_SCAN: [bool; 256] = special_bytes(b'(');
/// The bytes a scan for the `>` of a value-result pair must look at.
static ARROW_SCAN: [bool; 256] = special_bytes(b'>');

/// Finds the first top-level occurrence of `stop` in `bytes` (outside brackets, strings,
/// comments and decorations).
pub fn find_top(bytes: &[u8], stop: u8) -> Option<usize> {
    // One table lookup per ordinary byte for the common stops.
    match stop {
        b',' => scan_top(bytes, stop, &COMMA_SCAN),
        b')' | b']' | b'}' => scan_top(bytes, stop, &BRACKET_SCAN),
        b'>' => scan_top(bytes, stop, &ARROW_SCAN),
        _ => scan_top(bytes, stop, &special_bytes(stop)),
    }
}

fn scan_top(bytes: &[u8], stop: u8, special: &[bool; 256]) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = 0;
    loop {
        // Skip ordinary bytes quickly: most argument text is names and numbers.
        let skipped = bytes
            .get(i..)?
            .iter()
            .position(|&b| special[usize::from(b)])?;
        i += skipped;
        let b = *bytes.get(i)?;
        if b == stop && depth == 0 {
            return Some(i);
        }
        match b {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            b'"' => {
                i = strings::string_end(bytes, i).unwrap_or(bytes.len());
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = comment_end(bytes, i);
                continue;
            }
            b'<' if opens_decoration(bytes, i) => {
                i = decoration_end(bytes, i);
                continue;
            }
            _ => {}
        }
        i += 1;
    }
}

/// The top-level comma-separated items of a span, trimmed.
pub fn items(bytes: &[u8]) -> Items<'_> {
    Items { rest: Some(bytes) }
}

pub struct Items<'a> {
    rest: Option<&'a [u8]>,
}

impl<'a> Iterator for Items<'a> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        let rest = self.rest?;
        match find_top(rest, b',') {
            Some(at) => {
                self.rest = rest.get(at + 1..);
                Some(trim(rest.get(..at).unwrap_or_default()))
            }
            None => {
                self.rest = None;
                let item = trim(rest);
                // `f()` has no arguments, not one empty one.
                (!item.is_empty()).then_some(item)
            }
        }
    }
}

/// The inside of `{...}` or `[...]` (a trailing ` => {...}` value-result part is ignored).
pub fn inner(value: &[u8], open: u8, close: u8) -> Option<&[u8]> {
    let value = trim(value);
    if value.first() != Some(&open) {
        return None;
    }
    // Find the matching close bracket: the top-level scan of the inside stops at it.
    let body = value.get(1..)?;
    let end = find_top(body, close)?;
    body.get(..end)
}

/// A struct's inside as a list of items.
pub fn struct_items(value: &[u8]) -> Option<Items<'_>> {
    inner(value, b'{', b'}').map(items)
}

/// An array's inside as a list of items.
pub fn array_items(value: &[u8]) -> Option<Items<'_>> {
    inner(value, b'[', b']').map(items)
}

/// Splits `key=value` (also `key(16)=value`, old strace's `msg_iov(1)=[...]`); items without a
/// key (positional `{"abc", 3}`, `inet_pton(...)`) give `(None, item)`.
pub fn field(item: &[u8]) -> (Option<&[u8]>, &[u8]) {
    match field_at(item) {
        Some((key_len, value_at)) => (
            item.get(..key_len),
            item.get(value_at..).unwrap_or_default().trim_ascii_end(),
        ),
        None => (None, item),
    }
}

/// Where [`field`] splits a `key=value` item: the key's length and where the value starts
/// (spaces after `=` skipped); `None` for an item without a key.
pub fn field_at(item: &[u8]) -> Option<(usize, usize)> {
    let key_len = item
        .iter()
        .position(|&b| !(b.is_ascii_alphanumeric() || b == b'_'))
        .unwrap_or(item.len());
    if key_len == 0 {
        return None;
    }
    let mut at = key_len;
    if item.get(at) == Some(&b'(') {
        at += item.get(at..).and_then(|t| memchr::memchr(b')', t))? + 1;
    }
    if item.get(at) == Some(&b'=') && item.get(at + 1) != Some(&b'>') {
        let after = item.get(at + 1..).unwrap_or_default();
        Some((
            key_len,
            at + 1 + (after.len() - after.trim_ascii_start().len()),
        ))
    } else {
        None
    }
}

/// Looks a field up by key in a struct value.
pub fn get_field<'a>(value: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    struct_items(value)?
        .map(field)
        .find(|(k, _)| *k == Some(key))
        .map(|(_, v)| v)
}

/// For value-result pairs (`16 => 0`, `16->16`) the value after the call; otherwise the value.
pub fn result_part(value: &[u8]) -> &[u8] {
    if let Some(at) = find_top(value, b'>') {
        if at > 0 && matches!(value.get(at - 1), Some(b'=') | Some(b'-')) {
            return trim(value.get(at + 1..).unwrap_or_default());
        }
    }
    value
}

/// Removes `/* ... */` comments at the end of a value (`0x800 /* SOCK_??? */`).
pub fn strip_comment(value: &[u8]) -> &[u8] {
    match find_pair(value, *b"/*") {
        Some(at) => trim(value.get(..at).unwrap_or_default()),
        None => value,
    }
}

/// A symbolic constant: the name itself, or with `-X verbose` the name in the comment after the
/// number (`0x2 /* AF_INET */` → `AF_INET`). A comment naming nothing (`0x800 /* SOCK_??? */`)
/// leaves the number.
pub fn symbol(value: &[u8]) -> &[u8] {
    let value = trim(value);
    let Some(open) = find_pair(value, *b"/*") else {
        return value;
    };
    let number = trim(value.get(..open).unwrap_or_default());
    let named = value
        .get(open + 2..)
        .and_then(|rest| rest.strip_suffix(b"*/"))
        .map(trim)
        .filter(|name| !name.is_empty() && find_pair(name, *b"??").is_none());
    match named {
        Some(name) if int(number).is_some() => name,
        _ => number,
    }
}

/// Parses an integer: decimal, negative, `0x` hex, leading-zero octal. Callers split a `-y`
/// decoration or other suffix off first with [`number_prefix`].
pub fn int(value: &[u8]) -> Option<i64> {
    // Fast path: short plain decimals (descriptors, lengths, pids) are most numbers.
    if !value.is_empty() && value.len() <= 18 && value.first() != Some(&b'0') {
        let mut n: i64 = 0;
        let mut plain = true;
        for &b in value {
            if !b.is_ascii_digit() {
                plain = false;
                break;
            }
            n = n * 10 + i64::from(b - b'0');
        }
        if plain {
            return Some(n);
        }
    }
    let value = trim(value);
    let (negative, digits) = match value.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, value),
    };
    let magnitude = if let Some(hex) = digits
        .strip_prefix(b"0x")
        .or_else(|| digits.strip_prefix(b"0X"))
    {
        parse_radix(hex, 16)?
    } else if digits.len() > 1 && digits.first() == Some(&b'0') {
        parse_radix(digits.get(1..)?, 8)?
    } else {
        parse_radix(digits, 10)?
    };
    // Unsigned 64-bit values (pointers, `-1` printed as 18446744073709551615) wrap around.
    let signed = magnitude as i64;
    Some(if negative {
        signed.wrapping_neg()
    } else {
        signed
    })
}

fn parse_radix(digits: &[u8], radix: u32) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    let mut value: u64 = 0;
    for &d in digits {
        let digit = (d as char).to_digit(radix)?;
        value = value
            .checked_mul(u64::from(radix))?
            .checked_add(u64::from(digit))?;
    }
    Some(value)
}

/// Splits a leading integer from what follows it (`3<TCP:[...]>` → `("3", "<TCP:[...]>")`).
pub fn number_prefix(value: &[u8]) -> (&[u8], &[u8]) {
    let value = trim(value);
    let mut end = usize::from(value.first() == Some(&b'-'));
    if value.get(end..end + 2) == Some(b"0x") {
        end += 2;
        while value.get(end).is_some_and(u8::is_ascii_hexdigit) {
            end += 1;
        }
    } else {
        while value.get(end).is_some_and(u8::is_ascii_digit) {
            end += 1;
        }
    }
    (
        value.get(..end).unwrap_or_default(),
        value.get(end..).unwrap_or_default(),
    )
}

/// The names of a `|`-joined flag set (`SOCK_STREAM|SOCK_CLOEXEC`), comments removed. With
/// `-X verbose` each part may carry its own comment (`0x1 /* SOCK_STREAM */|0x80800 /*
/// SOCK_CLOEXEC|SOCK_NONBLOCK */`): each part is read as a [`symbol`], then split again.
pub fn flags(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    // Without a comment (all but `-X verbose`) the names are the `|`-separated parts themselves:
    // flags are read on most socket calls, so the part-by-part reading is kept for comments.
    let commented = find_pair(value, *b"/*").is_some();
    let (plain, verbose) = if commented {
        (None, Some(value))
    } else {
        (Some(value), None)
    };
    let plain = plain.into_iter().flat_map(|v| v.split(|&b| b == b'|'));
    let verbose = verbose.into_iter().flat_map(|v| {
        FlagParts { rest: Some(v) }.flat_map(|part| symbol(part).split(|&b| b == b'|'))
    });
    plain.chain(verbose).map(trim).filter(|f| !f.is_empty())
}

/// The `|`-separated parts of a flag set, a `|` inside a `/* comment */` not separating.
struct FlagParts<'a> {
    rest: Option<&'a [u8]>,
}

impl<'a> Iterator for FlagParts<'a> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        let rest = self.rest?;
        let mut i = 0;
        while let Some(&b) = rest.get(i) {
            if b == b'/' && rest.get(i + 1) == Some(&b'*') {
                i = comment_end(rest, i);
                continue;
            }
            if b == b'|' {
                self.rest = rest.get(i + 1..);
                return rest.get(..i);
            }
            i += 1;
        }
        self.rest = None;
        Some(rest)
    }
}

/// True when the flag set names `flag`.
pub fn has_flag(value: &[u8], flag: &[u8]) -> bool {
    flags(value).any(|f| f == flag)
}

/// The space-separated members of an fd set `[3 4]` (also `~[...]`).
pub fn fd_set(value: &[u8]) -> Option<impl Iterator<Item = &[u8]>> {
    let body = inner(value, b'[', b']')?;
    Some(body.split(|&b| b == b' ').filter(|w| !w.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(bytes: &[u8]) -> Vec<String> {
        items(bytes)
            .map(|i| String::from_utf8_lossy(i).into_owned())
            .collect()
    }

    #[test]
    fn splits_top_level_items_only() {
        assert_eq!(
            list(br#"3, {sa_family=AF_INET, sin_port=htons(80)}, "a,b\",c", [1, 2], 16"#),
            [
                "3",
                "{sa_family=AF_INET, sin_port=htons(80)}",
                r#""a,b\",c""#,
                "[1, 2]",
                "16"
            ]
        );
        assert!(list(b"").is_empty());
        assert_eq!(
            list(b"0x800 /* SOCK_??? , */, 1"),
            ["0x800 /* SOCK_??? , */", "1"]
        );
    }

    #[test]
    fn fd_decorations_do_not_split_items() {
        assert_eq!(
            list(b"3</tmp/a, b>, 4<TCP:[1.2.3.4:5->6.7.8.9:10]>, 5</dev/null<char 1:3>>"),
            [
                "3</tmp/a, b>",
                "4<TCP:[1.2.3.4:5->6.7.8.9:10]>",
                "5</dev/null<char 1:3>>"
            ]
        );
    }

    #[test]
    fn decoration_ends_nested_or_not() {
        // (decoration and what follows it, where the decoration ends)
        let cases: [(&[u8], usize); 7] = [
            (b"</etc/hosts>, 5", 12),
            (b"<TCP:[10.0.0.1:80->10.0.0.2:5000]>, x", 34),
            (b"<TCPv6:[[::1]:80->[::1]:5000]>) = 0", 30),
            (b"<UNIX-STREAM:[1234->5678]>, 1", 26),
            (b"</dev/null<char 1:3>>, 2", 21),
            (b"</tmp/a[1]>, 2", 11),
            (b"<socket:[99]>", 13),
        ];
        for (text, end) in cases {
            assert_eq!(
                decoration_end(text, 0),
                end,
                "{}",
                String::from_utf8_lossy(text)
            );
        }
    }

    #[test]
    fn the_one_pass_decoration_reading_ends_where_the_general_one_does() {
        // Every text of up to 7 bytes over the bytes that matter, and a few real ones.
        let alphabet = b"<>[]\"a-";
        let mut texts: Vec<Vec<u8>> = vec![
            b"<TCP:[10.0.0.1:80->10.0.0.2:5000]>, x".to_vec(),
            b"<TCPv6:[[::1]:80->[::1]:5000]>) = 0".to_vec(),
            b"</dev/null<char 1:3>>, 2".to_vec(),
            b"<anon_inode:[eventpoll]>, [{".to_vec(),
        ];
        for len in 1..=7u32 {
            for n in 0..(alphabet.len() as u32).pow(len) {
                let mut text = vec![b'<'];
                let mut rest = n;
                for _ in 0..len {
                    text.push(alphabet[(rest % alphabet.len() as u32) as usize]);
                    rest /= alphabet.len() as u32;
                }
                texts.push(text);
            }
        }
        for text in texts {
            if let Some(end) = plain_decoration_end(&text, 0) {
                assert_eq!(
                    end,
                    any_decoration_end(&text, 0),
                    "{}",
                    String::from_utf8_lossy(&text)
                );
            }
        }
    }

    #[test]
    fn reads_fields_old_and_new() {
        assert_eq!(
            field(b"sin_port=htons(80)"),
            (Some(&b"sin_port"[..]), &b"htons(80)"[..])
        );
        assert_eq!(
            field(b"msg_iov(1)=[x]"),
            (Some(&b"msg_iov"[..]), &b"[x]"[..])
        );
        assert_eq!(field(br#""abc""#), (None, &br#""abc""#[..]));
        assert_eq!(field(b"16 => 0"), (None, &b"16 => 0"[..]));
        let sa = br#"{sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("1.2.3.4")}"#;
        assert_eq!(get_field(sa, b"sin_port"), Some(&b"htons(80)"[..]));
        assert_eq!(get_field(sa, b"missing"), None);
    }

    #[test]
    fn value_results_take_the_after_value() {
        assert_eq!(result_part(b"128 => 16"), b"16");
        assert_eq!(result_part(b"16->16"), b"16");
        assert_eq!(result_part(b"16"), b"16");
        assert_eq!(
            inner(b"[128 => 16]", b'[', b']').map(result_part),
            Some(&b"16"[..])
        );
    }

    #[test]
    fn finds_short_needles() {
        assert_eq!(find_pair(b"a-b->c", *b"->"), Some(3));
        assert_eq!(find_pair(b"abc", *b"cd"), None);
        assert_eq!(rfind(b"x = 1) = 2", b" = "), Some(6));
        assert_eq!(rfind(b"= 1", b" = "), None);
        assert_eq!(rfind(b"", b" = "), None);
    }

    #[test]
    fn parses_numbers() {
        assert_eq!(int(b"42"), Some(42));
        assert_eq!(int(b"-1"), Some(-1));
        assert_eq!(int(b"0x1f"), Some(31));
        assert_eq!(int(b"0644"), Some(0o644));
        assert_eq!(int(b"0"), Some(0));
        assert_eq!(int(b"x"), None);
        assert_eq!(int(b""), None);
        assert_eq!(number_prefix(b"3<TCP:[1]>"), (&b"3"[..], &b"<TCP:[1]>"[..]));
    }

    #[test]
    fn reads_verbose_symbols() {
        assert_eq!(symbol(b"0x2 /* AF_INET */"), b"AF_INET");
        assert_eq!(symbol(b"0x800 /* SOCK_??? */"), b"0x800");
        assert_eq!(symbol(b" SOCK_STREAM "), b"SOCK_STREAM");
        let names: Vec<&[u8]> = flags(b"0x80801 /* SOCK_STREAM|SOCK_CLOEXEC */").collect();
        assert_eq!(names, [&b"SOCK_STREAM"[..], b"SOCK_CLOEXEC"]);
        // connect-refused--node--socat--Xverbose/client.trace:643: a comment per part.
        let names: Vec<&[u8]> =
            flags(b"0x1 /* SOCK_STREAM */|0x80800 /* SOCK_CLOEXEC|SOCK_NONBLOCK */").collect();
        assert_eq!(
            names,
            [&b"SOCK_STREAM"[..], b"SOCK_CLOEXEC", b"SOCK_NONBLOCK"]
        );
    }

    #[test]
    fn reads_flag_sets() {
        let names: Vec<&[u8]> = flags(b"SOCK_STREAM|SOCK_CLOEXEC").collect();
        assert_eq!(names, [&b"SOCK_STREAM"[..], b"SOCK_CLOEXEC"]);
        assert!(has_flag(b"0x800 /* SOCK_??? */", b"0x800"));
        let set: Vec<&[u8]> = fd_set(b"[3 4]").unwrap().collect();
        assert_eq!(set, [&b"3"[..], b"4"]);
    }
}
