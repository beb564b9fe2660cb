//! A call's argument list, and the scalar values read from it (integers, counts, names,
//! timeouts) that calls of every family share.

use super::super::error::{ParseError, Part, Result};
use super::super::outcome::Returned;
use super::super::strings;
use super::super::syscall::Fd;
use super::super::tokens::Tree;
use super::super::value;
use super::val::Val;

/// Most arguments any recognised call has.
const MAX_ARGS: usize = 8;

/// A call's top-level arguments.
pub(super) struct Args<'a> {
    pub(super) items: [&'a [u8]; MAX_ARGS],
    /// The same arguments as values to read further.
    vals: [Val<'a>; MAX_ARGS],
    pub(super) len: usize,
    /// The whole argument text (errors about missing arguments point at its end).
    text: &'a [u8],
    /// The call never returned (`= ?`): strace may have printed only its first arguments, so
    /// missing ones read as empty.
    cut_short: bool,
}

impl<'a> Args<'a> {
    /// The arguments of `text` as the scanner in [`value`] splits them.
    pub(super) fn split(text: &'a [u8], cut_short: bool) -> Self {
        let mut args = Args::empty(text, cut_short);
        for item in value::items(text).take(MAX_ARGS) {
            args.push(item, Val::Text(item));
        }
        args
    }

    /// The arguments of `text` from its token tree.
    pub(super) fn from_tree(text: &'a [u8], tree: Tree<'a>, cut_short: bool) -> Self {
        let mut args = Args::empty(text, cut_short);
        for item in tree.items().take(MAX_ARGS) {
            args.push(item.text(), Val::Node(item));
        }
        args
    }

    fn empty(text: &'a [u8], cut_short: bool) -> Self {
        Args {
            items: [b""; MAX_ARGS],
            vals: [Val::Text(b""); MAX_ARGS],
            len: 0,
            text,
            cut_short,
        }
    }

    fn push(&mut self, item: &'a [u8], val: Val<'a>) {
        if let (Some(slot), Some(val_slot)) =
            (self.items.get_mut(self.len), self.vals.get_mut(self.len))
        {
            *slot = item;
            *val_slot = val;
            self.len += 1;
        }
    }

    /// Argument `index` as a value, read as [`Args::get`] reads it.
    pub(super) fn val(&self, index: usize) -> Result<Val<'a>> {
        if index < self.len {
            Ok(self.vals[index])
        } else {
            self.get(index).map(Val::Text)
        }
    }

    /// Argument `index` as a value, if the call has it.
    pub(super) fn opt_val(&self, index: usize) -> Option<Val<'a>> {
        (index < self.len).then(|| self.vals[index])
    }

    pub(super) fn get(&self, index: usize) -> Result<&'a [u8]> {
        if index < self.len {
            Ok(self.items[index])
        } else if self.cut_short {
            Ok(b"")
        } else {
            Err(ParseError::at(
                Part::MissingArgument,
                self.text.get(self.text.len()..).unwrap_or_default(),
            ))
        }
    }

    pub(super) fn opt(&self, index: usize) -> Option<&'a [u8]> {
        (index < self.len).then(|| self.items[index])
    }
}

pub(super) fn int(text: &[u8]) -> Result<i64> {
    value::int(value::strip_comment(text)).ok_or(ParseError::at(Part::Number, text))
}

/// A count or length (`[16]`, `16 => 0` give the value after the call).
pub(super) fn count(text: &[u8]) -> Result<u64> {
    if text.is_empty() {
        return Ok(0);
    }
    // Plain lengths are most counts: no brackets, arrows or comments to look for.
    if text.iter().all(u8::is_ascii_digit) {
        return Ok(u64::try_from(int(text)?).unwrap_or(0));
    }
    let text = value::inner(text, b'[', b']').unwrap_or(text);
    let n = int(value::result_part(text))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

pub(super) fn returned_fd(ret: &Returned) -> Option<Fd> {
    ret.outcome
        .value
        .filter(|_| ret.outcome.is_success())
        .and_then(|v| Fd::try_from(v).ok())
}

pub(super) fn text(bytes: &[u8]) -> String {
    strings::text(value::symbol(bytes))
}

/// `{tv_sec=1, tv_usec=500}`, `{tv_sec=1, tv_nsec=0}` or old `{1, 500}` in microseconds.
pub(super) fn timeout_micros(text: &[u8]) -> Option<i64> {
    let mut seconds = None;
    let mut micros = 0i64;
    for (position, item) in value::struct_items(text)?.enumerate() {
        match value::field(item) {
            (Some(b"tv_sec"), v) => seconds = value::int(v),
            (Some(b"tv_usec"), v) => micros = value::int(v)?,
            (Some(b"tv_nsec"), v) => micros = value::int(v)? / 1000,
            (None, v) if position == 0 => seconds = value::int(v),
            (None, v) if position == 1 => micros = value::int(v)?,
            _ => {}
        }
    }
    Some(seconds?.saturating_mul(1_000_000).saturating_add(micros))
}
