//! A call's argument text read once into a tree of items: every top-level argument, and inside
//! each `{...}` or `[...]` that opens an item's value, the items of that group, with their
//! `key=` split off. The typed conversion then walks the tree instead of scanning the text again
//! for every array, struct and field it looks at (an `epoll_wait` with four events used to scan
//! each event's text three times: the array split, then once per field looked up).
//!
//! The tree gives exactly the items the scanner in [`value`] gives (same top-level commas, same
//! group ends, same skipping of strings, comments and `-y` decorations), but only for text whose
//! brackets match: a closing bracket of the wrong kind, one with nothing open, or a group left
//! open makes [`Tokens::read`] answer `false`, and the caller reads that call's text with
//! [`value`], whose answers on such text the tree does not try to reproduce.

use super::strings;
use super::value;

/// One item of a list.
#[derive(Debug, Clone, Copy, Default)]
struct Node {
    /// The item's text, trimmed: `text[start..end]`.
    start: u32,
    end: u32,
    /// Length of its `key` (`key=value`, `key(16)=value`), 0 when it has none.
    key_len: u32,
    /// Where its value starts (after `key=` and spaces; the item's start when it has no key).
    value_start: u32,
    /// Where the first bracket group at the item's own level opens (`NONE` if none): the items
    /// of that group follow this node in the tree.
    group_open: u32,
    /// Index one past the last node of this item's subtree.
    skip: u32,
}

const NONE: u32 = u32::MAX;

/// Groups nested deeper than this are not read into the tree (the reading recurses once per
/// level): the scanner, which only counts levels, reads such text. strace nests a few levels
/// (an mmsghdr's iovec's fields are four deep); a crafted line could nest millions.
const MAX_DEPTH: usize = 32;

/// The tree of one argument text. Kept between calls so that reading a call allocates nothing.
#[derive(Debug, Default)]
pub struct Tokens {
    nodes: Vec<Node>,
    /// Closing bytes expected for the brackets open inside the current item (parentheses, and
    /// groups that are not an item's first).
    open: Vec<u8>,
}

/// The bytes that end a stretch of ordinary text: separators, brackets, strings, comments and
/// decorations.
static SPECIAL: [bool; 256] = {
    let mut table = [false; 256];
    let special = b",([{)]}\"/<";
    let mut i = 0;
    while i < special.len() {
        table[special[i] as usize] = true;
        i += 1;
    }
    table
};

fn closer(open: u8) -> u8 {
    match open {
        b'(' => b')',
        b'[' => b']',
        _ => b'}',
    }
}

impl Tokens {
    /// Reads `text` (a call's arguments). `false` when its brackets do not match; the tree is
    /// then not to be used.
    pub fn read(&mut self, text: &[u8]) -> bool {
        self.nodes.clear();
        self.open.clear();
        if u32::try_from(text.len()).is_err() {
            return false;
        }
        self.list(text, 0, None, 0).is_some()
    }

    /// The tree read last (empty when [`Tokens::read`] failed).
    pub fn tree<'a>(&'a self, text: &'a [u8]) -> Tree<'a> {
        Tree {
            text,
            nodes: &self.nodes,
        }
    }

