//! Groups of indices joined pairwise (traces of one host, hosts of one machine), each named by
//! its lowest index, so the result never depends on the order of the joins.

pub(crate) struct Groups {
    parent: Vec<usize>,
}

impl Groups {
    /// `n` indices, each in a group of its own.
    pub(crate) fn new(n: usize) -> Self {
        Groups {
            parent: (0..n).collect(),
        }
    }

    /// The lowest index of `i`'s group.
    pub(crate) fn root(&self, mut i: usize) -> usize {
        while let Some(&up) = self.parent.get(i).filter(|&&up| up != i) {
            i = up;
        }
        i
    }

    pub(crate) fn join(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.root(a), self.root(b));
        let (keep, merge) = (ra.min(rb), ra.max(rb));
        if let Some(slot) = self.parent.get_mut(merge) {
            *slot = keep;
        }
    }

    /// The group (lowest index) of every index, in order.
    pub(crate) fn roots(&self) -> Vec<usize> {
        (0..self.parent.len()).map(|i| self.root(i)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::Groups;

    #[test]
    fn joined_indices_share_their_lowest_index() {
        let mut groups = Groups::new(5);
        groups.join(3, 1);
        groups.join(4, 3);
        assert_eq!(groups.roots(), vec![0, 1, 2, 1, 1]);
        groups.join(2, 0);
        groups.join(1, 2);
        assert_eq!(groups.roots(), vec![0, 0, 0, 0, 0]);
    }
}
