//! Calls that move bytes: the send and receive families, their vector and message forms, and
//! sendfile/splice.

use super::super::error::{ParseError, Part, Result};
use super::super::strings;
use super::super::syscall::{
    Fd, MmsgEntry, MsgFlags, Outcome, Payload, SockAddr, Syscall, SyscallName,
};
use super::super::value::{self, trim};
use super::args::{count, Args};
use super::decorations::Decorations;
use super::sockets::sockaddr;
use super::val::Val;

use SyscallName as N;

/// send, sendto, write and pwrite64: one buffer; flags and destination where the call has them.
pub(super) fn send(name: SyscallName, a: &Args, d: &mut Decorations) -> Result<Syscall> {
    Ok(Syscall::Send {
        fd: d.fd(a.get(0)?)?,
        data: payload(a.get(1)?)?,
        flags: match name {
            N::Send | N::Sendto => msg_flags(a.get(3)?),
            _ => MsgFlags::default(),
        },
        dest: match name {
            N::Sendto => a.opt_val(4).map(sockaddr).transpose()?.flatten(),
            _ => None,
        },
        passed_fds: Vec::new(),
    })
}

/// A send or write moves at most the count it was given (its third argument). strace can print
/// another call's return value on a resumed line when threads exit around it (a `write` of 30
/// bytes resumed `= 231` in a multi-threaded exit): the byte count is cut to the count asked for.
pub(super) fn clamp_to_count(a: &Args, outcome: &mut Outcome) -> Result<()> {
    let Some(moved) = outcome.value.filter(|&v| v > 0) else {
        return Ok(());
    };
    let Some(asked) = a.opt(2).filter(|text| !text.is_empty()) else {
        return Ok(());
    };
    let asked = i64::try_from(count(asked)?).unwrap_or(i64::MAX);
    outcome.value = Some(moved.min(asked));
    Ok(())
}

/// recv, recvfrom, read and pread64: one buffer and its size; flags and source where the call
/// has them.
pub(super) fn recv(name: SyscallName, a: &Args, d: &mut Decorations) -> Result<Syscall> {
    Ok(Syscall::Recv {
        fd: d.fd(a.get(0)?)?,
        data: payload(a.get(1)?)?,
        buf_len: count(a.get(2)?)?,
        flags: match name {
            N::Recv | N::Recvfrom => msg_flags(a.get(3)?),
            _ => MsgFlags::default(),
        },
        src: match name {
            N::Recvfrom => a.opt_val(4).map(sockaddr).transpose()?.flatten(),
            _ => None,
        },
        truncated_datagram: None,
        passed_fds: Vec::new(),
    })
}

/// `writev(3, [{iov_base="ab", iov_len=2}], 1) = 2`.
pub(super) fn writev(a: &Args, d: &mut Decorations) -> Result<Syscall> {
    let (data, _) = iovecs(a.val(1)?)?;
    Ok(Syscall::Send {
        fd: d.fd(a.get(0)?)?,
        data,
        flags: MsgFlags::default(),
        dest: None,
        passed_fds: Vec::new(),
    })
}

/// `readv(3, [{iov_base="ab", iov_len=1024}], 1) = 2`.
pub(super) fn readv(a: &Args, d: &mut Decorations) -> Result<Syscall> {
    let (data, buf_len) = iovecs(a.val(1)?)?;
    Ok(Syscall::Recv {
        fd: d.fd(a.get(0)?)?,
        data,
        buf_len,
        flags: MsgFlags::default(),
        src: None,
        truncated_datagram: None,
        passed_fds: Vec::new(),
    })
}

/// `sendmsg(3, {msg_name=..., msg_iov=[...], ...}, 0) = 5`.
pub(super) fn sendmsg(a: &Args, d: &mut Decorations) -> Result<Syscall> {
    let fd = d.fd(a.get(0)?)?;
    let msg = msghdr(a.val(1)?, Some(d))?;
    Ok(Syscall::Send {
        fd,
        data: msg.data,
        flags: msg_flags(a.get(2)?),
        dest: msg.name,
        passed_fds: msg.passed_fds,
    })
}

/// `recvmsg(3, {msg_name=..., msg_iov=[...], msg_flags=...}, 0) = 5`.
pub(super) fn recvmsg(a: &Args, d: &mut Decorations) -> Result<Syscall> {
    let fd = d.fd(a.get(0)?)?;
    let msg = msghdr(a.val(1)?, Some(d))?;
    Ok(Syscall::Recv {
        fd,
        data: msg.data,
        buf_len: msg.buf_len,
        flags: msg_flags(a.get(2)?),
        src: msg.name,
        truncated_datagram: msg.truncated_datagram,
        passed_fds: msg.passed_fds,
    })
}

