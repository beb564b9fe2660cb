//! A persistent array indexed by descriptor number: a radix tree of [`FAN`]-wide nodes whose
//! leaves hold the values. The kernel hands out the lowest free descriptor, so a process's
//! descriptors are dense and small: a lookup is a few indexed steps, with no comparisons or
//! hashing, and descriptors used together share a leaf. Nodes are shared between copies and
//! copied on write (`Arc::make_mut`), so a fork's copy costs one reference count and a write
//! after it copies only the path to the change. Keys are non-negative (the caller keeps others).

use std::sync::Arc;

/// Bits of a key each level consumes.
const BITS: u32 = 5;
/// Children (or values) per node.
const FAN: usize = 1 << BITS;
/// Levels of a tree covering every non-negative `i32`: 5 bits each, 31 bits in all.
const MAX_HEIGHT: u32 = 6;

// Both kinds inline their slots: a leaf of descriptor entries is the larger one, and a box in
// either would add a pointer hop to every level of every lookup.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
enum Node<V: Clone> {
    Branch([Option<Arc<Node<V>>>; FAN]),
    Leaf([Option<V>; FAN]),
}

impl<V: Clone> Node<V> {
    fn empty(leaf: bool) -> Self {
        if leaf {
            Node::Leaf(std::array::from_fn(|_| None))
        } else {
            Node::Branch(std::array::from_fn(|_| None))
        }
    }

    fn is_empty(&self) -> bool {
        match self {
            Node::Branch(kids) => kids.iter().all(Option::is_none),
            Node::Leaf(values) => values.iter().all(Option::is_none),
        }
    }
}

/// The slot of `key` in a node at `level` (0: the leaves).
fn index(key: u32, level: u32) -> usize {
    ((key >> (BITS * level)) as usize) & (FAN - 1)
}

#[derive(Debug, Clone)]
pub struct FdTrie<V: Clone> {
    root: Arc<Node<V>>,
    /// Levels above the leaves: the tree covers keys below `FAN^(height + 1)`.
    height: u32,
}

impl<V: Clone> Default for FdTrie<V> {
    fn default() -> Self {
        FdTrie {
            root: Arc::new(Node::empty(true)),
            height: 0,
        }
    }
}

impl<V: Clone> FdTrie<V> {
    /// Keys this tree's height covers are below this bound.
    fn bound(&self) -> u64 {
        1u64 << (BITS * (self.height + 1))
    }

    pub fn get(&self, key: u32) -> Option<&V> {
        if u64::from(key) >= self.bound() {
            return None;
        }
        let mut node = &*self.root;
        let mut level = self.height;
        loop {
            match node {
                Node::Branch(kids) => {
                    node = kids.get(index(key, level))?.as_deref()?;
                    level = level.checked_sub(1)?;
                }
                Node::Leaf(values) => return values.get(index(key, 0))?.as_ref(),
            }
        }
    }

    /// Maps `key` to `value`, returning the value it replaced.
    pub fn insert(&mut self, key: u32, value: V) -> Option<V> {
        while u64::from(key) >= self.bound() && self.height < MAX_HEIGHT {
            let mut kids: [Option<Arc<Node<V>>>; FAN] = std::array::from_fn(|_| None);
            let old = std::mem::replace(&mut self.root, Arc::new(Node::empty(true)));
            kids[0] = Some(old);
            self.root = Arc::new(Node::Branch(kids));
            self.height += 1;
        }
        let mut node = Arc::make_mut(&mut self.root);
        let mut level = self.height;
        loop {
            match node {
                Node::Branch(kids) => {
                    let kid = kids.get_mut(index(key, level))?;
                    let kid = kid.get_or_insert_with(|| Arc::new(Node::empty(level == 1)));
                    node = Arc::make_mut(kid);
                    level = level.checked_sub(1)?;
                }
                Node::Leaf(values) => return values.get_mut(index(key, 0))?.replace(value),
            }
        }
    }

