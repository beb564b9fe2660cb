//! Descriptor tables: which process uses which table, which descriptor names which socket, and how
//! many descriptors still hold each socket open.

use std::collections::{BTreeMap, HashMap};

use crate::parse::Fd;

/// Index of a descriptor table. Threads (CLONE_FILES) share one; fork copies it.
pub type TableId = usize;

/// A socket slot: the socket's number within the trace.
pub type SockNo = u32;

#[derive(Debug, Clone, Copy)]
pub struct Slot {
    pub sock: SockNo,
    /// Closed on a successful execve.
    pub cloexec: bool,
}

#[derive(Debug, Default)]
struct Table {
    /// Ordered so that draining a table (exit, end of trace) is deterministic.
    fds: BTreeMap<Fd, Slot>,
    /// Processes/threads currently using this table.
    users: u32,
}

/// All descriptor tables of one trace.
#[derive(Debug, Default)]
pub struct Tables {
    tables: Vec<Table>,
    table_of_pid: HashMap<u32, TableId>,
    /// The last answer of [`Tables::table_of`]: runs of calls by one pid are the rule. Cleared
    /// whenever `table_of_pid` changes.
    recent: Option<(u32, TableId)>,
    /// Descriptors (over all live tables) naming each socket.
    refs: HashMap<SockNo, u32>,
    /// Last pid seen using each socket (for synthetic events).
    last_pid: HashMap<SockNo, u32>,
}

impl Tables {
    /// The table of `pid`, creating an empty one for a process seen for the first time (its
    /// creating clone may not be in the trace, or may not have returned yet).
    pub fn table_of(&mut self, pid: u32) -> TableId {
        if let Some((recent_pid, t)) = self.recent {
            if recent_pid == pid {
                return t;
            }
        }
        let t = match self.table_of_pid.get(&pid) {
            Some(&t) => t,
            None => {
                let t = self.new_table();
                self.tables[t].users = 1;
                self.table_of_pid.insert(pid, t);
                t
            }
        };
        self.recent = Some((pid, t));
        t
    }

    fn new_table(&mut self) -> TableId {
        self.tables.push(Table::default());
        self.tables.len() - 1
    }

    /// Does `fd` of `pid` name a socket now? (Unlike [`Tables::table_of`], creates nothing.)
    pub fn names_socket(&self, pid: u32, fd: Fd) -> bool {
        let table = match self.recent {
            Some((recent_pid, t)) if recent_pid == pid => Some(t),
            _ => self.table_of_pid.get(&pid).copied(),
        };
        table.is_some_and(|t| self.lookup(t, fd).is_some())
    }

    pub fn lookup(&self, table: TableId, fd: Fd) -> Option<SockNo> {
        self.tables.get(table)?.fds.get(&fd).map(|s| s.sock)
    }

    pub fn note_user(&mut self, sock: SockNo, pid: u32) {
        self.last_pid.insert(sock, pid);
    }

    pub fn last_user(&self, sock: SockNo) -> Option<u32> {
        self.last_pid.get(&sock).copied()
    }

    /// Maps `fd` to `sock`. Returns the socket whose last descriptor this replaced, if any.
    pub fn insert(&mut self, table: TableId, fd: Fd, slot: Slot) -> Option<SockNo> {
        let replaced = self.remove(table, fd);
        if let Some(t) = self.tables.get_mut(table) {
            t.fds.insert(fd, slot);
            *self.refs.entry(slot.sock).or_insert(0) += 1;
        }
        replaced
    }

    /// Unmaps `fd`. Returns the socket if that was its last descriptor.
    pub fn remove(&mut self, table: TableId, fd: Fd) -> Option<SockNo> {
        let slot = self.tables.get_mut(table)?.fds.remove(&fd)?;
        self.release(slot.sock)
    }

    fn release(&mut self, sock: SockNo) -> Option<SockNo> {
        let count = self.refs.get_mut(&sock)?;
        *count = count.saturating_sub(1);
        if *count == 0 {
            self.refs.remove(&sock);
            Some(sock)
        } else {
            None
        }
    }

    /// Unmaps every descriptor in `first..=last`; returns sockets that lost their last one.
    pub fn remove_range(&mut self, table: TableId, first: Fd, last: Fd) -> Vec<SockNo> {
        let Some(t) = self.tables.get(table) else {
            return Vec::new();
        };
        let fds: Vec<Fd> = t.fds.range(first..=last).map(|(fd, _)| *fd).collect();
        fds.into_iter()
            .filter_map(|fd| self.remove(table, fd))
            .collect()
    }

    /// Unmaps every close-on-exec descriptor (a successful execve).
    pub fn exec(&mut self, table: TableId) -> Vec<SockNo> {
        let Some(t) = self.tables.get(table) else {
            return Vec::new();
        };
        let fds: Vec<Fd> = t
            .fds
            .iter()
            .filter(|(_, s)| s.cloexec)
            .map(|(fd, _)| *fd)
            .collect();
        fds.into_iter()
            .filter_map(|fd| self.remove(table, fd))
            .collect()
    }