/// `sendmmsg` and `recvmmsg`: an array of messages.
pub(super) fn many(name: SyscallName, a: &Args, d: &mut Decorations) -> Result<Syscall> {
    let fd = d.fd(a.get(0)?)?;
    let msgs = mmsghdrs(a.val(1)?)?;
    let flags = msg_flags(a.get(3)?);
    Ok(if name == N::Sendmmsg {
        Syscall::SendMany { fd, msgs, flags }
    } else {
        Syscall::RecvMany { fd, msgs, flags }
    })
}

/// `sendfile(out, in, offset, count)` and `splice(in, off_in, out, off_out, count, flags)`.
pub(super) fn copy_file(name: SyscallName, a: &Args, d: &mut Decorations) -> Result<Syscall> {
    Ok(if name == N::Splice {
        Syscall::CopyFile {
            in_fd: d.fd(a.get(0)?)?,
            out_fd: d.fd(a.get(2)?)?,
            count: count(a.get(4)?)?,
        }
    } else {
        Syscall::CopyFile {
            out_fd: d.fd(a.get(0)?)?,
            in_fd: d.fd(a.get(1)?)?,
            count: count(a.get(3)?)?,
        }
    })
}

fn msg_flags(text: &[u8]) -> MsgFlags {
    let mut flags = MsgFlags::default();
    for flag in value::flags(text) {
        match flag {
            b"0" => {}
            b"MSG_PEEK" => flags.peek = true,
            b"MSG_TRUNC" => flags.trunc = true,
            b"MSG_DONTWAIT" => flags.dontwait = true,
            b"MSG_OOB" => flags.oob = true,
            b"MSG_NOSIGNAL" => flags.nosignal = true,
            b"MSG_MORE" => flags.more = true,
            b"MSG_WAITALL" => flags.waitall = true,
            b"MSG_ERRQUEUE" => flags.errqueue = true,
            b"MSG_FASTOPEN" => flags.fastopen = true,
            number => match value::int(number) {
                Some(bits) => add_numeric_msg_flags(&mut flags, bits),
                None => flags.other = true,
            },
        }
    }
    flags
}

/// `MSG_*` bits `-X raw` prints as a number (`0x4000`), Linux values.
fn add_numeric_msg_flags(flags: &mut MsgFlags, bits: i64) {
    let has = |bit: i64| bits & bit != 0;
    flags.oob |= has(0x1);
    flags.peek |= has(0x2);
    flags.trunc |= has(0x20);
    flags.dontwait |= has(0x40);
    flags.waitall |= has(0x100);
    flags.errqueue |= has(0x2000);
    flags.nosignal |= has(0x4000);
    flags.more |= has(0x8000);
    flags.fastopen |= has(0x2000_0000);
    const KNOWN: i64 = 0x1 | 0x2 | 0x20 | 0x40 | 0x100 | 0x2000 | 0x4000 | 0x8000 | 0x2000_0000;
    flags.other |= bits & !KNOWN != 0;
}

/// A buffer argument: a quoted string (decoded when first read), or NULL / a pointer (nothing shown).
fn payload(text: &[u8]) -> Result<Payload> {
    let mut data = Payload::default();
    append_payload(text, &mut data)?;
    Ok(data)
}

/// Appends a buffer argument's bytes to `data`. Once a part is truncated nothing after it is
/// known, so later parts are not appended.
fn append_payload(text: &[u8], data: &mut Payload) -> Result<()> {
    let text = trim(text);
    let Some(q) = strings::quoted(text) else {
        if text.first() == Some(&b'"') {
            return Err(ParseError::at(Part::String, text));
        }
        return Ok(());
    };
    if data.truncated {
        return Ok(());
    }
    data.push_quoted(q.raw);
    data.truncated = q.truncated;
    Ok(())
}

/// An iovec array (`[{iov_base="ab", iov_len=2}, ...]`, old form `[{"ab", 2}, ...]`): the bytes
/// shown and the sum of the buffer lengths.
fn iovecs(list: Val) -> Result<(Payload, u64)> {
    let mut data = Payload::default();
    let mut total: u64 = 0;
    let Some(items) = list.array_items() else {
        return Ok((data, 0));
    };
    for iov in items {
        if iov.text() == b"..." {
            data.truncated = true;
            continue;
        }
        let fields = iov
            .struct_items()
            .ok_or(ParseError::at(Part::Struct, iov.text()))?;
        for (position, item) in fields.enumerate() {
            match item.field() {
                (Some(b"iov_base"), base) => append_payload(base.text(), &mut data)?,
                (Some(b"iov_len"), len) => total = total.saturating_add(count(len.text())?),
                (None, base) if position == 0 => append_payload(base.text(), &mut data)?,
                (None, len) if position == 1 => total = total.saturating_add(count(len.text())?),
                _ => {}
            }
        }
    }
    Ok((data, total))
}

