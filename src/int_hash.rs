//! A hasher for maps keyed by a few integers (descriptors, epoll cookies, socket ids): SipHash
//! costs more than the rest of a cookie lookup, and an epoll server looks cookies up on every
//! event. Keys come from the trace, so the hash is seeded per map from the standard library's
//! random keys and finished with a full avalanche: crafted cookies cannot aim at one bucket.

use std::hash::{BuildHasher, Hasher};

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
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            if let Some(prefix) = word.get_mut(..chunk.len()) {
                prefix.copy_from_slice(chunk);
            }
            self.write_u64(u64::from_le_bytes(word));
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
}
