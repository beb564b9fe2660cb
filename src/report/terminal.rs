//! Text for a terminal: control characters that come from input (a trace line, a host name, a
//! file name) are shown as escapes, never sent raw, so a crafted trace cannot retitle, clear or
//! otherwise drive the user's terminal. Only line breaks, tabs and — when the report is in
//! colour — our own SGR colour sequences pass.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{self, Write};

/// `text` with every control character escaped (`\x1b`, `\r`, `\u{9b}`...). With
/// `keep_styles`, SGR sequences (`ESC [ digits ; ... m`, colour only) are kept as they are.
pub fn printable(text: &str, keep_styles: bool) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c == '\x1b' && keep_styles {
            if let Some(len) = sgr_len(rest) {
                out.push_str(&rest[..len]);
                rest = &rest[len..];
                continue;
            }
        }
        if needs_escape(c) {
            let code = u32::from(c);
            if code < 0x80 {
                let _ = write!(out, "\\x{code:02x}");
            } else {
                let _ = write!(out, "\\u{{{code:x}}}");
            }
        } else {
            out.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
    Cow::Owned(out)
}

/// C0 and C1 controls and DEL, but line breaks and tabs; and the bidirectional overrides that
/// make text display in another order than it reads.
fn needs_escape(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// The length of the SGR sequence `text` starts with, if it starts with one.
fn sgr_len(text: &str) -> Option<usize> {
    let body = text.strip_prefix("\x1b[")?;
    let params = body
        .bytes()
        .take_while(|b| b.is_ascii_digit() || *b == b';')
        .count();
    (body.as_bytes().get(params) == Some(&b'm')).then_some(2 + params + 1)
}

/// A writer that escapes control characters line by line before they reach `inner`.
pub struct TerminalWriter<W: Write> {
    inner: W,
    keep_styles: bool,
    line: Vec<u8>,
}

impl<W: Write> TerminalWriter<W> {
    pub fn new(inner: W, keep_styles: bool) -> Self {
        TerminalWriter {
            inner,
            keep_styles,
            line: Vec::new(),
        }
    }

    fn emit_line(&mut self) -> io::Result<()> {
        let text = String::from_utf8_lossy(&self.line);
        let shown = printable(&text, self.keep_styles);
        self.inner.write_all(shown.as_bytes())?;
        self.line.clear();
        Ok(())
    }
}

impl<W: Write> Write for TerminalWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        for piece in buf.split_inclusive(|b| *b == b'\n') {
            self.line.extend_from_slice(piece);
            if piece.ends_with(b"\n") {
                self.emit_line()?;
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.line.is_empty() {
            self.emit_line()?;
        }
        self.inner.flush()
    }
}

impl<W: Write> Drop for TerminalWriter<W> {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_sequences_from_input_are_escaped() {
        let osc = "retitle \x1b]0;owned\x07 done\r\n";
        assert_eq!(
            printable(osc, false),
            "retitle \\x1b]0;owned\\x07 done\\x0d\n"
        );
        assert_eq!(
            printable("nul\0 del\x7f csi\u{9b}", false),
            "nul\\x00 del\\x7f csi\\u{9b}"
        );
        assert_eq!(printable("rtl\u{202e}txt", false), "rtl\\u{202e}txt");
        assert!(matches!(
            printable("plain\ttext\n", false),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn only_colour_sequences_pass_and_only_when_asked() {
        let styled = "\x1b[1;31mnetwork\x1b[0m \x1b[2J";
        assert_eq!(printable(styled, true), "\x1b[1;31mnetwork\x1b[0m \\x1b[2J");
        assert_eq!(
            printable(styled, false),
            "\\x1b[1;31mnetwork\\x1b[0m \\x1b[2J"
        );
    }

    #[test]
    fn the_writer_escapes_across_split_writes() {
        let mut out = Vec::new();
        {
            let mut writer = TerminalWriter::new(&mut out, false);
            writer.write_all(b"a\x1b").expect("written");
            writer.write_all(b"]0;x\x07\nlast").expect("written");
        }
        assert_eq!(String::from_utf8_lossy(&out), "a\\x1b]0;x\\x07\nlast");
    }
}
