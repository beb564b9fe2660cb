//! Socket options the model reasons about, with Linux's defaults and Linux's quirks.
//!
//! Defaults are those of a stock Linux kernel (`/proc/sys/net`): TCP buffers start at the middle
//! value of `net.ipv4.tcp_wmem` / `tcp_rmem` (16384 / 131072), UDP buffers at
//! `net.core.wmem_default` / `rmem_default` (212992). socket(7): "the kernel doubles this value
//! (to allow space for bookkeeping overhead)" when SO_SNDBUF / SO_RCVBUF is set; the doubled
//! minimums are 4608 (send) and 2304 (receive).
//!
//! TCP buffers the program never sizes are auto-tuned by Linux up to the last value of
//! `tcp_wmem` / `tcp_rmem` (4 MiB / 6 MiB on a stock kernel); setting SO_SNDBUF / SO_RCVBUF turns
//! auto-tuning off. The capacity a TCP path really has is therefore [`Options::send_capacity`] +
//! [`Options::receive_capacity`], not the starting sizes.

use std::net::IpAddr;

use crate::parse::OptValue;

pub const TCP_SNDBUF_DEFAULT: u64 = 16_384;
pub const TCP_RCVBUF_DEFAULT: u64 = 131_072;
pub const TCP_SNDBUF_AUTOTUNE_MAX: u64 = 4_194_304;
pub const TCP_RCVBUF_AUTOTUNE_MAX: u64 = 6_291_456;
pub const UDP_SNDBUF_DEFAULT: u64 = 212_992;
pub const UDP_RCVBUF_DEFAULT: u64 = 212_992;
const SNDBUF_MIN: u64 = 4_608;
const RCVBUF_MIN: u64 = 2_304;

/// Whether O_NONBLOCK is on, and where it came from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Nonblock {
    pub on: bool,
    /// Copied from the listening socket by accept (BSD and Windows behaviour; Linux does not
    /// inherit it, so relying on it is a portability trap).
    pub inherited: bool,
    /// Set before the trace began (a socket adopted from an attached trace): no call showed the
    /// mode, so a would-block result is no evidence of a blocking socket.
    pub unknown: bool,
}

impl Nonblock {
    pub fn explicit(on: bool) -> Self {
        Nonblock {
            on,
            inherited: false,
            unknown: false,
        }
    }

    /// The mode of a socket opened before its trace began.
    pub fn unknown() -> Self {
        Nonblock {
            on: false,
            inherited: false,
            unknown: true,
        }
    }
}

/// The option values one socket carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub reuseaddr: bool,
    pub reuseport: bool,
    pub broadcast: bool,
    pub keepalive: bool,
    /// SO_LINGER: `Some(seconds)` when linger is on.
    pub linger: Option<i64>,
    pub sndbuf: u64,
    pub rcvbuf: u64,
    /// SO_SNDBUF / SO_RCVBUF were set (which disables TCP auto-tuning).
    pub sndbuf_set: bool,
    pub rcvbuf_set: bool,
    /// The sizes the program asked for with SO_SNDBUF / SO_RCVBUF, before Linux doubled them.
    pub sndbuf_requested: Option<u64>,
    pub rcvbuf_requested: Option<u64>,
    /// SO_RCVTIMEO / SO_SNDTIMEO in microseconds (0 = none).
    pub rcvtimeo_us: i64,
    pub sndtimeo_us: i64,
    pub v6only: bool,
    /// TCP_FASTOPEN_CONNECT: connect() may return 0 before the handshake (see `tcp/connect.rs`).
    pub fastopen_connect: bool,
    /// Multicast groups joined (IP_ADD_MEMBERSHIP / IPV6_JOIN_GROUP).
    pub memberships: Vec<IpAddr>,
}

impl Options {
    pub const fn for_tcp() -> Self {
        Options::with_buffers(TCP_SNDBUF_DEFAULT, TCP_RCVBUF_DEFAULT)
    }

    pub const fn for_udp() -> Self {
        Options::with_buffers(UDP_SNDBUF_DEFAULT, UDP_RCVBUF_DEFAULT)
    }

    const fn with_buffers(sndbuf: u64, rcvbuf: u64) -> Self {
        Options {
            reuseaddr: false,
            reuseport: false,
            broadcast: false,
            keepalive: false,
            linger: None,
            sndbuf,
            rcvbuf,
            sndbuf_set: false,
            rcvbuf_set: false,
            sndbuf_requested: None,
            rcvbuf_requested: None,
            rcvtimeo_us: 0,
            sndtimeo_us: 0,
            v6only: false,
            fastopen_connect: false,
            memberships: Vec::new(),
        }
    }
}

