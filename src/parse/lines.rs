//! Chunked line reader: splits a byte stream into lines with `memchr`, never holding more than one
//! chunk plus the line being assembled. A last line without a newline is still a line; a line
//! longer than [`MAX_LINE_LEN`] is reported as [`Line::TooLong`] and skipped, not buffered.

use std::io::{self, Read};

/// Bytes requested from the source per read.
const CHUNK: usize = 256 * 1024;

/// Longest line kept in memory (strace lines with `-s` of a few megabytes still fit).
pub const MAX_LINE_LEN: usize = 16 * 1024 * 1024;

/// One physical line.
#[derive(Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// The line's bytes, without the terminating `\n` (and `\r`, if any).
    Text(&'a [u8]),
    /// The line exceeded the cap; `len` is its full length in bytes.
    TooLong { len: usize },
}

pub struct LineReader<R> {
    source: R,
    buf: Vec<u8>,
    /// Unconsumed bytes are `buf[start..end]`.
    start: usize,
    end: usize,
    eof: bool,
    max_len: usize,
    /// 1-based number of the line last returned.
    line_no: u64,
    bytes: u64,
}

impl<R: Read> LineReader<R> {
    pub fn new(source: R) -> Self {
        Self::with_max_len(source, MAX_LINE_LEN)
    }

    pub fn with_max_len(source: R, max_len: usize) -> Self {
        LineReader {
            source,
            buf: vec![0; CHUNK],
            start: 0,
            end: 0,
            eof: false,
            max_len: max_len.max(1),
            line_no: 0,
            bytes: 0,
        }
    }

    /// Number of the line most recently returned (1-based).
    pub fn line_no(&self) -> u64 {
        self.line_no
    }

    /// Bytes consumed so far, terminators included.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The next line, `None` at end of input.
    pub fn next_line(&mut self) -> io::Result<Option<Line<'_>>> {
        let mut overflow: usize = 0;
        let (from, to) = loop {
            let pending = &self.buf[self.start..self.end];
            if let Some(pos) = memchr::memchr(b'\n', pending) {
                let from = self.start;
                self.start += pos + 1;
                self.bytes += pos as u64 + 1;
                if overflow > 0 || pos > self.max_len {
                    self.line_no += 1;
                    return Ok(Some(Line::TooLong {
                        len: overflow + pos,
                    }));
                }
                break (from, from + pos);
            }
            if self.eof {
                if self.start == self.end && overflow == 0 {
                    return Ok(None);
                }
                let from = self.start;
                let len = self.end - self.start;
                self.start = self.end;
                self.bytes += len as u64;
                if overflow > 0 || len > self.max_len {
                    self.line_no += 1;
                    return Ok(Some(Line::TooLong {
                        len: overflow + len,
                    }));
                }
                break (from, self.end);
            }
            self.make_room(&mut overflow);
            self.fill()?;
        };
        self.line_no += 1;
        let mut line = &self.buf[from..to];
        if let [rest @ .., b'\r'] = line {
            line = rest;
        }
        Ok(Some(Line::Text(line)))
    }

    /// Moves the unfinished tail to the front, grows the buffer up to the cap, and past the cap
    /// drops the tail (counting it in `overflow`) so an endless line costs no memory.
    fn make_room(&mut self, overflow: &mut usize) {
        let tail = self.end - self.start;
        if tail >= self.max_len || *overflow > 0 {
            *overflow += tail;
            self.bytes += tail as u64;
            self.start = 0;
            self.end = 0;
            return;
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.start = 0;
            self.end = tail;
        }
        if self.end == self.buf.len() {
            let grown = (self.buf.len() * 2).min(self.max_len + CHUNK);
            self.buf.resize(grown.max(self.buf.len() + 1), 0);
        }
    }

    fn fill(&mut self) -> io::Result<()> {
        loop {
            match self.source.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(input: &[u8], max: usize) -> Vec<String> {
        let mut reader = LineReader::with_max_len(input, max);
        let mut out = Vec::new();
        while let Some(line) = reader.next_line().unwrap() {
            out.push(match line {
                Line::Text(t) => String::from_utf8_lossy(t).into_owned(),
                Line::TooLong { len } => format!("<too long: {len}>"),
            });
        }
        out
    }

    #[test]
    fn splits_lines_and_keeps_a_last_line_without_newline() {
        assert_eq!(collect(b"a\nbb\r\n\nccc", 100), ["a", "bb", "", "ccc"]);
        assert_eq!(collect(b"a\n", 100), ["a"]);
        assert!(collect(b"", 100).is_empty());
    }

    #[test]
    fn lines_longer_than_the_cap_are_reported_and_skipped() {
        let mut input = b"short\n".to_vec();
        input.extend(std::iter::repeat_n(b'x', 1000));
        input.extend(b"\nafter\n");
        assert_eq!(collect(&input, 10), ["short", "<too long: 1000>", "after"]);
    }

    #[test]
    fn lines_spanning_many_chunks_are_reassembled() {
        let long = "y".repeat(3 * CHUNK + 17);
        let input = format!("{long}\nz");
        let lines = collect(input.as_bytes(), MAX_LINE_LEN);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].len(), long.len());
        assert_eq!(lines[1], "z");
    }

    #[test]
    fn counts_lines_and_bytes() {
        let mut reader = LineReader::new(&b"one\ntwo\nthree"[..]);
        while reader.next_line().unwrap().is_some() {}
        assert_eq!(reader.line_no(), 3);
        assert_eq!(reader.bytes(), 13);
    }
}