    /// `parent` created `child`. With `share` (CLONE_FILES) the child uses the parent's table;
    /// otherwise it gets a copy. A child already seen (its lines came before the clone returned)
    /// keeps the descriptors it opened itself.
    pub fn spawn(&mut self, parent: u32, child: u32, share: bool) {
        let parent_table = self.table_of(parent);
        self.recent = None;
        let existing = self.table_of_pid.get(&child).copied();
        if share {
            if let Some(own) = existing {
                if own == parent_table {
                    return;
                }
                self.detach_user(own);
                let moved: Vec<(Fd, Slot)> =
                    self.tables[own].fds.iter().map(|(f, s)| (*f, *s)).collect();
                for (fd, slot) in moved {
                    if let Some(t) = self.tables.get_mut(parent_table) {
                        t.fds.entry(fd).or_insert(slot);
                    }
                }
            }
            self.table_of_pid.insert(child, parent_table);
            if let Some(t) = self.tables.get_mut(parent_table) {
                t.users += 1;
            }
            return;
        }
        let child_table = match existing {
            Some(t) => t,
            None => {
                let t = self.new_table();
                self.tables[t].users = 1;
                self.table_of_pid.insert(child, t);
                t
            }
        };
        let inherited: Vec<(Fd, Slot)> = self.tables[parent_table]
            .fds
            .iter()
            .map(|(f, s)| (*f, *s))
            .collect();
        for (fd, slot) in inherited {
            let fresh = !self.tables[child_table].fds.contains_key(&fd);
            if fresh {
                self.tables[child_table].fds.insert(fd, slot);
                *self.refs.entry(slot.sock).or_insert(0) += 1;
            }
        }
    }

    fn detach_user(&mut self, table: TableId) {
        if let Some(t) = self.tables.get_mut(table) {
            t.users = t.users.saturating_sub(1);
        }
    }

    /// `pid` ended. When it was the table's last user, the table's descriptors are closed; the
    /// sockets that lost their last descriptor are returned.
    pub fn exit(&mut self, pid: u32) -> Vec<SockNo> {
        self.recent = None;
        let Some(table) = self.table_of_pid.remove(&pid) else {
            return Vec::new();
        };
        self.detach_user(table);
        if self.tables[table].users > 0 {
            return Vec::new();
        }
        self.drain(table)
    }

    fn drain(&mut self, table: TableId) -> Vec<SockNo> {
        let slots: Vec<Slot> = std::mem::take(&mut self.tables[table].fds)
            .into_values()
            .collect();
        slots
            .into_iter()
            .filter_map(|s| self.release(s.sock))
            .collect()
    }

    /// End of trace: every socket still open, in creation order.
    pub fn close_all(&mut self) -> Vec<SockNo> {
        let mut open: Vec<SockNo> = self.refs.keys().copied().collect();
        open.sort_unstable();
        self.refs.clear();
        for t in &mut self.tables {
            t.fds.clear();
        }
        open
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(sock: SockNo) -> Slot {
        Slot {
            sock,
            cloexec: false,
        }
    }

    #[test]
    fn a_socket_stays_open_until_its_last_descriptor_closes() {
        let mut t = Tables::default();
        let tab = t.table_of(1);
        t.insert(tab, 3, slot(0));
        t.insert(tab, 4, slot(0));
        assert_eq!(t.remove(tab, 3), None);
        assert_eq!(t.remove(tab, 4), Some(0));
    }

    #[test]
    fn fork_copies_the_table_and_threads_share_it() {
        let mut t = Tables::default();
        let parent = t.table_of(10);
        t.insert(parent, 3, slot(0));
        t.spawn(10, 11, false);
        t.spawn(10, 12, true);
        let child = t.table_of(11);
        assert_eq!(t.lookup(child, 3), Some(0));
        assert_eq!(t.remove(parent, 3), None, "the forked child still holds it");
        let thread = t.table_of(12);
        assert_eq!(
            t.lookup(thread, 3),
            None,
            "the thread sees the parent's close"
        );
        assert_eq!(t.exit(11), vec![0]);
    }

    #[test]
    fn a_shared_table_survives_until_its_last_thread_exits() {
        let mut t = Tables::default();
        let tab = t.table_of(1);
        t.insert(tab, 5, slot(2));
        t.spawn(1, 2, true);
        assert!(t.exit(1).is_empty());
        assert_eq!(t.exit(2), vec![2]);
    }

    #[test]
    fn a_child_seen_before_its_clone_returned_keeps_its_own_descriptors() {
        let mut t = Tables::default();
        let parent = t.table_of(1);
        t.insert(parent, 3, slot(0));
        let early = t.table_of(2);
        t.insert(early, 3, slot(1));
        t.spawn(1, 2, false);
        let child = t.table_of(2);
        assert_eq!(t.lookup(child, 3), Some(1));
    }

    #[test]
    fn exec_closes_only_cloexec_descriptors() {
        let mut t = Tables::default();
        let tab = t.table_of(1);
        t.insert(tab, 3, slot(0));
        t.insert(
            tab,
            4,
            Slot {
                sock: 1,
                cloexec: true,
            },
        );
        assert_eq!(t.exec(tab), vec![1]);
        assert_eq!(t.lookup(tab, 3), Some(0));
    }
}