impl Options {
    /// Most bytes a TCP socket's send buffer can hold.
    pub fn send_capacity(&self) -> u64 {
        if self.sndbuf_set {
            self.sndbuf
        } else {
            TCP_SNDBUF_AUTOTUNE_MAX
        }
    }

    /// Most bytes a TCP socket's receive buffer can hold.
    pub fn receive_capacity(&self) -> u64 {
        if self.rcvbuf_set {
            self.rcvbuf
        } else {
            TCP_RCVBUF_AUTOTUNE_MAX
        }
    }
}

impl Options {
    /// Largest datagram the send buffer holds by the size the program asked for. Linux doubles
    /// SO_SNDBUF and sends a datagram larger than the buffer anyway (one at a time), but the
    /// BSDs refuse a datagram above SO_SNDBUF with EMSGSIZE: the requested size is the portable
    /// limit.
    pub fn datagram_send_limit(&self) -> u64 {
        self.sndbuf_requested.unwrap_or(self.sndbuf)
    }

    /// Largest datagram the receive buffer holds by the size the program asked for (Linux
    /// doubles SO_RCVBUF; other systems drop datagrams above the size set).
    pub fn datagram_receive_limit(&self) -> u64 {
        self.rcvbuf_requested.unwrap_or(self.rcvbuf)
    }
}

/// What a successful setsockopt did to the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptionEffect {
    Applied,
    /// A known option the model has no use for (TCP_NODELAY, IP_TOS...).
    Irrelevant,
    /// Not recognised: counted as unsupported.
    Unknown,
    /// IP_ADD_MEMBERSHIP of an address that is not a multicast group (Linux: EINVAL).
    NotMulticast(IpAddr),
}

fn int_of(value: &OptValue) -> Option<i64> {
    match value {
        OptValue::Int(v) => Some(*v),
        OptValue::Linger { onoff, .. } => Some(*onoff),
        _ => None,
    }
}

fn flag(value: &OptValue) -> bool {
    int_of(value).is_some_and(|v| v != 0)
}

fn doubled(value: &OptValue, minimum: u64) -> Option<u64> {
    let v = u64::try_from(int_of(value)?).ok()?;
    Some(v.saturating_mul(2).max(minimum))
}

fn requested(value: &OptValue) -> Option<u64> {
    u64::try_from(int_of(value)?).ok()
}

fn timeout_of(value: &OptValue) -> i64 {
    match value {
        OptValue::Timeout { micros } => *micros,
        other => int_of(other).unwrap_or(0),
    }
}

