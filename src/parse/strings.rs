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
/// when the string never closes.
pub fn string_end(bytes: &[u8], open: usize) -> Option<usize> {
    let mut i = open + 1;
    loop {
        match *bytes.get(i)? {
            b'"' => return Some(i + 1),
            // Binary data is escapes back to back: step over them without a search each.
            b'\\' => i += 2,
            // Likewise a lone byte between escapes.
            _ => match bytes.get(i + 1) {
                Some(b'"' | b'\\') => i += 1,
                _ => i += memchr::memchr2(b'"', b'\\', bytes.get(i..)?)?,
            },
        }
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
    out.reserve(raw.len());
    let mut i = 0;
    while let Some(&first) = raw.get(i) {
        if first != b'\\' {
            // A run of plain bytes, copied at once. Binary data (`\x7f\x45...`) is escapes back
            // to back, which skip this search entirely.
            let run = raw.get(i..).unwrap_or_default();
            let len = match run.get(1) {
                // A lone byte between escapes needs no search.
                None | Some(b'\\') => 1,
                Some(_) => memchr::memchr(b'\\', run).unwrap_or(run.len()),
            };
            out.extend_from_slice(run.get(..len).unwrap_or_default());
            i += len;
            continue;
        }
        let escape = i;
        let Some(&kind) = raw.get(i + 1) else {
            return Err(escape);
        };
        i += 2;
        let byte = match kind {
            b'n' => b'\n',
            b't' => b'\t',
            b'r' => b'\r',
            b'v' => 0x0b,
            b'f' => 0x0c,
            b'a' => 0x07,
            b'b' => 0x08,
            b'e' => 0x1b,
            b'\\' | b'"' | b'\'' | b'?' => kind,
            b'x' => {
                let mut value: u32 = 0;
                let mut digits = 0;
                while digits < 2 {
                    match raw.get(i).and_then(|&d| (d as char).to_digit(16)) {
                        Some(d) => value = value * 16 + d,
                        None => break,
                    }
                    i += 1;
                    digits += 1;
                }
                if digits == 0 {
                    return Err(escape);
                }
                value as u8
            }
            b'0'..=b'7' => {
                let mut value: u32 = u32::from(kind - b'0');
                let mut digits = 1;
                while digits < 3 {
                    match raw.get(i) {
                        Some(&d @ b'0'..=b'7') => value = value * 8 + u32::from(d - b'0'),
                        _ => break,
                    }
                    i += 1;
                    digits += 1;
                }
                (value & 0xff) as u8
            }
            _ => return Err(escape),
        };
        out.push(byte);
    }
    Ok(())
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
    }

    #[test]
    fn reports_bad_escapes() {
        let mut out = Vec::new();
        assert_eq!(decode_into(br"ab\q", &mut out), Err(2));
        assert_eq!(out, b"ab".to_vec());
        assert_eq!(decode_into(br"ab\", &mut Vec::new()), Err(2));
        assert_eq!(decode_into(br"\xg", &mut Vec::new()), Err(0));
    }

    #[test]
    fn finds_string_ends_past_escaped_quotes() {
        let text = br#""a\"b\\" rest"#;
        assert_eq!(string_end(text, 0), Some(8));
        assert_eq!(string_end(br#""never"#, 0), None);
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
