//! Socket addresses (`sockaddr_in`, `sockaddr_in6`, `sockaddr_un`, AF_UNSPEC, ...) and the `-y` /
//! `-yy` descriptor decorations (`3<TCP:[10.0.0.1:80->10.0.0.2:5000]>`).

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6};
use std::sync::Arc;

use super::error::{ParseError, Part, Result};
use super::strings;
use super::syscall::{Fd, FdInfo, SockAddr};
use super::value;

/// A `sockaddr` argument. `None` when strace printed no structure (NULL, a bare pointer after a
/// failure, or nothing).
pub fn sockaddr(text: &[u8]) -> Result<Option<SockAddr>> {
    let text = value::trim(text);
    if text.first() != Some(&b'{') {
        return Ok(None);
    }
    let items = value::struct_items(text).ok_or(ParseError::at(Part::SocketAddress, text))?;
    sockaddr_of_fields(
        text,
        items.map(|item| {
            let (key, val) = value::field(item);
            (item, key, val)
        }),
    )
}

/// A `sockaddr` from the fields of its structure (`text`): each as (item, key, value).
pub(super) fn sockaddr_of_fields<'a>(
    text: &'a [u8],
    fields: impl Iterator<Item = (&'a [u8], Option<&'a [u8]>, &'a [u8])>,
) -> Result<Option<SockAddr>> {
    let mut family: &[u8] = b"";
    let mut port: Option<u16> = None;
    let mut ip: Option<IpAddr> = None;
    let mut scope: u32 = 0;
    let mut flowinfo: u32 = 0;
    let mut path: Option<String> = None;
    let mut raw_data = false;
    for (item, key, val) in fields {
        match key {
            Some(b"sa_family" | b"sin_family" | b"sin6_family" | b"sun_family") => {
                family = family_name(val)
            }
            Some(b"sin_port" | b"sin6_port") => port = Some(port_of(val)?),
            Some(b"sin_addr") => ip = Some(IpAddr::V4(ipv4_of(val)?)),
            Some(b"sin6_addr") => ip = Some(IpAddr::V6(ipv6_of(val)?)),
            Some(b"sin6_flowinfo") => flowinfo = flowinfo_of(val),
            Some(b"sin6_scope_id") => scope = value::int(val).unwrap_or(0) as u32,
            Some(b"sun_path") => path = Some(unix_path(val)?),
            Some(b"sa_data") => raw_data = true,
            None if item.starts_with(b"inet_pton(") => ip = Some(IpAddr::V6(ipv6_of(item)?)),
            _ => {}
        }
    }
    let addr = match family {
        // The caller's buffer was shorter than the address: strace prints the raw bytes it got
        // (`sa_data="..."`), which cut the address short. Unknown, not unparseable.
        b"AF_INET" | b"AF_INET6" if ip.is_none() && raw_data => return Ok(None),
        b"AF_INET" | b"AF_INET6" => {
            let ip = ip.ok_or(ParseError::at(Part::SocketAddress, text))?;
            let port = port.ok_or(ParseError::at(Part::SocketAddress, text))?;
            match ip {
                IpAddr::V6(v6) => {
                    SockAddr::Inet(SocketAddr::V6(SocketAddrV6::new(v6, port, flowinfo, scope)))
                }
                IpAddr::V4(_) => SockAddr::Inet(SocketAddr::new(ip, port)),
            }
        }
        b"AF_UNIX" | b"AF_LOCAL" => SockAddr::Unix(path.unwrap_or_default()),
        b"AF_UNSPEC" => SockAddr::Unspec,
        other => SockAddr::Other(strings::text(other)),
    };
    Ok(Some(addr))
}

/// The family's name: `AF_INET`, or with `-X verbose` the name in the comment (`0x2 /* AF_INET
/// */`), or with `-X raw` the number alone (`0x2`), named here.
fn family_name(text: &[u8]) -> &[u8] {
    match value::symbol(text) {
        named if value::int(named).is_none() => named,
        number => match value::int(number) {
            Some(0) => b"AF_UNSPEC",
            Some(1) => b"AF_UNIX",
            Some(2) => b"AF_INET",
            Some(10) => b"AF_INET6",
            Some(16) => b"AF_NETLINK",
            Some(17) => b"AF_PACKET",
            _ => number,
        },
    }
}