/// Applies a successful `setsockopt(level, name, value)`.
pub fn apply(options: &mut Options, level: &str, name: &str, value: &OptValue) -> OptionEffect {
    match (level, name) {
        ("SOL_SOCKET", "SO_REUSEADDR") => options.reuseaddr = flag(value),
        ("SOL_SOCKET", "SO_REUSEPORT") => options.reuseport = flag(value),
        ("SOL_SOCKET", "SO_BROADCAST") => options.broadcast = flag(value),
        ("SOL_SOCKET", "SO_KEEPALIVE") => options.keepalive = flag(value),
        ("SOL_SOCKET", "SO_LINGER") => {
            options.linger = match value {
                OptValue::Linger { onoff, linger } if *onoff != 0 => Some(*linger),
                _ => None,
            }
        }
        ("SOL_SOCKET", "SO_SNDBUF" | "SO_SNDBUFFORCE") => match doubled(value, SNDBUF_MIN) {
            Some(v) => {
                options.sndbuf = v;
                options.sndbuf_set = true;
                options.sndbuf_requested = requested(value);
            }
            None => return OptionEffect::Unknown,
        },
        ("SOL_SOCKET", "SO_RCVBUF" | "SO_RCVBUFFORCE") => match doubled(value, RCVBUF_MIN) {
            Some(v) => {
                options.rcvbuf = v;
                options.rcvbuf_set = true;
                options.rcvbuf_requested = requested(value);
            }
            None => return OptionEffect::Unknown,
        },
        ("SOL_SOCKET", "SO_RCVTIMEO" | "SO_RCVTIMEO_OLD" | "SO_RCVTIMEO_NEW") => {
            options.rcvtimeo_us = timeout_of(value)
        }
        ("SOL_SOCKET", "SO_SNDTIMEO" | "SO_SNDTIMEO_OLD" | "SO_SNDTIMEO_NEW") => {
            options.sndtimeo_us = timeout_of(value)
        }
        ("SOL_IPV6" | "IPPROTO_IPV6", "IPV6_V6ONLY") => options.v6only = flag(value),
        (
            "SOL_IP" | "IPPROTO_IP" | "SOL_IPV6" | "IPPROTO_IPV6",
            "IP_ADD_MEMBERSHIP" | "IPV6_ADD_MEMBERSHIP" | "IPV6_JOIN_GROUP" | "MCAST_JOIN_GROUP",
        ) => {
            let OptValue::Membership { group, .. } = value else {
                return OptionEffect::Unknown;
            };
            if !group.is_multicast() {
                return OptionEffect::NotMulticast(*group);
            }
            if !options.memberships.contains(group) {
                options.memberships.push(*group);
            }
        }
        (
            "SOL_IP" | "IPPROTO_IP" | "SOL_IPV6" | "IPPROTO_IPV6",
            "IP_DROP_MEMBERSHIP"
            | "IPV6_DROP_MEMBERSHIP"
            | "IPV6_LEAVE_GROUP"
            | "MCAST_LEAVE_GROUP",
        ) => {
            if let OptValue::Membership { group, .. } = value {
                options.memberships.retain(|g| g != group);
            }
        }
        ("SOL_TCP" | "IPPROTO_TCP", "TCP_FASTOPEN_CONNECT") => {
            options.fastopen_connect = flag(value)
        }
        ("SOL_TCP" | "IPPROTO_TCP", _)
        | ("SOL_IP" | "IPPROTO_IP", "IP_TOS" | "IP_TTL" | "IP_MULTICAST_TTL")
        | ("SOL_IP" | "IPPROTO_IP", "IP_MULTICAST_LOOP" | "IP_MULTICAST_IF" | "IP_RECVERR")
        | ("SOL_IP" | "IPPROTO_IP", "IP_PKTINFO" | "IP_MTU_DISCOVER")
        | ("SOL_IPV6" | "IPPROTO_IPV6", "IPV6_MULTICAST_HOPS" | "IPV6_RECVPKTINFO")
        | ("SOL_SOCKET", "SO_PRIORITY" | "SO_DONTROUTE" | "SO_DEBUG" | "SO_TIMESTAMP")
        | ("SOL_SOCKET", "SO_OOBINLINE" | "SO_MARK" | "SO_BINDTODEVICE" | "SO_PASSCRED")
        | ("SOL_SOCKET", "SO_RCVLOWAT" | "SO_SNDLOWAT" | "SO_ZEROCOPY" | "SO_TIMESTAMPNS") => {
            return OptionEffect::Irrelevant
        }
        _ => return OptionEffect::Unknown,
    }
    OptionEffect::Applied
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffer_sizes_are_doubled_like_linux() {
        let mut o = Options::for_tcp();
        assert_eq!(o.sndbuf, TCP_SNDBUF_DEFAULT);
        apply(&mut o, "SOL_SOCKET", "SO_SNDBUF", &OptValue::Int(10_000));
        assert_eq!(o.sndbuf, 20_000);
        apply(&mut o, "SOL_SOCKET", "SO_RCVBUF", &OptValue::Int(10));
        assert_eq!(o.rcvbuf, RCVBUF_MIN);
    }

    #[test]
    fn datagram_limits_are_the_requested_sizes() {
        let mut o = Options::for_udp();
        assert_eq!(o.datagram_send_limit(), UDP_SNDBUF_DEFAULT);
        apply(&mut o, "SOL_SOCKET", "SO_SNDBUF", &OptValue::Int(2048));
        assert_eq!(
            o.sndbuf, SNDBUF_MIN,
            "Linux doubles, then applies its minimum"
        );
        assert_eq!(o.datagram_send_limit(), 2048);
        apply(&mut o, "SOL_SOCKET", "SO_RCVBUF", &OptValue::Int(3000));
        assert_eq!(o.rcvbuf, 6000);
        assert_eq!(o.datagram_receive_limit(), 3000);
    }

    #[test]
    fn membership_of_a_unicast_address_is_refused() {
        let mut o = Options::for_udp();
        let group: IpAddr = "10.0.0.1".parse().unwrap();
        let effect = apply(
            &mut o,
            "SOL_IP",
            "IP_ADD_MEMBERSHIP",
            &OptValue::Membership {
                group,
                interface: None,
            },
        );
        assert_eq!(effect, OptionEffect::NotMulticast(group));
        assert!(o.memberships.is_empty());
    }

    #[test]
    fn unknown_options_are_reported_as_such() {
        let mut o = Options::for_udp();
        let effect = apply(&mut o, "SOL_SOCKET", "SO_WHATEVER", &OptValue::Int(1));
        assert_eq!(effect, OptionEffect::Unknown);
        let effect = apply(&mut o, "SOL_TCP", "TCP_NODELAY", &OptValue::Int(1));
        assert_eq!(effect, OptionEffect::Irrelevant);
    }
}
