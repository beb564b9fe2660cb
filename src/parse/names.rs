//! Fast lookup of recognised call names: most lines of a trace are calls netcheck ignores, so
//! the name test must cost next to nothing. Names are bucketed by length, then compared.

use std::sync::OnceLock;

use super::syscall::SyscallName;

/// Longest recognised name plus one.
const BUCKETS: usize = 16;

type Table = [Vec<(&'static [u8], SyscallName)>; BUCKETS];

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table: Table = Default::default();
        for &name in SyscallName::ALL {
            let text = name.as_str().as_bytes();
            if let Some(bucket) = table.get_mut(text.len()) {
                bucket.push((text, name));
            }
        }
        table
    })
}

/// The recognised call spelled `name`, if any (same answer as [`SyscallName::from_bytes`]).
pub fn lookup(name: &[u8]) -> Option<SyscallName> {
    table()
        .get(name.len())?
        .iter()
        .find(|(text, _)| *text == name)
        .map(|&(_, known)| known)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_the_declared_names() {
        for &name in SyscallName::ALL {
            assert_eq!(lookup(name.as_str().as_bytes()), Some(name));
            assert!(name.as_str().len() < BUCKETS);
        }
        assert_eq!(lookup(b"mmap"), None);
        assert_eq!(lookup(b""), None);
        assert_eq!(lookup(b"a_very_long_name_indeed"), None);
    }
}
