//! The model's live connections, by [`ConnId`]. A connection that ended cleanly is removed (its
//! figures go to the traffic summary first), so the table holds live state only, while ids stay
//! stable: sockets keep naming their connection by id, and ids grow in connect order, which is
//! the order the outcome lists connections in.

use std::collections::BTreeMap;

use super::{ConnId, Connection};

#[derive(Debug, Clone, Default)]
pub struct ConnTable {
    /// Boxed: a connection is large, and a B-tree filled in key order leaves its nodes half
    /// empty, which would double the memory of a million live connections held inline.
    live: BTreeMap<ConnId, Box<Connection>>,
    next: ConnId,
}

impl ConnTable {
    /// Adds a connection and returns its id (never reused).
    pub fn push(&mut self, conn: Connection) -> ConnId {
        let id = self.next;
        self.next += 1;
        self.live.insert(id, Box::new(conn));
        id
    }

    pub fn get(&self, id: ConnId) -> Option<&Connection> {
        self.live.get(&id).map(|c| &**c)
    }

    pub fn get_mut(&mut self, id: ConnId) -> Option<&mut Connection> {
        self.live.get_mut(&id).map(|c| &mut **c)
    }

    /// Takes a connection out of the table; later lookups of `id` find nothing.
    pub fn remove(&mut self, id: ConnId) -> Option<Connection> {
        self.live.remove(&id).map(|c| *c)
    }

    /// Connections still held.
    pub fn len(&self) -> usize {
        self.live.len()
    }

    pub fn is_empty(&self) -> bool {
        self.live.is_empty()
    }

    /// Connections ever created, held or not.
    pub fn created(&self) -> usize {
        self.next
    }

    /// The held connections in id order.
    pub fn iter(&self) -> impl Iterator<Item = (ConnId, &Connection)> {
        self.live.iter().map(|(id, c)| (*id, &**c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{Loc, SockId, TraceId};

    fn conn(n: u32) -> Connection {
        let sock = SockId {
            trace: TraceId(0),
            n,
        };
        Connection::new(sock, None, Loc::new(TraceId(0), u64::from(n)))
    }

    #[test]
    fn ids_stay_stable_when_a_connection_is_removed() {
        let mut table = ConnTable::default();
        let a = table.push(conn(1));
        let b = table.push(conn(2));
        assert!(table.remove(a).is_some());
        let c = table.push(conn(3));
        assert_ne!(c, a);
        assert!(table.get(a).is_none());
        assert_eq!(table.get(b).map(|c| c.record.connect_loc.line), Some(2));
        let order: Vec<ConnId> = table.iter().map(|(id, _)| id).collect();
        assert_eq!(order, vec![b, c]);
        assert_eq!((table.len(), table.created()), (2, 3));
    }
}
