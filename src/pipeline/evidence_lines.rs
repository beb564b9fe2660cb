//! Reading back the trace lines that findings cite. The cited lines are often near the end of
//! a large trace, so the file is scanned in large blocks for line ends (`memchr`, many bytes at
//! a time) and only the cited lines are copied out.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// Bytes read at a time.
const BLOCK: usize = 1 << 16;

/// Reads the requested 1-based lines of `path` into `lines`; an unreadable file leaves them empty.
pub fn read_lines(path: &Path, lines: &mut BTreeMap<u64, String>) {
    if lines.is_empty() {
        return;
    }
    let Ok(stream) = crate::input::open(path) else {
        return;
    };
    read_wanted_lines(BufReader::with_capacity(BLOCK, stream), lines);
}

/// [`read_lines`] over any buffered reader. A line's text is trimmed and cut to an excerpt.
pub fn read_wanted_lines<R: Read>(mut reader: BufReader<R>, lines: &mut BTreeMap<u64, String>) {
    let mut wanted = lines.iter_mut().peekable();
    // The number of the line the next unread byte belongs to.
    let mut number = 1u64;
    // The cited line being read, when it spans blocks.
    let mut text: Vec<u8> = Vec::new();
    while wanted.peek().is_some() {
        let block = match reader.fill_buf() {
            Ok([]) | Err(_) => break,
            Ok(block) => block,
        };
        let mut at = 0;
        while at < block.len() {
            let Some((&want, slot)) = wanted.peek_mut() else {
                break;
            };
            let rest = &block[at..];
            if number < want {
                // Skip whole lines up to the wanted one.
                let skip = usize::try_from(want - number).unwrap_or(usize::MAX);
                let mut ends = memchr::memchr_iter(b'\n', rest);
                match ends.nth(skip - 1) {
                    Some(end) => {
                        number = want;
                        at += end + 1;
                    }
                    None => {
                        number += memchr::memchr_iter(b'\n', rest).count() as u64;
                        at = block.len();
                    }
                }
                continue;
            }
            match memchr::memchr(b'\n', rest) {
                Some(end) => {
                    text.extend_from_slice(&rest[..end]);
                    **slot = line_text(&text);
                    text.clear();
                    wanted.next();
                    number += 1;
                    at += end + 1;
                }
                None => {
                    text.extend_from_slice(rest);
                    at = block.len();
                }
            }
        }
        reader.consume(at);
    }
    // A last line without a line end.
    if let Some((&want, slot)) = wanted.peek_mut() {
        if want == number && !text.is_empty() {
            **slot = line_text(&text);
        }
    }
}

fn line_text(bytes: &[u8]) -> String {
    crate::parse::excerpt(String::from_utf8_lossy(bytes).trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str, capacity: usize, wanted: &[u64]) -> Vec<(u64, String)> {
        let mut lines: BTreeMap<u64, String> = wanted.iter().map(|&n| (n, String::new())).collect();
        read_wanted_lines(
            BufReader::with_capacity(capacity, text.as_bytes()),
            &mut lines,
        );
        lines.into_iter().collect()
    }

    #[test]
    fn cited_lines_are_found_whatever_the_block_size() {
        let text = "one\ntwo  \n\nfour\r\nfive\nsix";
        for capacity in [1, 2, 3, 5, 7, 64, BLOCK] {
            assert_eq!(
                read(text, capacity, &[1, 3, 4, 6, 9]),
                vec![
                    (1, "one".to_string()),
                    (3, String::new()),
                    (4, "four".to_string()),
                    (6, "six".to_string()),
                    (9, String::new()),
                ],
                "block of {capacity} bytes"
            );
            assert_eq!(read(text, capacity, &[2]), vec![(2, "two".to_string())]);
        }
    }

    #[test]
    fn a_line_after_the_last_line_end_is_not_invented() {
        assert_eq!(read("a\nb\n", 3, &[3]), vec![(3, String::new())]);
    }
}
