//! strace's quoted strings: finding where one ends, and decoding its C escapes (`\n`, `\xHH`,
//! octal `\NNN`, ...) and `-x`/`-xx` hex into bytes.

/// A quoted string as it appears in a value: the raw text between the quotes, and whether strace
/// marked it as cut short (`"abc"...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quoted<'a> {
    pub raw: &'a [u8],
    pub truncated: bool,
}

/// Owned text of bytes strace printed (names, paths): valid UTF-8 is copied as is, anything
/// else is replaced character by character.
pub fn text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(valid) => valid.to_owned(),
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// Index just past the closing quote of the string whose opening quote is at `open`, or `None`
/// when the string never closes. strace escapes a quote inside a string as `\"`, so a quote
/// ends the string when an even run of backslashes precedes it: quotes are found with one
/// vectorised search, however dense the escapes of binary data are.
pub fn string_end(bytes: &[u8], open: usize) -> Option<usize> {
    let mut from = open + 1;
    loop {
        let quote = from + memchr::memchr(b'"', bytes.get(from..)?)?;
        let before = bytes.get(from..quote).unwrap_or_default();
        let backslashes = before.iter().rev().take_while(|&&b| b == b'\\').count();
        if backslashes % 2 == 0 {
            return Some(quote + 1);
        }
        from = quote + 1;
    }
}

/// Reads a whole value as a quoted string: `"..."`, optionally followed by `...`. The value's
/// ends are looked at rather than its whole text: the item splitter has already found where the
/// string ends.
pub fn quoted(value: &[u8]) -> Option<Quoted<'_>> {
    let inside = value.strip_prefix(b"\"")?;
    let (body, truncated) = match inside.strip_suffix(b"\"...") {
        Some(body) => (body, true),
        None => (inside.strip_suffix(b"\"")?, false),
    };
    // The closing quote must not be escaped: an even run of backslashes precedes it.
    let backslashes = body.iter().rev().take_while(|&&b| b == b'\\').count();
    if backslashes % 2 == 1 {
        return None;
    }
    Some(Quoted {
        raw: body,
        truncated,
    })
}

/// Decodes the raw text of a quoted string, appending the bytes to `out`. Returns the offset
/// (within `raw`) of a malformed escape, if any; everything before it is decoded.
pub fn decode_into(raw: &[u8], out: &mut Vec<u8>) -> Result<(), usize> {
    // Decoding never lengthens the text, so the bytes are written in place into room made once,
    // rather than pushed one by one with a capacity check each.
    let start = out.len();
    out.resize(start + raw.len(), 0);
    let (written, result) = decode_slice(raw, out.get_mut(start..).unwrap_or_default());
    out.truncate(start + written);
    result
}

/// Decodes the raw text of a quoted string; a malformed escape (strace never prints one) is
/// kept as its literal text and decoding goes on after its backslash.
pub fn decode_lenient(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut rest = raw;
    while let Err(at) = decode_into(rest, &mut out) {
        out.push(b'\\');
        rest = rest.get(at + 1..).unwrap_or_default();
    }
    out
}

/// Decodes `raw` into `room` (at least as long as `raw`): how many bytes were written, and the
/// offset of a malformed escape, if any. The text is walked as a shrinking slice so that each step matches on what is left instead of indexing
/// (and bounds-checking) byte by byte.
fn decode_slice(raw: &[u8], room: &mut [u8]) -> (usize, Result<(), usize>) {
    let mut rest = raw;
    let mut o = 0;
    loop {
        let (byte, tail) = match *rest {
            [] => return (o, Ok(())),
            [b'\\', kind, ref tail @ ..] => match escape(kind, tail) {
                Some(decoded) => decoded,
                None => return (o, Err(raw.len() - rest.len())),
            },
            [b'\\'] => return (o, Err(raw.len() - 1)),
            // A lone byte between escapes needs no search.
            [plain, ref tail @ ..] if matches!(tail.first(), None | Some(b'\\' | b'"')) => {
                (plain, tail)
            }
            _ => {
                // A run of plain bytes, copied at once. Binary data (`\x7f\x45...`) is escapes
                // back to back, which skip this search entirely. The first byte is plain already.
                let len = 1 + memchr::memchr2(b'\\', b'"', rest.get(1..).unwrap_or_default())
                    .unwrap_or(rest.len() - 1);
                let (run, tail) = rest.split_at(len);
                if let Some(to) = room.get_mut(o..o + len) {
                    to.copy_from_slice(run);
                }
                o += len;
                rest = tail;
                continue;
            }
        };
        if let Some(slot) = room.get_mut(o) {
            *slot = byte;
        }
        o += 1;
        rest = tail;
    }
}

