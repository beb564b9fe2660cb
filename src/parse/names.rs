//! Fast lookup of call names: most lines of a trace are calls netcheck ignores, so the name test
//! and the per-name count of ignored calls must cost next to nothing. A name of up to 16 bytes is
//! packed into one integer and compared or hashed as such.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

use super::syscall::SyscallName;

/// A name of at most 16 bytes as one integer (zero-padded; names never contain NUL).
fn pack(name: &[u8]) -> Option<u128> {
    let mut bytes = [0u8; 16];
    bytes.get_mut(..name.len())?.copy_from_slice(name);
    Some(u128::from_le_bytes(bytes))
}

fn unpack(packed: u128) -> String {
    let bytes = packed.to_le_bytes();
    let len = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(bytes.get(..len).unwrap_or_default()).into_owned()
}

type PackedMap<V> = HashMap<u128, V, BuildHasherDefault<PackedHasher>>;

fn table() -> &'static PackedMap<SyscallName> {
    static TABLE: OnceLock<PackedMap<SyscallName>> = OnceLock::new();
    TABLE.get_or_init(|| {
        SyscallName::ALL
            .iter()
            .filter_map(|&name| Some((pack(name.as_str().as_bytes())?, name)))
            .collect()
    })
}

/// The recognised call spelled `name`, if any (same answer as [`SyscallName::from_bytes`]).
#[cfg(test)]
pub fn lookup(name: &[u8]) -> Option<SyscallName> {
    table().get(&pack(name)?).copied()
}

/// Looks `name` up, counting it in `ignored` when it is not recognised.
pub fn lookup_or_count(
    name: &[u8],
    ignored: &mut IgnoredCounts,
    map: &mut BTreeMap<String, u64>,
) -> Option<SyscallName> {
    let Some(packed) = pack(name) else {
        *map.entry(String::from_utf8_lossy(name).into_owned())
            .or_insert(0) += 1;
        return None;
    };
    let known = table().get(&packed).copied();
    if known.is_none() {
        *ignored.packed.entry(packed).or_insert(0) += 1;
        ignored.unflushed += 1;
    }
    known
}

/// Multiplicative hashing of a packed name (the keys are few and not adversarial).
#[derive(Default)]
struct PackedHasher(u64);

impl Hasher for PackedHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
    fn write_u128(&mut self, n: u128) {
        let folded = (n as u64) ^ ((n >> 64) as u64).rotate_left(17);
        self.0 = folded.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// Counts of ignored call names, kept in a fast table and added to the public map by
/// [`IgnoredCounts::flush_into`].
#[derive(Default)]
pub struct IgnoredCounts {
    packed: PackedMap<u64>,
    /// Counted since the last flush.
    unflushed: u64,
}

impl IgnoredCounts {
    pub fn unflushed(&self) -> u64 {
        self.unflushed
    }

    pub fn flush_into(&mut self, map: &mut BTreeMap<String, u64>) {
        for (packed, count) in self.packed.drain() {
            *map.entry(unpack(packed)).or_insert(0) += count;
        }
        self.unflushed = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_the_declared_names() {
        for &name in SyscallName::ALL {
            assert_eq!(lookup(name.as_str().as_bytes()), Some(name));
        }
        assert_eq!(lookup(b"mmap"), None);
        assert_eq!(lookup(b""), None);
        assert_eq!(lookup(b"a_very_long_name_indeed"), None);
    }

    #[test]
    fn counts_ignored_names_short_and_long() {
        let mut counts = IgnoredCounts::default();
        let mut map = BTreeMap::new();
        assert_eq!(lookup_or_count(b"mmap", &mut counts, &mut map), None);
        lookup_or_count(b"mmap", &mut counts, &mut map);
        lookup_or_count(b"sched_getaffinity_long_name", &mut counts, &mut map);
        assert_eq!(
            lookup_or_count(b"close", &mut counts, &mut map),
            Some(SyscallName::Close)
        );
        assert_eq!(counts.unflushed(), 2);
        counts.flush_into(&mut map);
        assert_eq!(map.get("mmap"), Some(&2));
        assert_eq!(map.get("sched_getaffinity_long_name"), Some(&1));
        assert_eq!(counts.unflushed(), 0);
    }
}
