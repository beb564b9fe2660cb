//! One process's descriptor map. Most processes hold a handful of descriptors, so the map is a
//! short sorted vector until it grows past [`SMALL`]; then it becomes a persistent array indexed
//! by descriptor ([`FdTrie`]), which a fork copies in constant time. A large map never shrinks
//! back: a process that once held many descriptors is the kind that forks with many open.

use super::fd_trie::FdTrie;
use crate::parse::Fd;

/// Entries a map holds as a vector; a copy of one costs no more than a few pointer bumps.
const SMALL: usize = 16;

#[derive(Debug, Clone)]
pub enum FdMap<V: Clone> {
    Small(Vec<(Fd, V)>),
    Large(Large<V>),
}

/// A large map: the descriptors the kernel can hand out in the array, and any negative number a
/// trace shows in a short sorted vector (none in a real trace), so that order stays numeric.
#[derive(Debug, Clone)]
pub struct Large<V: Clone> {
    trie: FdTrie<V>,
    negative: Vec<(Fd, V)>,
}

impl<V: Clone> Default for FdMap<V> {
    fn default() -> Self {
        FdMap::Small(Vec::new())
    }
}

/// The array key of a non-negative descriptor.
fn key(fd: Fd) -> Option<u32> {
    u32::try_from(fd).ok()
}

fn find<V>(entries: &[(Fd, V)], fd: Fd) -> Result<usize, usize> {
    entries.binary_search_by_key(&fd, |(k, _)| *k)
}

impl<V: Clone> FdMap<V> {
    pub fn get(&self, fd: &Fd) -> Option<&V> {
        let (entries, fd) = match (self, key(*fd)) {
            (FdMap::Large(large), Some(k)) => return large.trie.get(k),
            (FdMap::Large(large), None) => (&large.negative, *fd),
            (FdMap::Small(entries), _) => (entries, *fd),
        };
        find(entries, fd)
            .ok()
            .and_then(|i| entries.get(i))
            .map(|(_, v)| v)
    }

    pub fn contains_key(&self, fd: &Fd) -> bool {
        self.get(fd).is_some()
    }

    /// Maps `fd` to `value`, returning the value it replaced.
    pub fn insert(&mut self, fd: Fd, value: V) -> Option<V> {
        let entries = match (&mut *self, key(fd)) {
            (FdMap::Large(large), Some(k)) => return large.trie.insert(k, value),
            (FdMap::Large(large), None) => &mut large.negative,
            (FdMap::Small(entries), _) => entries,
        };
        match find(entries, fd) {
            Ok(i) => entries
                .get_mut(i)
                .map(|e| std::mem::replace(&mut e.1, value)),
            Err(i) => {
                // Grow one entry at a time while small: most processes hold one or two
                // descriptors, and a million of them would otherwise reserve four each.
                if entries.len() == entries.capacity() && entries.len() < 4 {
                    entries.reserve_exact(1);
                }
                entries.insert(i, (fd, value));
                if let FdMap::Small(entries) = self {
                    if entries.len() > SMALL {
                        *self = FdMap::Large(Large::from(std::mem::take(entries)));
                    }
                }
                None
            }
        }
    }

    pub fn remove(&mut self, fd: &Fd) -> Option<V> {
        let entries = match (self, key(*fd)) {
            (FdMap::Large(large), Some(k)) => return large.trie.remove(k),
            (FdMap::Large(large), None) => &mut large.negative,
            (FdMap::Small(entries), _) => entries,
        };
        find(entries, *fd).ok().map(|i| entries.remove(i).1)
    }

    /// Calls `f` with every entry whose descriptor is in `first..=last`, in descriptor order.
    fn for_each_in(&self, first: Fd, last: Fd, mut f: impl FnMut(Fd, &V)) {
        let in_range = |fd: &Fd| (first..=last).contains(fd);
        match self {
            FdMap::Small(entries) => entries
                .iter()
                .filter(|(k, _)| in_range(k))
                .for_each(|(k, v)| f(*k, v)),
            FdMap::Large(large) => {
                large
                    .negative
                    .iter()
                    .filter(|(k, _)| in_range(k))
                    .for_each(|(k, v)| f(*k, v));
                if let (Some(last), Some(first)) = (key(last), key(first.max(0))) {
                    // Keys of the array come from non-negative descriptors.
                    large.trie.for_each_in(first, last, &mut |k, v| {
                        f(Fd::try_from(k).unwrap_or(Fd::MAX), v)
                    });
                }
            }
        }
    }

    /// Every entry in descriptor order.
    pub fn entries(&self) -> Vec<(Fd, V)> {
        let mut out = Vec::new();
        self.for_each_in(Fd::MIN, Fd::MAX, |k, v| out.push((k, v.clone())));
        out
    }

    /// The descriptors in `first..=last`, in order.
    pub fn keys_in(&self, first: Fd, last: Fd) -> Vec<Fd> {
        let mut out = Vec::new();
        self.for_each_in(first, last, |k, _| out.push(k));
        out
    }

    /// The descriptors whose value satisfies `keep`, in order.
    pub fn keys_where(&self, keep: impl Fn(&V) -> bool) -> Vec<Fd> {
        let mut out = Vec::new();
        self.for_each_in(Fd::MIN, Fd::MAX, |k, v| {
            if keep(v) {
                out.push(k);
            }
        });
        out
    }
}

impl<V: Clone> From<Vec<(Fd, V)>> for Large<V> {
    fn from(entries: Vec<(Fd, V)>) -> Self {
        let mut large = Large {
            trie: FdTrie::default(),
            negative: Vec::new(),
        };
        for (fd, value) in entries {
            match key(fd) {
                Some(k) => {
                    large.trie.insert(k, value);
                }
                None => large.negative.push((fd, value)),
            }
        }
        large
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_and_large_maps_answer_alike() {
        let mut map: FdMap<u32> = FdMap::default();
        let fds: Vec<Fd> = (0..40).map(|i| (i * 7) % 41).collect();
        for (n, fd) in fds.iter().enumerate() {
            assert_eq!(map.insert(*fd, n as u32), None);
            if n == SMALL - 1 {
                assert!(matches!(map, FdMap::Small(_)));
            }
        }
        assert!(matches!(map, FdMap::Large(_)));
        let copy = map.clone();
        assert_eq!(map.insert(7, 99), Some(1));
        assert_eq!(copy.get(&7), Some(&1), "a copy does not see later writes");
        assert_eq!(map.remove(&14), Some(2));
        assert!(!map.contains_key(&14));
        assert_eq!(map.keys_in(0, 6), vec![0, 1, 2, 3, 4, 5, 6]);
        let entries = map.entries();
        assert!(entries.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(map.keys_where(|v| *v == 99), vec![7]);
    }

    #[test]
    fn negative_descriptors_come_first_in_a_large_map() {
        let mut map: FdMap<u32> = FdMap::default();
        for fd in 0..20 {
            map.insert(fd, 0);
        }
        map.insert(-5, 1);
        assert_eq!(map.get(&-5), Some(&1));
        assert_eq!(map.keys_in(-10, 1), vec![-5, 0, 1]);
        assert_eq!(map.remove(&-5), Some(1));
        assert_eq!(map.keys_in(-10, 0), vec![0]);
    }
}
