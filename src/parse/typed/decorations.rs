//! `-y` decorations met while reading descriptors, a small cache of the ones decoded lately, and
//! the per-trace state that reading a call's descriptors needs (epoll cookies).

use super::super::address::fd_info;
use super::super::error::{ParseError, Part, Result};
use super::super::syscall::{Fd, FdInfo};
use super::super::value;
use super::epoll_cookies::EpollCookies;

/// Collects `-y` decorations met while reading descriptors, with the state of the trace that
/// names descriptors indirectly (the cookies of its epoll sets).
pub struct Decorations<'v> {
    pub infos: &'v mut Vec<FdInfo>,
    pub recent: &'v mut RecentDecorations,
    pub epoll: &'v mut EpollCookies,
}

/// Decorations decoded lately and what they gave: calls on one descriptor repeat its decoration
/// (a file read in a loop, a socket's sends), and a server moves between a few descriptors (its
/// listener, the connection it serves, its poll set), so each is decoded once per stretch.
#[derive(Debug, Default)]
pub struct RecentDecorations {
    entries: Vec<(Vec<u8>, FdInfo)>,
    /// The entry to replace next (oldest first).
    next: usize,
}

/// Decorations kept by [`RecentDecorations`].
const RECENT_DECORATIONS: usize = 8;

impl RecentDecorations {
    fn decode(&mut self, fd: Fd, decoration: &[u8]) -> FdInfo {
        if let Some((_, info)) = self
            .entries
            .iter()
            .find(|(text, info)| info.fd == fd && text.as_slice() == decoration)
        {
            return info.clone();
        }
        let info = fd_info(fd, decoration);
        if self.entries.len() < RECENT_DECORATIONS {
            self.entries.push((decoration.to_vec(), info.clone()));
        } else if let Some(entry) = self.entries.get_mut(self.next) {
            entry.0.clear();
            entry.0.extend_from_slice(decoration);
            entry.1 = info.clone();
            self.next = (self.next + 1) % RECENT_DECORATIONS;
        }
        info
    }
}

impl Decorations<'_> {
    /// Reads a descriptor, recording its decoration if it has one.
    pub(super) fn fd(&mut self, text: &[u8]) -> Result<Fd> {
        // Fast path: a plain small descriptor, the common case.
        if let [digit @ b'0'..=b'9'] = text {
            return Ok(Fd::from(digit - b'0'));
        }
        if let [tens @ b'1'..=b'9', units @ b'0'..=b'9'] = text {
            return Ok(Fd::from(tens - b'0') * 10 + Fd::from(units - b'0'));
        }
        let (number, rest) = value::number_prefix(text);
        let fd = value::int(number)
            .and_then(|n| Fd::try_from(n).ok())
            .ok_or(ParseError::at(Part::Fd, text))?;
        if rest.first() == Some(&b'<') {
            self.note(fd, rest);
        }
        Ok(fd)
    }

    pub(super) fn note(&mut self, fd: Fd, decoration: &[u8]) {
        if !self.infos.iter().any(|i| i.fd == fd) {
            self.infos.push(self.recent.decode(fd, decoration));
        }
    }
}