/// The bytes of a quoted string: `-X raw` and `-X verbose` print ports and addresses as their
/// bytes in network order (`"\x1f\x40" /* htons(8000) */`).
fn raw_bytes<const N: usize>(text: &[u8]) -> Option<[u8; N]> {
    let q = strings::quoted(value::strip_comment(text))?;
    let mut bytes = Vec::new();
    strings::decode_into(q.raw, &mut bytes).ok()?;
    bytes.try_into().ok()
}

/// `htons(80)`, a bare number, or the two bytes in network order.
fn port_of(text: &[u8]) -> Result<u16> {
    if let Some(bytes) = raw_bytes::<2>(text) {
        return Ok(u16::from_be_bytes(bytes));
    }
    let inner = call_arg(text, b"htons(").unwrap_or(text);
    value::int(inner)
        .and_then(|p| u16::try_from(p).ok())
        .ok_or(ParseError::at(Part::SocketAddress, text))
}

/// `htonl(0)`, a number, or the four bytes in network order.
fn flowinfo_of(text: &[u8]) -> u32 {
    if let Some(bytes) = raw_bytes::<4>(text) {
        return u32::from_be_bytes(bytes);
    }
    value::int(call_arg(text, b"htonl(").unwrap_or(text)).map_or(0, |n| n as u32)
}

fn call_arg<'a>(text: &'a [u8], opening: &[u8]) -> Option<&'a [u8]> {
    text.strip_prefix(opening)?.strip_suffix(b")")
}

/// The first quoted string inside `text`, read as a `T` (an address). Addresses are plain text:
/// only a string with escapes is decoded into a buffer first.
fn first_string_as<T: std::str::FromStr>(text: &[u8]) -> Option<T> {
    let open = memchr::memchr(b'"', text)?;
    let end = strings::string_end(text, open)?;
    let raw = text.get(open + 1..end - 1)?;
    if memchr::memchr(b'\\', raw).is_none() {
        return std::str::from_utf8(raw).ok()?.parse().ok();
    }
    let mut bytes = Vec::new();
    strings::decode_into(raw, &mut bytes).ok()?;
    std::str::from_utf8(&bytes).ok()?.parse().ok()
}

/// `inet_addr("10.0.0.1")`, or its four bytes.
fn ipv4_of(text: &[u8]) -> Result<Ipv4Addr> {
    raw_bytes::<4>(text)
        .map(Ipv4Addr::from)
        .or_else(|| first_string_as(text))
        .ok_or(ParseError::at(Part::SocketAddress, text))
}

/// `inet_pton(AF_INET6, "::1", &sin6_addr)`, or its sixteen bytes.
fn ipv6_of(text: &[u8]) -> Result<Ipv6Addr> {
    raw_bytes::<16>(text)
        .map(Ipv6Addr::from)
        .or_else(|| first_string_as(text))
        .ok_or(ParseError::at(Part::SocketAddress, text))
}

/// `"/tmp/sock"`, abstract `@"name"`.
fn unix_path(text: &[u8]) -> Result<String> {
    let (prefix, quoted) = match text.strip_prefix(b"@") {
        Some(rest) => ("@", rest),
        None => ("", text),
    };
    let q = strings::quoted(quoted).ok_or(ParseError::at(Part::String, text))?;
    let mut bytes = Vec::new();
    strings::decode_into(q.raw, &mut bytes).map_err(|_| ParseError::at(Part::String, text))?;
    Ok(format!("{prefix}{}", String::from_utf8_lossy(&bytes)))
}