    /// Unmaps `key`, returning its value. Copies nothing when `key` is absent; drops nodes left
    /// empty.
    pub fn remove(&mut self, key: u32) -> Option<V> {
        self.get(key)?;
        let height = self.height;
        remove_in(Arc::make_mut(&mut self.root), key, height)
    }

    /// Calls `f` with every entry whose key is in `first..=last`, in key order.
    pub fn for_each_in(&self, first: u32, last: u32, f: &mut impl FnMut(u32, &V)) {
        walk(&self.root, self.height, 0, (first, last), f);
    }
}

/// Removes `key` below `node` (at `level`); prunes children that become empty.
fn remove_in<V: Clone>(node: &mut Node<V>, key: u32, level: u32) -> Option<V> {
    match node {
        Node::Leaf(values) => values.get_mut(index(key, 0))?.take(),
        Node::Branch(kids) => {
            let slot = kids.get_mut(index(key, level))?;
            let kid = Arc::make_mut(slot.as_mut()?);
            let removed = remove_in(kid, key, level.checked_sub(1)?);
            if kid.is_empty() {
                *slot = None;
            }
            removed
        }
    }
}

/// Visits the entries of `node` (at `level`, its first key `base`) with keys in `range`.
fn walk<V: Clone>(
    node: &Node<V>,
    level: u32,
    base: u32,
    range: (u32, u32),
    f: &mut impl FnMut(u32, &V),
) {
    let span = 1u64 << (BITS * level);
    for i in 0..FAN {
        let start = u64::from(base) + i as u64 * span;
        let end = start + span - 1;
        if start > u64::from(range.1) {
            return;
        }
        if end < u64::from(range.0) {
            continue;
        }
        // Within `range`, so within `u32`.
        let Ok(start) = u32::try_from(start) else {
            return;
        };
        match node {
            Node::Branch(kids) => {
                if let (Some(Some(kid)), Some(below)) = (kids.get(i), level.checked_sub(1)) {
                    walk(kid, below, start, range, f);
                }
            }
            Node::Leaf(values) => {
                if let Some(Some(value)) = values.get(i) {
                    f(start, value);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(trie: &FdTrie<u32>, first: u32, last: u32) -> Vec<u32> {
        let mut out = Vec::new();
        trie.for_each_in(first, last, &mut |k, _| out.push(k));
        out
    }

    #[test]
    fn sparse_and_dense_keys_read_back_in_order() {
        let mut trie = FdTrie::default();
        let keys_in: Vec<u32> = vec![0, 31, 32, 1000, 40_000, 1 << 20, i32::MAX as u32];
        for (n, &k) in keys_in.iter().enumerate() {
            assert_eq!(trie.insert(k, n as u32), None);
        }
        for (n, &k) in keys_in.iter().enumerate() {
            assert_eq!(trie.get(k), Some(&(n as u32)));
        }
        assert_eq!(trie.get(33), None);
        assert_eq!(keys(&trie, 0, u32::MAX), keys_in);
        assert_eq!(keys(&trie, 31, 1000), vec![31, 32, 1000]);
        assert_eq!(trie.insert(32, 9), Some(2));
    }

    #[test]
    fn a_copy_keeps_its_entries_while_the_original_changes() {
        let mut trie = FdTrie::default();
        for k in 0..200 {
            trie.insert(k, k);
        }
        let copy = trie.clone();
        assert_eq!(trie.remove(5), Some(5));
        assert_eq!(trie.remove(5), None);
        trie.insert(6, 60);
        assert_eq!(copy.get(5), Some(&5));
        assert_eq!(copy.get(6), Some(&6));
        assert_eq!(trie.get(6), Some(&60));
    }

    #[test]
    fn emptied_nodes_are_dropped() {
        let mut trie = FdTrie::default();
        for k in 0..100 {
            trie.insert(k, k);
        }
        for k in 0..100 {
            assert_eq!(trie.remove(k), Some(k));
        }
        assert!(trie.root.is_empty());
        assert!(keys(&trie, 0, u32::MAX).is_empty());
    }
}