/// The byte an escape `\<kind>...` stands for and the text after it; `None` when malformed.
fn escape(kind: u8, tail: &[u8]) -> Option<(u8, &[u8])> {
    let simple = match kind {
        b'0'..=b'7' => {
            let mut value = kind - b'0';
            let mut tail = tail;
            // Up to two more octal digits; the value wraps to a byte as in C.
            for _ in 0..2 {
                match *tail {
                    [d @ b'0'..=b'7', ref more @ ..] => {
                        value = value.wrapping_mul(8) | (d - b'0');
                        tail = more;
                    }
                    _ => break,
                }
            }
            return Some((value, tail));
        }
        b'x' => {
            let (&first, more) = tail.split_first()?;
            let high = hex_digit(first)?;
            return Some(match more.split_first() {
                Some((&second, after)) => match hex_digit(second) {
                    Some(low) => (high << 4 | low, after),
                    None => (high, more),
                },
                None => (high, more),
            });
        }
        b'n' => b'\n',
        b't' => b'\t',
        b'r' => b'\r',
        b'v' => 0x0b,
        b'f' => 0x0c,
        b'a' => 0x07,
        b'b' => 0x08,
        b'e' => 0x1b,
        b'\\' | b'"' | b'\'' | b'?' => kind,
        _ => return None,
    };
    Some((simple, tail))
}

fn hex_digit(d: u8) -> Option<u8> {
    match d {
        b'0'..=b'9' => Some(d - b'0'),
        b'a'..=b'f' => Some(d - b'a' + 10),
        b'A'..=b'F' => Some(d - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(raw: &str) -> Vec<u8> {
        let mut out = Vec::new();
        decode_into(raw.as_bytes(), &mut out).unwrap();
        out
    }

    #[test]
    fn decodes_c_escapes() {
        assert_eq!(
            decode(r#"a\n\t\r\v\f\\\"\'z"#),
            b"a\n\t\r\x0b\x0c\\\"'z".to_vec()
        );
    }

    #[test]
    fn decodes_hex_and_octal() {
        assert_eq!(decode(r"\x47\x45\x54"), b"GET".to_vec());
        assert_eq!(
            decode(r"\0\1\12\123\3771"),
            vec![0, 1, 10, 0o123, 0xff, b'1']
        );
        assert_eq!(decode(r"\xff\x0"), vec![0xff, 0]);
        // Three octal digits above a byte wrap as in C.
        assert_eq!(decode(r"\777\400"), vec![0xff, 0]);
    }

    #[test]
    fn reports_bad_escapes() {
        let mut out = Vec::new();
        assert_eq!(decode_into(br"ab\q", &mut out), Err(2));
        assert_eq!(out, b"ab".to_vec());
        assert_eq!(decode_into(br"ab\", &mut Vec::new()), Err(2));
        assert_eq!(decode_into(br"\xg", &mut Vec::new()), Err(0));
        // Leniently, a bad escape stays as it was printed and the rest is still decoded.
        assert_eq!(decode_lenient(br"a\qb\n\"), b"a\\qb\n\\".to_vec());
    }

    #[test]
    fn finds_string_ends_past_escaped_quotes() {
        let text = br#""a\"b\\" rest"#;
        assert_eq!(string_end(text, 0), Some(8));
        assert_eq!(string_end(br#""never"#, 0), None);
        // Quotes after runs of backslashes: odd runs escape, even runs do not.
        assert_eq!(string_end(br#""\\\"x\\" y"#, 0), Some(9));
        assert_eq!(string_end(br#""\x00\x22\"" y"#, 0), Some(12));
    }

    #[test]
    fn recognises_truncated_strings() {
        assert_eq!(
            quoted(br#""GET /"..."#),
            Some(Quoted {
                raw: b"GET /",
                truncated: true
            })
        );
        assert_eq!(quoted(br#""""#).map(|q| q.raw.len()), Some(0));
        assert_eq!(quoted(br#""a" b"#), None);
        assert_eq!(quoted(b"NULL"), None);
        assert_eq!(quoted(br#""escaped end\""#), None);
        assert_eq!(
            quoted(br#""backslash\\""#).map(|q| q.raw),
            Some(&br"backslash\\"[..])
        );
        assert_eq!(quoted(br#"""#), None);
    }
}
