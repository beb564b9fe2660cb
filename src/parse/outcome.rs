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
    /// strace made the result up (`-e inject=...:error=` or `:retval=`, marked `(INJECTED)`):
    /// the call itself did not run (strace(1): the syscall number is replaced by an invalid
    /// one, or by a call without side effects).
    pub injected: bool,
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
    let mut injected = false;
    // Tampering marks come last: `(INJECTED)` for a made-up result, `(DELAYED)` for a call
    // that ran late (`:delay_enter=`, `:delay_exit=`), which changes nothing else.
    loop {
        if let Some(before) = rest.strip_suffix(b"(INJECTED)") {
            injected = true;
            rest = value::trim(before);
        } else if let Some(before) = rest.strip_suffix(b"(DELAYED)") {
            rest = value::trim(before);
        } else {
            break;
        }
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
        injected,
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

    /// Results strace tampered with (`-e inject`), from curl and python traces.
    #[test]
    fn reads_injected_and_delayed_results() {
        let r = returned(b"-1 ECONNREFUSED (Connection refused) (INJECTED)").unwrap();
        assert_eq!(r.outcome, Outcome::failed(Errno::ECONNREFUSED));
        assert_eq!(
            (r.injected, r.annotation),
            (true, &b"Connection refused"[..])
        );
        let r = returned(b"1 (INJECTED)").unwrap();
        assert_eq!(
            (r.outcome, r.injected, r.annotation),
            (Outcome::ok(1), true, &b""[..])
        );
        let r = returned(b"3 (DELAYED)").unwrap();
        assert_eq!(
            (r.outcome, r.injected, r.annotation),
            (Outcome::ok(3), false, &b""[..])
        );
        assert!(
            !returned(b"-1 ECONNREFUSED (Connection refused)")
                .unwrap()
                .injected
        );
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
