//! Getting the bytes of an input file, before any stage reads them: every config and trace is
//! opened here. The layer makes four kinds of input look like one plain, re-readable text file:
//!
//! - regular files, read in place;
//! - pipes, FIFOs, character devices and standard input (`-`), which can be read only once:
//!   their bytes are copied once into an unnamed temporary file that every later reader
//!   (inference, replay, evidence) reads again ([`spool`]);
//! - `.gz` and `.zst` files, decompressed while they are read ([`compression`]);
//! - anything that is not strace text or a config (binary data, an endless device, a log),
//!   refused from a bounded look at its head ([`sniff`]), never read to its end.
//!
//! Files are told apart by identity (device and inode), not by the spelling of their path.

pub mod compression;
pub mod sniff;
pub mod spool;

use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

pub use compression::Compression;
pub use sniff::{Content, Head};

/// The path that names standard input.
pub const STDIN: &str = "-";

/// Why an input cannot be used: the file as named in messages, and the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct InputError {
    pub path: String,
    pub reason: String,
}

impl InputError {
    fn io(path: &Path, error: &io::Error) -> InputError {
        InputError::refused(path, format!("cannot read: {}", io_reason(error)))
    }

    pub(crate) fn refused(path: &Path, reason: impl Into<String>) -> InputError {
        InputError {
            path: shown(path),
            reason: reason.into(),
        }
    }
}

/// A stream of an input's (decompressed) bytes.
pub type Stream = Box<dyn Read + Send>;

/// Opens `path` for one pass over its bytes. May be called again for another pass: a pipe or
/// device is read only the first time and served from its copy afterwards.
pub fn open(path: &Path) -> Result<Stream, InputError> {
    match kind(path)? {
        Kind::Regular => {
            let file = fs::File::open(path).map_err(|e| InputError::io(path, &e))?;
            let compression = Compression::from_name(path);
            compression.decode(Box::new(file), path)
        }
        Kind::OnceOnly => spool::open(path),
    }
}

/// The head of `path` (its first bytes, decompressed) and what they look like.
pub fn sniff(path: &Path) -> Result<Head, InputError> {
    let mut stream = open(path)?;
    let head = sniff::read_head(&mut stream).map_err(|e| InputError::io(path, &e))?;
    // A regular file whose name does not say it is compressed is read as it is; say so when
    // its bytes are compressed, rather than "not strace output" alone.
    if let Content::Other { .. } | Content::Binary = head.content {
        if let Some(found) = Compression::from_magic(&head.bytes) {
            return Err(InputError::refused(
                path,
                format!(
                    "not strace output ({} data); name it with a .{} suffix to have it read",
                    found.name(),
                    found.suffix()
                ),
            ));
        }
    }
    Ok(head)
}

/// Checks that `path` holds strace text: exists, is readable, is not empty, binary or some
/// other text. The error names the file and, for text, its first line.
pub fn check_trace(path: &Path) -> Result<(), InputError> {
    let head = sniff(path)?;
    match head.content {
        Content::Strace => Ok(()),
        Content::Empty => Err(InputError::refused(
            path,
            "empty trace (0 lines): strace wrote nothing there",
        )),
        Content::Binary => Err(InputError::refused(path, "not strace output (binary data)")),
        Content::Config => Err(InputError::refused(path, "is a config file, not a trace")),
        Content::CallSummary => Err(InputError::refused(path, sniff::CALL_SUMMARY_REFUSAL)),
        Content::Other { first_line } => Err(InputError::refused(
            path,
            format!("not strace output (first unparsed line: {first_line})"),
        )),
    }
}

/// The identity of a file (device, inode) after following links: two paths with the same
/// identity are the same file. `None` for standard input and paths that do not exist.
pub fn identity(path: &Path) -> Option<(u64, u64)> {
    if path.as_os_str() == STDIN {
        return None;
    }
    fs::metadata(path).ok().map(|meta| (meta.dev(), meta.ino()))
}

/// True when `path` can be read only once (a pipe, FIFO, device or standard input): such a
/// path names no folder that relative paths inside it could be resolved against.
pub fn is_once_only(path: &Path) -> bool {
    matches!(kind(path), Ok(Kind::OnceOnly))
}

/// True when `path` exists (or is standard input).
pub fn exists(path: &Path) -> bool {
    path.as_os_str() == STDIN || fs::metadata(path).is_ok()
}

enum Kind {
    Regular,
    OnceOnly,
}

fn kind(path: &Path) -> Result<Kind, InputError> {
    if path.as_os_str() == STDIN {
        return Ok(Kind::OnceOnly);
    }
    let meta = fs::metadata(path).map_err(|e| InputError::io(path, &e))?;
    let file_type = meta.file_type();
    if file_type.is_dir() {
        return Err(InputError::refused(path, "is a directory, not a file"));
    }
    let once = file_type.is_fifo() || file_type.is_char_device() || file_type.is_socket();
    Ok(if once { Kind::OnceOnly } else { Kind::Regular })
}

/// How a path is named in messages.
pub fn shown(path: &Path) -> String {
    if path.as_os_str() == STDIN {
        "standard input".into()
    } else {
        path.display().to_string()
    }
}

/// The OS reason without Rust's "(os error N)" suffix.
pub fn io_reason(error: &io::Error) -> String {
    let text = error.to_string();
    match text.find(" (os error") {
        Some(cut) => text[..cut].to_string(),
        None => text,
    }
}