/// Decodes a `-y`/`-yy` decoration (`<TCP:[...]>`, `</path>`, `<pipe:[12]>`) of descriptor `fd`.
pub fn fd_info(fd: Fd, decoration: &[u8]) -> FdInfo {
    let inside = decoration
        .strip_prefix(b"<")
        .and_then(|d| d.strip_suffix(b">"))
        .unwrap_or(decoration);
    let mut info = FdInfo {
        fd,
        kind: Cow::Borrowed(""),
        local: None,
        peer: None,
        detail: None,
    };
    if inside.first() == Some(&b'/') {
        info.kind = Cow::Borrowed("file");
        // `-yy` adds the device: `/dev/null<char 1:3>`.
        let path_len = memchr::memchr(b'<', inside).unwrap_or(inside.len());
        info.detail = Some(shared_text(inside.get(..path_len).unwrap_or_default()));
        return info;
    }
    let Some(colon) = memchr::memchr(b':', inside) else {
        info.kind = kind_name(inside);
        return info;
    };
    info.kind = kind_name(inside.get(..colon).unwrap_or_default());
    let rest = inside.get(colon + 1..).unwrap_or_default();
    let body = rest
        .strip_prefix(b"[")
        .and_then(|r| r.strip_suffix(b"]"))
        .unwrap_or(rest);
    let (local, peer) = match value::find_pair(body, *b"->") {
        Some(arrow) => (body.get(..arrow).unwrap_or_default(), body.get(arrow + 2..)),
        None => (body, None),
    };
    info.local = socket_addr(local);
    info.peer = peer.and_then(socket_addr);
    if info.local.is_none() {
        info.detail = Some(shared_text(body));
    }
    info
}

/// The kind of a decoration, borrowed when it is one of the usual ones.
fn kind_name(bytes: &[u8]) -> Cow<'static, str> {
    const USUAL: [&str; 10] = [
        "TCP",
        "TCPv6",
        "UDP",
        "UDPv6",
        "UNIX",
        "UNIX-STREAM",
        "NETLINK",
        "socket",
        "pipe",
        "anon_inode",
    ];
    match USUAL.iter().find(|kind| kind.as_bytes() == bytes) {
        Some(kind) => Cow::Borrowed(kind),
        None => Cow::Owned(lossy(bytes)),
    }
}

fn socket_addr(text: &[u8]) -> Option<SocketAddr> {
    std::str::from_utf8(text).ok()?.parse().ok()
}

fn lossy(bytes: &[u8]) -> String {
    strings::text(bytes)
}