struct Msg {
    data: Payload,
    buf_len: u64,
    name: Option<SockAddr>,
    truncated_datagram: Option<bool>,
    passed_fds: Vec<Fd>,
}

/// A `msghdr` (`{msg_name=..., msg_iov=[...], msg_flags=...}`, old `msg_iov(1)=[...]`). With
/// `decorations`, the descriptors of its SCM_RIGHTS control messages are read too (their `-y`
/// decorations recorded): the messages of sendmmsg and recvmmsg are read for their bytes only.
fn msghdr(text: Val, decorations: Option<&mut Decorations>) -> Result<Msg> {
    let mut msg = Msg {
        data: Payload::default(),
        buf_len: 0,
        name: None,
        truncated_datagram: None,
        passed_fds: Vec::new(),
    };
    let mut decorations = decorations;
    let Some(fields) = text.struct_items() else {
        return Ok(msg);
    };
    for item in fields {
        match item.field() {
            (Some(b"msg_name"), name) => msg.name = sockaddr(name)?,
            (Some(b"msg_iov"), iov) => (msg.data, msg.buf_len) = iovecs(iov)?,
            (Some(b"msg_flags"), flags) => {
                msg.truncated_datagram = Some(msg_flags(flags.text()).trunc)
            }
            (Some(b"msg_control"), control) => {
                if let Some(d) = decorations.as_deref_mut() {
                    scm_rights(control, d, &mut msg.passed_fds)?;
                }
            }
            _ => {}
        }
    }
    Ok(msg)
}

/// The descriptors of the SCM_RIGHTS messages in a `msg_control` array
/// (`[{cmsg_len=20, cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS, cmsg_data=[5<TCP:[...]>]}]`),
/// appended to `fds` in order. Other control messages (credentials, timestamps) pass nothing.
fn scm_rights(control: Val, d: &mut Decorations, fds: &mut Vec<Fd>) -> Result<()> {
    let Some(messages) = control.array_items() else {
        return Ok(());
    };
    for message in messages {
        let Some(fields) = message.struct_items() else {
            continue;
        };
        let (mut level, mut kind) = (Val::Text(&[]), Val::Text(&[]));
        let mut data = Val::Text(&[]);
        for field in fields {
            match field.field() {
                (Some(b"cmsg_level"), value) => level = value,
                (Some(b"cmsg_type"), value) => kind = value,
                (Some(b"cmsg_data"), value) => data = value,
                _ => {}
            }
        }
        if !passes_rights(level.text(), kind.text()) {
            continue;
        }
        for fd in data.array_items().into_iter().flatten() {
            if fd.text() != b"..." {
                fds.push(d.fd(trim(fd.text()))?);
            }
        }
    }
    Ok(())
}

/// Whether a control message is SCM_RIGHTS: by name, by the name in the comment `-X verbose`
/// adds (`0x1 /* SCM_RIGHTS */`), or under `-X raw` by number: type 1 at level SOL_SOCKET (1)
/// (`<asm-generic/socket.h>`; the same number at another level is another message, as IP_TOS).
fn passes_rights(level: &[u8], kind: &[u8]) -> bool {
    match value::symbol(kind) {
        b"SCM_RIGHTS" => true,
        number => {
            let level = value::symbol(level);
            value::int(number) == Some(1)
                && (level == b"SOL_SOCKET" || value::int(level) == Some(1))
        }
    }
}

/// An `mmsghdr` array: `[{msg_hdr={...}, msg_len=5}, ...]`.
fn mmsghdrs(list: Val) -> Result<Vec<MmsgEntry>> {
    let mut entries = Vec::new();
    let Some(items) = list.array_items() else {
        return Ok(entries);
    };
    for item in items {
        if item.text() == b"..." {
            continue;
        }
        let mut entry = MmsgEntry {
            data: Payload::default(),
            addr: None,
            len: None,
        };
        let fields = item
            .struct_items()
            .ok_or(ParseError::at(Part::Struct, item.text()))?;
        for field in fields {
            match field.field() {
                (Some(b"msg_hdr"), hdr) => {
                    let msg = msghdr(hdr, None)?;
                    entry.data = msg.data;
                    entry.addr = msg.name;
                }
                (Some(b"msg_len"), len) => entry.len = Some(count(len.text())?),
                _ => {}
            }
        }
        entries.push(entry);
    }
    Ok(entries)
}
