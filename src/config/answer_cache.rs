//! A small memo of the matcher's yes/no answers per socket address. The replay asks whether an
//! address is outside the modelled world, or unobserved, about twice per event, nearly always
//! about the same few addresses, and each answer costs up to three hash lookups of an IP address.
//! A fixed number of slots, so memory stays the same however many addresses a run meets; two
//! addresses sharing a slot only evict each other.

use std::cell::Cell;
use std::net::SocketAddr;

const SLOTS: usize = 64;

pub struct AnswerCache {
    slots: [Cell<Option<(SocketAddr, bool)>>; SLOTS],
}

impl Default for AnswerCache {
    fn default() -> Self {
        AnswerCache {
            slots: std::array::from_fn(|_| Cell::new(None)),
        }
    }
}

impl AnswerCache {
    /// The answer for `addr`, computed by `answer` the first time (and again after eviction).
    pub fn get_or(&self, addr: SocketAddr, answer: impl FnOnce() -> bool) -> bool {
        let Some(slot) = self.slots.get(slot_of(addr)) else {
            return answer();
        };
        if let Some((cached, known)) = slot.get() {
            if cached == addr {
                return known;
            }
        }
        let known = answer();
        slot.set(Some((addr, known)));
        known
    }
}

/// A slot from the port and the address's last bytes (where addresses of one network differ).
fn slot_of(addr: SocketAddr) -> usize {
    let last = match addr {
        SocketAddr::V4(a) => u32::from(*a.ip()),
        SocketAddr::V6(a) => u128::from(*a.ip()) as u32,
    };
    let mixed = (last ^ u32::from(addr.port()).rotate_left(7)).wrapping_mul(0x9e37_79b1);
    (mixed >> 26) as usize % SLOTS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(text: &str) -> SocketAddr {
        text.parse().unwrap()
    }

    #[test]
    fn an_answer_is_computed_once_and_kept_per_address() {
        let cache = AnswerCache::default();
        let calls = Cell::new(0);
        let ask = |a: &str, yes: bool| {
            cache.get_or(addr(a), || {
                calls.set(calls.get() + 1);
                yes
            })
        };
        assert!(ask("10.0.0.1:80", true));
        assert!(ask("10.0.0.1:80", false), "the first answer is kept");
        assert!(!ask("10.0.0.2:80", false));
        assert!(!ask("[fe80::1]:80", false));
        assert_eq!(calls.get(), 3);
    }

    #[test]
    fn addresses_sharing_a_slot_evict_each_other_without_mixing_answers() {
        let cache = AnswerCache::default();
        let first = addr("10.0.0.1:80");
        let other = (1..10_000u16)
            .map(|port| SocketAddr::from(([10, 0, 0, 1], port)))
            .find(|a| *a != first && slot_of(*a) == slot_of(first));
        let Some(other) = other else {
            panic!("some port shares the slot of {first}");
        };
        assert!(cache.get_or(first, || true));
        assert!(!cache.get_or(other, || false));
        assert!(cache.get_or(first, || true));
        assert!(!cache.get_or(other, || false));
    }
}
