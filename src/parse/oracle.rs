//! What the reader may ask the fold stage about descriptors, so that calls on files are counted
//! without being read.

use super::syscall::Fd;

/// What the consumer of the events knows of descriptors at the point the parser has reached.
/// A call on a descriptor that cannot be a socket is dropped by the fold stage whatever its
/// arguments say, so the parser counts it without reading them.
pub trait SocketOracle {
    /// Can `fd` of process `pid` be a socket now? `decoration` is the text `-y` printed after
    /// the number (inside `<...>`), when it did.
    fn may_be_socket(&self, pid: u32, fd: Fd, decoration: Option<&[u8]>) -> bool;
}
