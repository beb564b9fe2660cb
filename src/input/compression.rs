//! Compressed traces: `.gz` (gzip, several members allowed, as `gzip` concatenates them) and
//! `.zst` (zstd), decompressed as a stream while they are read.

use std::path::Path;

use super::{InputError, Stream};

/// How an input's bytes are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

impl Compression {
    /// What the file name says: a regular file is decompressed only when its name ends in
    /// `.gz` or `.zst`, so a file is never read as something its name does not claim.
    pub fn from_name(path: &Path) -> Compression {
        match path.extension().and_then(|e| e.to_str()) {
            Some("gz") => Compression::Gzip,
            Some("zst") => Compression::Zstd,
            _ => Compression::None,
        }
    }

    /// What the first bytes say; used for pipes and standard input, which have no name to go by.
    pub fn from_magic(head: &[u8]) -> Option<Compression> {
        if head.starts_with(&GZIP_MAGIC) {
            Some(Compression::Gzip)
        } else if head.starts_with(&ZSTD_MAGIC) {
            Some(Compression::Zstd)
        } else {
            None
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "uncompressed",
            Compression::Gzip => "gzip-compressed",
            Compression::Zstd => "zstd-compressed",
        }
    }

    pub fn suffix(self) -> &'static str {
        match self {
            Compression::None => "",
            Compression::Gzip => "gz",
            Compression::Zstd => "zst",
        }
    }

    /// Wraps `raw` in the decoder this compression needs.
    pub fn decode(self, raw: Stream, path: &Path) -> Result<Stream, InputError> {
        Ok(match self {
            Compression::None => raw,
            Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(raw)),
            Compression::Zstd => Box::new(
                zstd::stream::read::Decoder::new(raw).map_err(|e| InputError::io(path, &e))?,
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    const TEXT: &[u8] = b"1234 socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3\n";

    fn decoded(compression: Compression, bytes: Vec<u8>) -> Vec<u8> {
        let stream = compression
            .decode(Box::new(std::io::Cursor::new(bytes)), Path::new("t"))
            .expect("decoder");
        let mut out = Vec::new();
        let mut stream = stream;
        stream.read_to_end(&mut out).expect("decoded");
        out
    }

    #[test]
    fn gzip_members_are_read_one_after_another() {
        let mut bytes = Vec::new();
        for _ in 0..2 {
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            encoder.write_all(TEXT).expect("written");
            bytes.extend(encoder.finish().expect("finished"));
        }
        assert_eq!(Compression::from_magic(&bytes), Some(Compression::Gzip));
        assert_eq!(decoded(Compression::Gzip, bytes), [TEXT, TEXT].concat());
    }

    #[test]
    fn zstd_is_decoded() {
        let bytes = zstd::stream::encode_all(TEXT, 3).expect("encoded");
        assert_eq!(Compression::from_magic(&bytes), Some(Compression::Zstd));
        assert_eq!(decoded(Compression::Zstd, bytes), TEXT);
    }

    #[test]
    fn names_decide_for_files() {
        assert_eq!(
            Compression::from_name(Path::new("a.trace.gz")),
            Compression::Gzip
        );
        assert_eq!(
            Compression::from_name(Path::new("a.zst")),
            Compression::Zstd
        );
        assert_eq!(
            Compression::from_name(Path::new("a.trace")),
            Compression::None
        );
        assert_eq!(Compression::from_magic(TEXT), None);
    }
}