/// Text to share between the calls that repeat one decoration (one allocation when valid).
fn shared_text(bytes: &[u8]) -> Arc<str> {
    match std::str::from_utf8(bytes) {
        Ok(valid) => Arc::from(valid),
        Err(_) => Arc::from(String::from_utf8_lossy(bytes).as_ref()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(text: &str) -> Option<SockAddr> {
        sockaddr(text.as_bytes()).unwrap()
    }

    #[test]
    fn reads_ipv4() {
        assert_eq!(
            addr(r#"{sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("10.0.0.1")}"#),
            Some(SockAddr::Inet("10.0.0.1:80".parse().unwrap()))
        );
    }

    #[test]
    fn reads_ipv6_new_and_old_forms() {
        let new = r#"{sa_family=AF_INET6, sin6_port=htons(8080), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}"#;
        assert_eq!(
            addr(new),
            Some(SockAddr::Inet("[::1]:8080".parse().unwrap()))
        );
        let old = r#"{sa_family=AF_INET6, sin6_port=htons(53), sin6_flowinfo=0, sin6_addr=inet_pton("fe80::1"), sin6_scope_id=2}"#;
        let SockAddr::Inet(SocketAddr::V6(v6)) = addr(old).unwrap() else {
            panic!("not v6")
        };
        assert_eq!(v6.scope_id(), 2);
        assert_eq!(v6.port(), 53);
    }

    #[test]
    fn reads_raw_and_verbose_addresses() {
        // `-X verbose` (connect-refused--node--socat--Xverbose/client.trace:644).
        assert_eq!(
            addr(
                r#"{sa_family=0x2 /* AF_INET */, sin_port="\x1c\xe9" /* htons(7401) */, sin_addr="\x0a\x4d\x01\x0a" /* inet_addr("10.77.1.10") */}"#
            ),
            Some(SockAddr::Inet("10.77.1.10:7401".parse().unwrap()))
        );
        // `-X raw` (healthy-http--curl--nginx--Xraw/server.trace:285, 11842's bind of 5).
        assert_eq!(
            addr(r#"{sa_family=0x2, sin_port="\xc8\x0a", sin_addr="\x0a\x4d\x01\x15"}"#),
            Some(SockAddr::Inet("10.77.1.21:51210".parse().unwrap()))
        );
        assert_eq!(
            addr(
                r#"{sa_family=0xa, sin6_port="\x1f\x40", sin6_flowinfo="\x00\x00\x00\x00", sin6_addr="\xfd\x77\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x10", sin6_scope_id=0}"#
            ),
            Some(SockAddr::Inet("[fd77::10]:8000".parse().unwrap()))
        );
        assert_eq!(
            addr(r#"{sa_family=0x1, sun_path="/var/run/nscd/socket"}"#),
            Some(SockAddr::Unix("/var/run/nscd/socket".into()))
        );
    }

    #[test]
    fn an_address_cut_by_a_short_buffer_is_unknown_not_unparseable() {
        assert_eq!(
            addr(r#"{sa_family=AF_INET6, sa_data="\206b\0\0\0\0\375w\0\0\0\0\0\0"}"#),
            None
        );
    }

    #[test]
    fn reads_unix_unspec_and_others() {
        assert_eq!(
            addr(r#"{sa_family=AF_UNIX, sun_path="/run/x.sock"}"#),
            Some(SockAddr::Unix("/run/x.sock".into()))
        );
        assert_eq!(
            addr(r#"{sa_family=AF_UNIX, sun_path=@"abstract"}"#),
            Some(SockAddr::Unix("@abstract".into()))
        );
        assert_eq!(
            addr("{sa_family=AF_UNIX}"),
            Some(SockAddr::Unix(String::new()))
        );
        assert_eq!(
            addr(r#"{sa_family=AF_UNSPEC, sa_data="\0\0"}"#),
            Some(SockAddr::Unspec)
        );
        assert_eq!(
            addr("{sa_family=AF_NETLINK, nl_pid=0, nl_groups=00000000}"),
            Some(SockAddr::Other("AF_NETLINK".into()))
        );
        assert_eq!(addr("NULL"), None);
        assert_eq!(addr("0x7ffd1234"), None);
        assert!(sockaddr(b"{sa_family=AF_INET, sin_port=htons(x)}").is_err());
    }

    #[test]
    fn reads_fd_decorations() {
        let tcp = fd_info(3, b"<TCP:[10.0.0.1:80->10.0.0.2:5000]>");
        assert_eq!(tcp.kind, "TCP");
        assert_eq!(tcp.local, Some("10.0.0.1:80".parse().unwrap()));
        assert_eq!(tcp.peer, Some("10.0.0.2:5000".parse().unwrap()));
        let v6 = fd_info(4, b"<TCPv6:[[::1]:80->[::1]:5000]>");
        assert_eq!(v6.peer, Some("[::1]:5000".parse().unwrap()));
        let listening = fd_info(5, b"<TCP:[127.0.0.1:8000]>");
        assert_eq!((listening.local.is_some(), listening.peer), (true, None));
        let unix = fd_info(6, b"<UNIX-STREAM:[1234->5678]>");
        assert_eq!(
            (unix.kind.as_ref(), unix.detail.as_deref()),
            ("UNIX-STREAM", Some("1234->5678"))
        );
        let socket = fd_info(7, b"<socket:[1234]>");
        assert_eq!(socket.detail.as_deref(), Some("1234"));
        let file = fd_info(8, b"</dev/null<char 1:3>>");
        assert_eq!(
            (file.kind.as_ref(), file.detail.as_deref()),
            ("file", Some("/dev/null"))
        );
        assert_eq!(fd_info(9, b"<pipe:[123]>").kind, "pipe");
    }
}
