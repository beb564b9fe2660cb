//! One process's descriptor map. Most processes hold a handful of descriptors, so the map is a
//! short sorted vector until it grows past [`SMALL`]; then it becomes a persistent B-tree
//! ([`imbl::OrdMap`]), which a fork copies in constant time. A large map never shrinks back:
//! a process that once held many descriptors is the kind that forks with many open.

use imbl::OrdMap;

use crate::parse::Fd;

/// Entries a map holds as a vector; a copy of one costs no more than a few pointer bumps.
const SMALL: usize = 16;

#[derive(Debug, Clone)]
pub enum FdMap<V: Clone> {
    Small(Vec<(Fd, V)>),
    Large(OrdMap<Fd, V>),
}

impl<V: Clone> Default for FdMap<V> {
    fn default() -> Self {
        FdMap::Small(Vec::new())
    }
}

impl<V: Clone> FdMap<V> {
    pub fn get(&self, fd: &Fd) -> Option<&V> {
        match self {
            FdMap::Small(entries) => entries
                .binary_search_by_key(fd, |(k, _)| *k)
                .ok()
                .map(|i| &entries[i].1),
            FdMap::Large(map) => map.get(fd),
        }
    }

    pub fn contains_key(&self, fd: &Fd) -> bool {
        self.get(fd).is_some()
    }

    /// Maps `fd` to `value`, returning the value it replaced.
    pub fn insert(&mut self, fd: Fd, value: V) -> Option<V> {
        match self {
            FdMap::Small(entries) => match entries.binary_search_by_key(&fd, |(k, _)| *k) {
                Ok(i) => Some(std::mem::replace(&mut entries[i].1, value)),
                Err(i) => {
                    // Grow one entry at a time while small: most processes hold one or two
                    // descriptors, and a million of them would otherwise reserve four each.
                    if entries.len() == entries.capacity() && entries.len() < 4 {
                        entries.reserve_exact(1);
                    }
                    entries.insert(i, (fd, value));
                    if entries.len() > SMALL {
                        let large: OrdMap<Fd, V> = std::mem::take(entries).into_iter().collect();
                        *self = FdMap::Large(large);
                    }
                    None
                }
            },
            FdMap::Large(map) => map.insert(fd, value),
        }
    }

    pub fn remove(&mut self, fd: &Fd) -> Option<V> {
        match self {
            FdMap::Small(entries) => entries
                .binary_search_by_key(fd, |(k, _)| *k)
                .ok()
                .map(|i| entries.remove(i).1),
            FdMap::Large(map) => map.remove(fd),
        }
    }

    /// Every entry in descriptor order.
    pub fn entries(&self) -> Vec<(Fd, V)> {
        match self {
            FdMap::Small(entries) => entries.clone(),
            FdMap::Large(map) => map.iter().map(|(k, v)| (*k, v.clone())).collect(),
        }
    }

    /// The descriptors in `first..=last`, in order.
    pub fn keys_in(&self, first: Fd, last: Fd) -> Vec<Fd> {
        match self {
            FdMap::Small(entries) => entries
                .iter()
                .map(|(k, _)| *k)
                .filter(|k| (first..=last).contains(k))
                .collect(),
            FdMap::Large(map) => map.range(first..=last).map(|(k, _)| *k).collect(),
        }
    }

    /// Calls `f` with every value, in descriptor order.
    pub fn for_each_value(&self, mut f: impl FnMut(&V)) {
        match self {
            FdMap::Small(entries) => entries.iter().for_each(|(_, v)| f(v)),
            FdMap::Large(map) => map.values().for_each(f),
        }
    }

    /// The descriptors whose value satisfies `keep`, in order.
    pub fn keys_where(&self, keep: impl Fn(&V) -> bool) -> Vec<Fd> {
        match self {
            FdMap::Small(entries) => entries
                .iter()
                .filter(|(_, v)| keep(v))
                .map(|(k, _)| *k)
                .collect(),
            FdMap::Large(map) => map
                .iter()
                .filter(|(_, v)| keep(v))
                .map(|(k, _)| *k)
                .collect(),
        }
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
}
