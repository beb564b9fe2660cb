//! The text after ` = `: return value (decimal, hex, `?`), errno name and description, `-yy`
//! decoration of a returned descriptor, and the annotation some calls print (`([{fd=3,
//! revents=POLLIN}])`, `(Timeout)`, `(in [3], left {...})`).

use super::error::{ParseError, Part, Result};
use super::syscall::{Errno, Outcome};
use super::value;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Returned<'a> {
    pub outcome: Outcome,
    /// `<TCP:[...]>` after a returned descriptor (`-yy`), empty without one.
    pub decoration: &'a [u8],
    /// The parenthesised annotation after the value, without its parentheses; empty if none.
    pub annotation: &'a [u8],
}

pub fn returned(text: &[u8]) -> Result<Returned<'_>> {
    let text = value::trim(text);
    let (value, mut rest) = if let Some(rest) = text.strip_prefix(b"?") {
        (None, rest)
    } else {
        let (number, rest) = value::number_prefix(text);
        let parsed = value::int(number).ok_or(ParseError::at(Part::ReturnValue, text))?;
        (Some(parsed), rest)
    };
    let mut decoration: &[u8] = b"";
    if rest.first() == Some(&b'<') {
        let end = value::decoration_end(rest, 0);
        decoration = rest.get(..end).unwrap_or_default();
        rest = rest.get(end..).unwrap_or_default();
    }
    rest = value::trim(rest);
    let mut errno = None;
    if rest.first().is_some_and(u8::is_ascii_uppercase) {
        let len = rest.iter().position(|&b| b == b' ').unwrap_or(rest.len());
        let name = rest.get(..len).unwrap_or_default();
        errno = Some(Errno::from_bytes(name).unwrap_or(Errno::OTHER));
        rest = value::trim(rest.get(len..).unwrap_or_default());
    }
    let annotation = match rest {
        [] => rest,
        [b'(', inside @ .., b')'] => inside,
        _ => return Err(ParseError::at(Part::ReturnValue, rest)),
    };
    Ok(Returned {
        outcome: Outcome { value, errno },
        decoration,
        annotation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_plain_and_hex_values() {
        assert_eq!(returned(b"0").unwrap().outcome, Outcome::ok(0));
        assert_eq!(returned(b"0x7f00").unwrap().outcome, Outcome::ok(0x7f00));
        let flags = returned(b"0x802 (flags O_RDWR|O_NONBLOCK)").unwrap();
        assert_eq!(flags.outcome, Outcome::ok(0x802));
        assert_eq!(flags.annotation, b"flags O_RDWR|O_NONBLOCK");
    }

    #[test]
    fn reads_errors_known_and_unknown() {
        let r = returned(b"-1 EAGAIN (Resource temporarily unavailable)").unwrap();
        assert_eq!(r.outcome, Outcome::failed(Errno::EAGAIN));
        let r = returned(b"-1 EWEIRD (Something new)").unwrap();
        assert_eq!(r.outcome, Outcome::failed(Errno::OTHER));
    }

    #[test]
    fn reads_unknown_returns() {
        let r = returned(b"?").unwrap();
        assert_eq!(r.outcome.value, None);
        let r = returned(b"? ERESTARTSYS (To be restarted if SA_RESTART is set)").unwrap();
        assert_eq!(
            (r.outcome.value, r.outcome.errno),
            (None, Some(Errno::ERESTARTSYS))
        );
    }

    #[test]
    fn reads_annotations_and_decorations() {
        let r = returned(b"1 ([{fd=3, revents=POLLIN}])").unwrap();
        assert_eq!(r.annotation, b"[{fd=3, revents=POLLIN}]");
        assert_eq!(returned(b"0 (Timeout)").unwrap().annotation, b"Timeout");
        let r = returned(b"5<TCP:[127.0.0.1:8203->127.0.0.1:58148]>").unwrap();
        assert_eq!(r.outcome, Outcome::ok(5));
        assert_eq!(r.decoration, b"<TCP:[127.0.0.1:8203->127.0.0.1:58148]>");
        assert!(returned(b"abc").is_err());
        assert!(returned(b"1 junk").is_err());
    }
}
