//! Which sockets hold each port of each host: the index a bind is checked against.
//!
//! A bind to a specific address can only conflict with holders of that same address or of a
//! wildcard address on the port. Each holder is kept with a tag of the address it was bound
//! under, so the others are passed over without looking their sockets up: with a server that
//! binds one port on many addresses, a bind used to fetch every socket already on that port
//! from the socket table (a cache miss each), and now reads one short contiguous list.

use std::collections::HashMap;
use std::net::IpAddr;

use super::socket::Proto;
use crate::int_hash::IntHashBuilder;
use crate::source::SockId;

/// A bind's scope: (host key, protocol, port).
pub(super) type PortKey = (u64, Proto, u16);

type IdMap<K, V> = HashMap<K, V, IntHashBuilder>;

/// A 32-bit tag of an address: equal addresses have equal tags, and both wildcards tag 0. Tags
/// of different addresses may collide (IPv6 ones are folded), which only offers the caller a
/// holder it then rules out on the real addresses.
pub(super) fn address_tag(ip: IpAddr) -> u32 {
    match ip {
        IpAddr::V4(v4) => u32::from(v4),
        IpAddr::V6(v6) => {
            let bits = u128::from(v6);
            (bits as u32) ^ ((bits >> 32) as u32) ^ ((bits >> 64) as u32) ^ ((bits >> 96) as u32)
        }
    }
}

pub(super) const WILDCARD_TAG: u32 = 0;

#[derive(Debug, Default)]
pub(super) struct BindIndex {
    /// Every holder of each port, in the order they were indexed, with the tag of the address
    /// each was indexed under (12 bytes a holder).
    by_port: IdMap<PortKey, Vec<(u32, SockId)>>,
}

impl BindIndex {
    /// Indexes `id` as holding `ip` on `key`'s port.
    pub(super) fn insert(&mut self, key: PortKey, ip: IpAddr, id: SockId) {
        self.by_port
            .entry(key)
            .or_default()
            .push((address_tag(ip), id));
    }

    /// Drops `id` from `key`'s port.
    pub(super) fn remove(&mut self, key: PortKey, id: SockId) {
        let Some(list) = self.by_port.get_mut(&key) else {
            return;
        };
        list.retain(|(_, s)| *s != id);
        if list.is_empty() {
            self.by_port.remove(&key);
        }
    }

    /// The sockets on `key`'s port that a bind to `ip` may conflict with, in the order they
    /// were indexed (the first real conflict is the one reported). A superset: the caller
    /// checks each against its current address and options. A holder indexed under a wildcard
    /// that has since learnt its real address (getsockname) is still offered.
    pub(super) fn candidates(
        &self,
        key: PortKey,
        ip: IpAddr,
    ) -> impl Iterator<Item = &SockId> + '_ {
        let (any, wanted) = (ip.is_unspecified(), address_tag(ip));
        self.by_port
            .get(&key)
            .into_iter()
            .flatten()
            .filter(move |(held, _)| any || *held == WILDCARD_TAG || *held == wanted)
            .map(|(_, id)| id)
    }

    /// Every port's holders, sorted, for the model's state snapshot.
    pub(super) fn snapshot(&self) -> Vec<(&PortKey, &Vec<(u32, SockId)>)> {
        let mut ports: Vec<_> = self.by_port.iter().collect();
        ports.sort();
        ports
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::TraceId;

    fn sock(n: u32) -> SockId {
        SockId {
            trace: TraceId(0),
            n,
        }
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    const PORT: PortKey = (0, Proto::Tcp, 80);

    fn candidates(index: &BindIndex, key: PortKey, at: &str) -> Vec<SockId> {
        index.candidates(key, ip(at)).copied().collect()
    }

    #[test]
    fn a_specific_bind_sees_its_address_and_the_wildcards_in_indexing_order() {
        let mut index = BindIndex::default();
        index.insert(PORT, ip("::"), sock(1));
        index.insert(PORT, ip("10.0.0.2"), sock(2));
        index.insert(PORT, ip("10.0.0.1"), sock(3));
        index.insert(PORT, ip("0.0.0.0"), sock(4));
        index.insert((0, Proto::Udp, 80), ip("10.0.0.1"), sock(5));
        index.insert((1, Proto::Tcp, 80), ip("10.0.0.1"), sock(6));
        assert_eq!(
            candidates(&index, PORT, "10.0.0.1"),
            vec![sock(1), sock(3), sock(4)]
        );
        assert_eq!(candidates(&index, PORT, "10.0.0.9"), vec![sock(1), sock(4)]);
    }

    #[test]
    fn ipv6_holders_of_other_addresses_are_passed_over() {
        let mut index = BindIndex::default();
        index.insert(PORT, ip("fe80::1"), sock(1));
        index.insert(PORT, ip("fe80::2"), sock(2));
        index.insert(PORT, ip("10.0.0.1"), sock(3));
        assert_eq!(candidates(&index, PORT, "fe80::2"), vec![sock(2)]);
        assert_eq!(
            candidates(&index, PORT, "::ffff:10.0.0.1"),
            Vec::<SockId>::new()
        );
    }

    #[test]
    fn a_wildcard_bind_sees_every_holder_of_the_port() {
        let mut index = BindIndex::default();
        index.insert(PORT, ip("10.0.0.2"), sock(1));
        index.insert(PORT, ip("10.0.0.1"), sock(2));
        assert_eq!(candidates(&index, PORT, "0.0.0.0"), vec![sock(1), sock(2)]);
        assert_eq!(candidates(&index, PORT, "::"), vec![sock(1), sock(2)]);
    }

    #[test]
    fn removal_leaves_the_other_holders_in_order() {
        let mut index = BindIndex::default();
        index.insert(PORT, ip("0.0.0.0"), sock(1));
        index.insert(PORT, ip("10.0.0.1"), sock(2));
        index.insert(PORT, ip("10.0.0.1"), sock(3));
        index.remove(PORT, sock(2));
        assert_eq!(candidates(&index, PORT, "10.0.0.1"), vec![sock(1), sock(3)]);
        index.remove(PORT, sock(1));
        index.remove(PORT, sock(3));
        assert!(index.snapshot().is_empty());
    }
}
