//! A hasher for maps keyed by a few integers (descriptors, epoll cookies, socket ids): SipHash
//! costs more than the rest of a cookie lookup, and an epoll server looks cookies up on every
//! event. Keys come from the trace, so the hash is seeded per map from the standard library's
//! random keys and finished with a full avalanche: crafted cookies cannot aim at one bucket.
//! Numbers netcheck assigns itself in sequence (socket numbers) get a hasher that keeps
//! neighbours together instead ([`SequenceHashBuilder`]).

use std::hash::{BuildHasher, Hasher};

/// Bytes written to a hasher as little-endian words of 8 (the last one zero-padded): keys of
/// other types than the integers these hashers are made for still hash.
fn words(bytes: &[u8]) -> impl Iterator<Item = u64> + '_ {
    bytes.chunks(8).map(|chunk| {
        let mut word = [0u8; 8];
        if let Some(prefix) = word.get_mut(..chunk.len()) {
            prefix.copy_from_slice(chunk);
        }
        u64::from_le_bytes(word)
    })
}

/// Builds [`IntHasher`]s with this map's random seed.
#[derive(Debug, Clone)]
pub struct IntHashBuilder {
    seed: u64,
}

impl Default for IntHashBuilder {
    fn default() -> Self {
        IntHashBuilder {
            seed: std::collections::hash_map::RandomState::new()
                .hash_one(0x6e65_7463_6865_636b_u64),
        }
    }
}

impl BuildHasher for IntHashBuilder {
    type Hasher = IntHasher;
    fn build_hasher(&self) -> IntHasher {
        IntHasher { state: self.seed }
    }
}

/// Multiply-rotate mixing of each integer written, murmur3's finaliser at the end.
#[derive(Debug, Clone)]
pub struct IntHasher {
    state: u64,
}

impl Hasher for IntHasher {
    fn write(&mut self, bytes: &[u8]) {
        for word in words(bytes) {
            self.write_u64(word);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.state = (self.state ^ n)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .rotate_left(29);
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    fn write_i32(&mut self, n: i32) {
        self.write_u64(u64::from(n as u32));
    }

    fn finish(&self) -> u64 {
        let mut h = self.state;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

/// Builds [`SequenceHasher`]s, for maps keyed by numbers netcheck hands out one after the
/// other (a trace's socket numbers), never by numbers read from a trace: those could be aimed
/// at one bucket.
#[derive(Debug, Clone, Copy, Default)]
pub struct SequenceHashBuilder;

impl BuildHasher for SequenceHashBuilder {
    type Hasher = SequenceHasher;
    fn build_hasher(&self) -> SequenceHasher {
        SequenceHasher { state: 0 }
    }
}

/// Keeps a number's low bits as they are, so that consecutive numbers land in consecutive
/// buckets: the entries a run is using now, the newest, share cache lines even in a table of
/// millions, where a mixing hash sends every lookup to memory. The top seven bits, which the
/// table compares before the keys, come from a multiplication as in any hash.
#[derive(Debug, Clone)]
pub struct SequenceHasher {
    state: u64,
}

/// The hash bits the table compares before the keys (hashbrown's tag: the top seven).
const TAG_BITS: u64 = 0x7f << 57;

impl Hasher for SequenceHasher {
    fn write(&mut self, bytes: &[u8]) {
        for word in words(bytes) {
            self.write_u64(word);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.state = self.state.rotate_left(32) ^ n;
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    fn finish(&self) -> u64 {
        let tag = self.state.wrapping_mul(0x9e37_79b9_7f4a_7c15) & TAG_BITS;
        (self.state & !TAG_BITS) | tag
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn nearby_keys_spread_over_buckets() {
        let build = IntHashBuilder::default();
        // Descriptors and cookies are small consecutive numbers: their low bits must differ.
        let low_bits: HashSet<u64> = (0..1024i32)
            .map(|fd| build.hash_one((3i32, u64::try_from(fd).unwrap_or(0))) & 0x3ff)
            .collect();
        assert!(low_bits.len() > 600, "{} distinct of 1024", low_bits.len());
        assert_ne!(
            IntHashBuilder::default().hash_one(7u64),
            IntHashBuilder::default().hash_one(7u64),
            "each map has its own seed"
        );
    }

    #[test]
    fn consecutive_numbers_keep_their_order_in_the_low_bits_and_differ_in_the_tag() {
        let build = SequenceHashBuilder;
        let hashes: Vec<u64> = (1000u32..1064).map(|n| build.hash_one(n)).collect();
        for (pair, n) in hashes.windows(2).zip(1000u64..) {
            assert_eq!(pair[0] & !TAG_BITS, n);
            assert_eq!(pair[1] & !TAG_BITS, n + 1);
        }
        let tags: HashSet<u64> = hashes.iter().map(|h| h >> 57).collect();
        assert!(tags.len() > 32, "{} distinct tags of 64", tags.len());
    }
}
