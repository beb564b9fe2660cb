//! The `data` cookies that epoll sets hand back, and the descriptors registered under them.
//!
//! `epoll_ctl(epfd, EPOLL_CTL_ADD, fd, {events=..., data=X})` stores `X` next to `fd`;
//! `epoll_wait` returns only `X`. Many programs store the descriptor there (Python's selectors,
//! libuv, libevent), but Go, nginx, lighttpd and postgres store a pointer to their own
//! connection record: a number that names no descriptor. The registrations of one trace map each
//! cookie back to its descriptor.

use std::collections::HashMap;

use super::super::syscall::Fd;
use super::super::value;
use super::val::Val;
use crate::int_hash::IntHashBuilder;

/// Registrations kept at most; a trace that outgrows them (descriptors closed without
/// `EPOLL_CTL_DEL` leave theirs behind) starts over, and later waits fall back to reading the
/// cookie as a descriptor until the program registers again.
const MAX_REGISTRATIONS: usize = 1 << 16;

/// The highest number read as a descriptor when a cookie has no registration (Linux's default
/// `nr_open` limit): larger values are pointers.
const MAX_PLAUSIBLE_FD: u64 = 1 << 20;

/// The parts of an event's `data` that name its descriptor (`{fd=...}`, `{u32=..., u64=...}`, or
/// a plain number), found in one pass over its fields.
#[derive(Debug, Clone, Copy)]
pub(super) struct EpollData<'a> {
    text: &'a [u8],
    fd: Option<&'a [u8]>,
    u64: Option<&'a [u8]>,
    u32: Option<&'a [u8]>,
}

impl<'a> EpollData<'a> {
    pub(super) fn of(data: Val<'a>) -> Self {
        let mut parts = EpollData {
            text: data.text(),
            fd: None,
            u64: None,
            u32: None,
        };
        for (key, value) in data.struct_items().into_iter().flatten().map(|i| i.field()) {
            // The first field of a name counts, as a lookup by name finds it.
            let slot = match key {
                Some(b"fd") => &mut parts.fd,
                Some(b"u64") => &mut parts.u64,
                Some(b"u32") => &mut parts.u32,
                _ => continue,
            };
            slot.get_or_insert(value.text());
        }
        parts
    }
}

/// Cookie → descriptor, per epoll descriptor, for one trace.
#[derive(Debug, Default)]
pub struct EpollCookies {
    /// (epoll descriptor, cookie) → the descriptor registered under it.
    registered: HashMap<(Fd, u64), Fd, IntHashBuilder>,
    /// (epoll descriptor, descriptor) → its cookie, so that a modification or deletion finds
    /// the entry to drop without a scan.
    cookie_of: HashMap<(Fd, Fd), u64, IntHashBuilder>,
}

impl EpollCookies {
    /// `fd` was added to (or modified in) the set `epfd` under the cookie printed as `data`.
    pub(super) fn register(&mut self, epfd: Fd, fd: Fd, data: &EpollData) {
        let Some(cookie) = cookie(data) else {
            return;
        };
        // A modification may change the cookie: the descriptor keeps only its latest one.
        self.forget(epfd, fd);
        if self.registered.len() >= MAX_REGISTRATIONS {
            self.registered.clear();
            self.cookie_of.clear();
        }
        if let Some(previous) = self.registered.insert((epfd, cookie), fd) {
            self.cookie_of.remove(&(epfd, previous));
        }
        self.cookie_of.insert((epfd, fd), cookie);
    }

    /// `fd` left the set `epfd`.
    pub(super) fn forget(&mut self, epfd: Fd, fd: Fd) {
        if let Some(cookie) = self.cookie_of.remove(&(epfd, fd)) {
            self.registered.remove(&(epfd, cookie));
        }
    }

    /// A new epoll set got the number `epfd`: registrations of an older set under that number
    /// are gone with it.
    pub(super) fn new_set(&mut self, epfd: Fd) {
        self.registered.retain(|&(set, _), _| set != epfd);
        self.cookie_of.retain(|&(set, _), _| set != epfd);
    }

    /// The descriptor behind an event's `data` in the set `epfd`: the one registered under it,
    /// else an `fd` member, else the cookie itself when it can be a descriptor. `None` for a
    /// cookie that names no known descriptor (a pointer whose registration was not traced).
    pub(super) fn resolve(&self, epfd: Fd, data: &EpollData) -> Option<Fd> {
        if let Some(fd) = data.fd {
            return value::int(value::strip_comment(fd)).and_then(|fd| Fd::try_from(fd).ok());
        }
        let cookie = cookie(data)?;
        if let Some(&fd) = self.registered.get(&(epfd, cookie)) {
            return Some(fd);
        }
        // Unregistered: the low 32 bits, where programs that store descriptors put them.
        let low = data
            .u32
            .and_then(|u32_text| value::int(value::strip_comment(u32_text)))
            .and_then(|n| u64::try_from(n).ok())
            .unwrap_or(cookie);
        (low <= MAX_PLAUSIBLE_FD)
            .then(|| Fd::try_from(low).ok())
            .flatten()
    }
}

/// The whole cookie of `data={u32=..., u64=...}` (its `u64`, else its `u32`), or of a plain
/// numeric `data`.
fn cookie(data: &EpollData) -> Option<u64> {
    let text = data.u64.or(data.u32).unwrap_or(data.text);
    // `-1` stored in a cookie prints as a wrapped unsigned value or a negative number: either
    // way the same 64 bits.
    value::int(value::strip_comment(text)).map(|n| n as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data_of(text: &[u8]) -> EpollData<'_> {
        EpollData::of(Val::Text(text))
    }

    #[test]
    fn resolves_pointer_cookies_to_their_registered_descriptor() {
        // Go's netpoller (firewall-drop--curl--go--record/server.trace) stores a pointer.
        let mut cookies = EpollCookies::default();
        let data = b"{u32=3747766088, u64=139676084232008}";
        assert_eq!(cookies.resolve(5, &data_of(data)), None);
        cookies.register(5, 3, &data_of(data));
        assert_eq!(cookies.resolve(5, &data_of(data)), Some(3));
        assert_eq!(cookies.resolve(6, &data_of(data)), None, "another set");
        cookies.forget(5, 3);
        assert_eq!(cookies.resolve(5, &data_of(data)), None);
    }

    #[test]
    fn a_modification_replaces_the_cookie() {
        let mut cookies = EpollCookies::default();
        cookies.register(8, 6, &data_of(b"{u32=34931552, u64=94420595966816}"));
        cookies.register(8, 6, &data_of(b"{u32=34931792, u64=94420595967056}"));
        assert_eq!(
            cookies.resolve(8, &data_of(b"{u32=34931792, u64=94420595967056}")),
            Some(6)
        );
        assert_eq!(
            cookies.resolve(8, &data_of(b"{u32=34931552, u64=94420595966816}")),
            None
        );
        cookies.new_set(8);
        assert_eq!(
            cookies.resolve(8, &data_of(b"{u32=34931792, u64=94420595967056}")),
            None
        );
    }

    #[test]
    fn unregistered_small_cookies_are_descriptors() {
        let cookies = EpollCookies::default();
        assert_eq!(cookies.resolve(3, &data_of(b"{u32=6, u64=6}")), Some(6));
        assert_eq!(cookies.resolve(3, &data_of(b"{fd=9}")), Some(9));
        assert_eq!(cookies.resolve(3, &data_of(b"7")), Some(7));
        // Python stores the descriptor in the low half, garbage in the high half.
        assert_eq!(
            cookies.resolve(3, &data_of(b"{u32=4, u64=140733193388036}")),
            Some(4)
        );
    }
}
