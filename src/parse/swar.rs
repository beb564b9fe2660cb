//! Byte tests on 16 bytes at once ("SIMD within a register"). The frame of every line is a few
//! short words (pid, timestamp, call name) whose ends a byte-by-byte loop finds only after a
//! mispredicted branch each; testing the 16 bytes together takes a handful of instructions and
//! no data-dependent branch.

/// One in every byte.
const ONES: u128 = u128::from_le_bytes([0x01; 16]);
/// The high bit of every byte.
const HIGHS: u128 = ONES * 0x80;

/// The first 16 bytes of `bytes` as one little-endian word, when there are that many.
pub fn load16(bytes: &[u8]) -> Option<u128> {
    let first: [u8; 16] = bytes.get(..16)?.try_into().ok()?;
    Some(u128::from_le_bytes(first))
}

/// Index of the first byte equal to `b`, if any of the 16 is.
pub fn find_byte(word: u128, b: u8) -> Option<usize> {
    let x = word ^ (ONES * u128::from(b));
    // The lowest byte flagged by the zero-byte test is exact (borrows only run upwards).
    let zero = x.wrapping_sub(ONES) & !x & HIGHS;
    (zero != 0).then(|| zero.trailing_zeros() as usize / 8)
}

/// The high bit set in each byte of `word` within `lo..=hi`, for bytes below 0x80 (no sum
/// below carries out of its byte).
fn in_range(word: u128, lo: u8, hi: u8) -> u128 {
    let at_least_lo = word.wrapping_add(ONES * u128::from(0x80 - lo));
    let above_hi = word.wrapping_add(ONES * u128::from(0x7f - hi));
    at_least_lo & !above_hi & HIGHS
}

/// Mask of the first `len` bytes (`len` below 16).
fn low_bytes(len: usize) -> u128 {
    (1u128 << (8 * len)) - 1
}

/// Are the first `len` bytes (`len` below 16) all call-name bytes, `[A-Za-z0-9_]`?
pub fn is_name(word: u128, len: usize) -> bool {
    let mask = low_bytes(len);
    if word & HIGHS & mask != 0 {
        return false;
    }
    let valid = in_range(word, b'0', b'9')
        | in_range(word, b'A', b'Z')
        | in_range(word, b'_', b'_')
        | in_range(word, b'a', b'z');
    valid & mask == HIGHS & mask
}

/// The first `len` bytes (`len` below 16), the rest zero: a name packed as the name table
/// keys it.
pub fn prefix(word: u128, len: usize) -> u128 {
    word & low_bytes(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(text: &[u8]) -> u128 {
        load16(text).unwrap()
    }

    #[test]
    fn finds_bytes_and_checks_names_like_a_byte_loop() {
        let samples: [&[u8]; 6] = [
            b"read(3, \"abc\", 3) = 3",
            b"epoll_pwait2(5, [], 1",
            b"(((((((((((((((((",
            b"re ad(3, 4, 5, 6, 7)",
            b"x\xc3\xa9y(1, 2, 3, 4, 5, 6)",
            b"accept4(3, NULL, NULL",
        ];
        for text in samples {
            let w = word(text);
            let expected = text.iter().take(16).position(|&b| b == b'(');
            assert_eq!(find_byte(w, b'('), expected, "{text:?}");
            for len in 0..16 {
                let by_loop = text[..len]
                    .iter()
                    .all(|&b| b.is_ascii_alphanumeric() || b == b'_');
                assert_eq!(is_name(w, len), by_loop, "{text:?} {len}");
            }
        }
        assert_eq!(find_byte(word(b"0123456789abcdef"), b'('), None);
        assert_eq!(load16(b"short"), None);
        assert_eq!(
            prefix(word(b"read(3, 4, 5, 67)"), 4),
            u128::from_le_bytes(*b"read\0\0\0\0\0\0\0\0\0\0\0\0")
        );
    }

    #[test]
    fn every_byte_value_is_classified_like_a_byte_loop() {
        for b in 0..=255u8 {
            let mut text = [b'a'; 16];
            text[3] = b;
            let expected = b.is_ascii_alphanumeric() || b == b'_';
            assert_eq!(is_name(word(&text), 15), expected, "{b:#x}");
            assert_eq!(
                find_byte(word(&text), b),
                Some(if b == b'a' { 0 } else { 3 })
            );
        }
    }
}
