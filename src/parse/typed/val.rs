//! A value the typed conversion reads (an argument, a struct's field, an array's element): a
//! node of the call's token tree ([`tokens`]), or plain text read with the [`value`] scanner
//! (the arguments of a call whose brackets do not match, a return value's annotation). Both
//! give the same items, keys and values; the tree has them at hand instead of scanning again.

use super::super::tokens;
use super::super::value;

#[derive(Debug, Clone, Copy)]
pub(super) enum Val<'a> {
    Node(tokens::Item<'a>),
    Text(&'a [u8]),
}

impl<'a> Val<'a> {
    pub(super) fn text(&self) -> &'a [u8] {
        match self {
            Val::Node(item) => item.text(),
            Val::Text(text) => text,
        }
    }

    /// The items of the `{...}` it is (`None` when it is not a struct).
    pub(super) fn struct_items(&self) -> Option<Vals<'a>> {
        self.group(b'{', b'}')
    }

    /// The items of the `[...]` it is (`None` when it is not an array).
    pub(super) fn array_items(&self) -> Option<Vals<'a>> {
        self.group(b'[', b']')
    }

    fn group(&self, open: u8, close: u8) -> Option<Vals<'a>> {
        match self {
            Val::Node(item) => item.group(open).map(Vals::Node),
            Val::Text(text) => value::inner(text, open, close).map(|t| Vals::Text(value::items(t))),
        }
    }

    /// `key=value` split as [`value::field`] splits it.
    pub(super) fn field(&self) -> (Option<&'a [u8]>, Val<'a>) {
        match self {
            Val::Node(item) if !item.is_value() => (item.key(), Val::Node(item.value())),
            _ => {
                let (key, value) = value::field(self.text());
                (key, Val::Text(value))
            }
        }
    }
}

/// The items of a list.
pub(super) enum Vals<'a> {
    Node(tokens::Items<'a>),
    Text(value::Items<'a>),
}

impl<'a> Iterator for Vals<'a> {
    type Item = Val<'a>;
    fn next(&mut self) -> Option<Val<'a>> {
        match self {
            Vals::Node(items) => items.next().map(Val::Node),
            Vals::Text(items) => items.next().map(Val::Text),
        }
    }
}