    /// Reads the items from `pos` up to the end of `text` (`close` is `None`) or up to the
    /// `close` byte that ends the group; the position after it, `None` when the brackets do not
    /// match.
    fn list(
        &mut self,
        text: &[u8],
        mut pos: usize,
        close: Option<u8>,
        depth: usize,
    ) -> Option<usize> {
        if depth > MAX_DEPTH {
            return None;
        }
        loop {
            let item_start = pos;
            let node = self.nodes.len();
            self.nodes.push(Node::default());
            let base = self.open.len();
            let mut group_open = NONE;
            let (item_end, last) = loop {
                let Some(skipped) = text
                    .get(pos..)?
                    .iter()
                    .position(|&b| SPECIAL[usize::from(b)])
                else {
                    if close.is_some() || self.open.len() > base {
                        return None;
                    }
                    break (text.len(), true);
                };
                pos += skipped;
                let b = *text.get(pos)?;
                let level = self.open.len() == base;
                match b {
                    b',' if level => break (pos, false),
                    b'{' | b'[' if level && group_open == NONE => {
                        group_open = pos as u32;
                        pos = self.list(text, pos + 1, Some(closer(b)), depth + 1)?;
                        continue;
                    }
                    b'(' | b'{' | b'[' => self.open.push(closer(b)),
                    b')' | b']' | b'}' if level => {
                        if close == Some(b) {
                            break (pos, true);
                        }
                        return None;
                    }
                    // Closes the bracket open inside the item (popped), or one of another kind.
                    b')' | b']' | b'}' if self.open.pop() != Some(b) => return None,
                    b')' | b']' | b'}' => {}
                    b'"' => {
                        pos = strings::string_end(text, pos).unwrap_or(text.len());
                        continue;
                    }
                    b'/' if text.get(pos + 1) == Some(&b'*') => {
                        pos = value::comment_end(text, pos);
                        continue;
                    }
                    b'<' if value::opens_decoration(text, pos) => {
                        pos = value::decoration_end(text, pos);
                        continue;
                    }
                    _ => {}
                }
                pos += 1;
            };
            pos = item_end + 1;
            let raw = text.get(item_start..item_end)?;
            let trimmed = raw.trim_ascii_start();
            let start = item_start + (raw.len() - trimmed.len());
            let trimmed = trimmed.trim_ascii_end();
            if last && trimmed.is_empty() {
                // `f()` has no arguments, `{}` no fields: not one empty item.
                self.nodes.truncate(node);
                return Some(pos);
            }
            let end = start + trimmed.len();
            let (key_len, value_offset) = value::field_at(trimmed).unwrap_or((0, 0));
            let skip = self.nodes.len() as u32;
            if let Some(slot) = self.nodes.get_mut(node) {
                *slot = Node {
                    start: start as u32,
                    end: end as u32,
                    key_len: key_len as u32,
                    value_start: (start + value_offset) as u32,
                    group_open,
                    skip,
                };
            }
            if last {
                return Some(pos);
            }
        }
    }
}

/// A tree read by [`Tokens`], borrowing its text.
#[derive(Debug, Clone, Copy)]
pub struct Tree<'a> {
    text: &'a [u8],
    nodes: &'a [Node],
}

impl<'a> Tree<'a> {
    /// The top-level items (a call's arguments).
    pub fn items(self) -> Items<'a> {
        Items {
            tree: self,
            next: 0,
            end: self.nodes.len(),
        }
    }
}

/// One item of a tree, or the value of a `key=value` item.
#[derive(Debug, Clone, Copy)]
pub struct Item<'a> {
    tree: Tree<'a>,
    at: usize,
    /// Stands for the value after the item's key rather than the whole item.
    as_value: bool,
}

impl<'a> Item<'a> {
    fn node(&self) -> Node {
        self.tree.nodes.get(self.at).copied().unwrap_or_default()
    }

    fn slice(&self, from: u32, to: u32) -> &'a [u8] {
        self.tree
            .text
            .get(from as usize..to as usize)
            .unwrap_or_default()
    }

    /// Its text (the value's, for a value).
    pub fn text(&self) -> &'a [u8] {
        let node = self.node();
        let start = if self.as_value {
            node.value_start
        } else {
            node.start
        };
        self.slice(start, node.end)
    }

    /// Its key, when it is a `key=value` item.
    pub fn key(&self) -> Option<&'a [u8]> {
        let node = self.node();
        (node.key_len > 0).then(|| self.slice(node.start, node.start + node.key_len))
    }

    /// Stands for the value of an item rather than the item.
    pub fn is_value(&self) -> bool {
        self.as_value
    }

    /// Its value (itself when it has no key).
    pub fn value(&self) -> Item<'a> {
        Item {
            as_value: true,
            ..*self
        }
    }

    /// The items inside the `open` bracket its text starts with, as [`value::inner`] reads them
    /// (a trailing ` => {...}` part is not looked at).
    pub fn group(&self, open: u8) -> Option<Items<'a>> {
        let node = self.node();
        let start = if self.as_value {
            node.value_start
        } else {
            node.start
        };
        if node.group_open != start || self.tree.text.get(start as usize) != Some(&open) {
            return None;
        }
        Some(Items {
            tree: self.tree,
            next: self.at + 1,
            end: node.skip as usize,
        })
    }
}

