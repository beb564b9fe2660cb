//! Fast lookup of call names: most lines of a trace are calls netcheck ignores, so the name test
//! and the per-name count of ignored calls must cost next to nothing. A name of up to 16 bytes is
//! packed into one integer; one hash lookup answers both "is it recognised?" and "count it".

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

use super::syscall::SyscallName;

/// A name of at most 16 bytes as one integer (zero-padded; names never contain NUL).
pub fn pack(name: &[u8]) -> Option<u128> {
    if name.len() > 16 {
        return None;
    }
    // Stored byte by byte into a fixed array: a copy of a variable length would be a call to
    // `memcpy`, and this runs for every line of a trace.
    let mut bytes = [0u8; 16];
    for (slot, &b) in bytes.iter_mut().zip(name) {
        *slot = b;
    }
    Some(u128::from_le_bytes(bytes))
}

fn unpack(packed: u128) -> String {
    let bytes = packed.to_le_bytes();
    let len = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(bytes.get(..len).unwrap_or_default()).into_owned()
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
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x517c_c1b7_2722_0a95);
        }
    }
    fn write_u128(&mut self, n: u128) {
        let folded = (n as u64) ^ ((n >> 64) as u64).rotate_left(17);
        self.0 = folded.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

#[derive(Debug, Clone, Copy)]
enum Slot {
    Known(SyscallName),
    /// Ignored calls of this name counted since the last flush.
    Ignored(u64),
}

/// Recognised names plus the counts of ignored ones, which reach the public map through
/// [`CallNames::flush_into`].
pub struct CallNames {
    slots: HashMap<u128, Slot, BuildHasherDefault<PackedHasher>>,
    unflushed: u64,
}

impl Default for CallNames {
    fn default() -> Self {
        let slots = SyscallName::ALL
            .iter()
            .filter_map(|&name| Some((pack(name.as_str().as_bytes())?, Slot::Known(name))))
            .collect();
        CallNames {
            slots,
            unflushed: 0,
        }
    }
}

impl CallNames {
    /// The recognised call spelled `name`, packed as `packed` (`None`: too long to pack); any
    /// other name is counted as ignored (names too long to pack go straight into `map`).
    pub fn lookup_packed_or_count(
        &mut self,
        name: &[u8],
        packed: Option<u128>,
        map: &mut BTreeMap<String, u64>,
    ) -> Option<SyscallName> {
        let Some(packed) = packed else {
            *map.entry(String::from_utf8_lossy(name).into_owned())
                .or_insert(0) += 1;
            return None;
        };
        let slot = match self.slots.get_mut(&packed) {
            Some(slot) => slot,
            None => self.slots.entry(packed).or_insert(Slot::Ignored(0)),
        };
        match slot {
            Slot::Known(known) => Some(*known),
            Slot::Ignored(count) => {
                *count += 1;
                self.unflushed += 1;
                None
            }
        }
    }

    /// Ignored calls counted since the last flush.
    pub fn unflushed(&self) -> u64 {
        self.unflushed
    }

    pub fn flush_into(&mut self, map: &mut BTreeMap<String, u64>) {
        for (&packed, slot) in self.slots.iter_mut() {
            if let Slot::Ignored(count) = slot {
                if *count > 0 {
                    *map.entry(unpack(packed)).or_insert(0) += *count;
                    *count = 0;
                }
            }
        }
        self.unflushed = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup_or_count(
        names: &mut CallNames,
        name: &[u8],
        map: &mut BTreeMap<String, u64>,
    ) -> Option<SyscallName> {
        names.lookup_packed_or_count(name, pack(name), map)
    }

    #[test]
    fn agrees_with_the_declared_names() {
        let mut names = CallNames::default();
        let mut map = BTreeMap::new();
        for &name in SyscallName::ALL {
            assert_eq!(
                lookup_or_count(&mut names, name.as_str().as_bytes(), &mut map),
                Some(name)
            );
            assert_eq!(
                SyscallName::from_bytes(name.as_str().as_bytes()),
                Some(name)
            );
        }
        assert_eq!(lookup_or_count(&mut names, b"", &mut map), None);
        assert_eq!(names.unflushed(), 1);
    }

    #[test]
    fn counts_ignored_names_short_and_long() {
        let mut names = CallNames::default();
        let mut map = BTreeMap::new();
        assert_eq!(lookup_or_count(&mut names, b"mmap", &mut map), None);
        lookup_or_count(&mut names, b"mmap", &mut map);
        lookup_or_count(&mut names, b"sched_getaffinity_long_name", &mut map);
        assert_eq!(
            lookup_or_count(&mut names, b"close", &mut map),
            Some(SyscallName::Close)
        );
        assert_eq!(names.unflushed(), 2);
        names.flush_into(&mut map);
        names.flush_into(&mut map);
        assert_eq!(map.get("mmap"), Some(&2));
        assert_eq!(map.get("sched_getaffinity_long_name"), Some(&1));
        assert_eq!(map.get("close"), None);
        assert_eq!(names.unflushed(), 0);
    }
}