/// The items of a list, in order.
#[derive(Debug, Clone)]
pub struct Items<'a> {
    tree: Tree<'a>,
    next: usize,
    end: usize,
}

impl<'a> Iterator for Items<'a> {
    type Item = Item<'a>;
    fn next(&mut self) -> Option<Item<'a>> {
        if self.next >= self.end {
            return None;
        }
        let at = self.next;
        let node = self.tree.nodes.get(at)?;
        // A malformed tree would loop forever without this: a subtree always ends past its root.
        self.next = (node.skip as usize).max(at + 1);
        Some(Item {
            tree: self.tree,
            at,
            as_value: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(items: Items) -> Vec<String> {
        items
            .map(|i| String::from_utf8_lossy(i.text()).into_owned())
            .collect()
    }

    #[test]
    fn reads_nested_groups_once() {
        // An epoll wait of the event-loop server (lab/big-traces.py --event-loop).
        let text = b"7<anon_inode:[eventpoll]>, [{events=EPOLLIN, data={u32=8, u64=8}}, \
                     {events=EPOLLIN|EPOLLRDHUP, data={u32=9, u64=9}}], 512, 60000";
        let mut tokens = Tokens::default();
        assert!(tokens.read(text));
        let args: Vec<Item> = tokens.tree(text).items().collect();
        assert_eq!(args.len(), 4);
        assert_eq!(args[0].text(), b"7<anon_inode:[eventpoll]>");
        let events: Vec<Item> = args[1].group(b'[').unwrap().collect();
        assert_eq!(events.len(), 2);
        let fields: Vec<Item> = events[1].group(b'{').unwrap().collect();
        assert_eq!(fields[0].key(), Some(&b"events"[..]));
        assert_eq!(fields[0].value().text(), b"EPOLLIN|EPOLLRDHUP");
        let data = fields[1].value();
        assert_eq!(texts(data.group(b'{').unwrap()), ["u32=9", "u64=9"]);
        // A group is read only where the text (or value) starts with it.
        assert!(args[1].group(b'{').is_none());
        assert!(
            fields[1].group(b'{').is_none(),
            "the item starts with its key"
        );
    }

    #[test]
    fn empty_lists_and_trailing_commas() {
        let mut tokens = Tokens::default();
        assert!(tokens.read(b""));
        assert_eq!(tokens.tree(b"").items().count(), 0);
        let text = b"{}, [ ], a, , b,";
        assert!(tokens.read(text));
        let items: Vec<Item> = tokens.tree(text).items().collect();
        assert_eq!(items.len(), 5, "an empty item between commas stays");
        assert_eq!(items[0].group(b'{').map(|g| g.count()), Some(0));
        assert_eq!(items[1].group(b'[').map(|g| g.count()), Some(0));
    }

    #[test]
    fn declines_unmatched_brackets() {
        let mut tokens = Tokens::default();
        for text in [
            &b"{a=(b}, c)"[..],
            b"x]",
            b"[1, 2",
            b"{\"open string}",
            b"f(1, 2",
        ] {
            assert!(!tokens.read(text), "{}", String::from_utf8_lossy(text));
        }
        // Nesting past the depth the tree reads is left to the scanner, without exhausting the
        // stack.
        let deep = [vec![b'{'; 100_000], vec![b'}'; 100_000]].concat();
        assert!(!tokens.read(&deep));
        let shallow = [vec![b'['; MAX_DEPTH], vec![b']'; MAX_DEPTH]].concat();
        assert!(tokens.read(&shallow));
        // Brackets inside strings, comments and decorations do not count.
        let text = b"\"a]\", 0x1 /* ) */, 3</tmp/a(b>, {x=\"}\"}";
        assert!(tokens.read(text));
        assert_eq!(tokens.tree(text).items().count(), 4);
    }
}
