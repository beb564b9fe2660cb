//! Inputs that can be read only once (pipes, FIFOs, character devices, standard input): the
//! first open copies their decompressed bytes into an unnamed temporary file, and every open,
//! the first included, reads that copy. Process-substitution (`<(zcat a.gz)`), `/dev/stdin`
//! and a FIFO named in a config are so read exactly once, however many passes the run makes.
//!
//! The copy is refused before it grows when its head is neither strace text nor a config, so
//! an endless device is never read to its (absent) end.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::{Arc, Mutex};

use super::sniff::{read_head, Content};
use super::{identity, io_reason, shown, Compression, InputError, Stream, STDIN};

/// Which once-only input a copy is of.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Key {
    Stdin,
    File(u64, u64),
}

/// A copy, or why there is none (kept so a second open does not read a drained pipe).
type Copy = Result<Arc<File>, String>;

static COPIES: Mutex<Vec<(Key, Copy)>> = Mutex::new(Vec::new());

/// A stream over the copy of `path`, made on first use.
pub fn open(path: &Path) -> Result<Stream, InputError> {
    let key = if path.as_os_str() == STDIN {
        Key::Stdin
    } else {
        match identity(path) {
            Some((dev, ino)) => Key::File(dev, ino),
            None => return Err(InputError::refused(path, "cannot read: no such file")),
        }
    };
    let copy = {
        // A poisoned lock only means another thread panicked while copying; the list is
        // still whole, as entries are pushed after their copy is made.
        let mut copies = COPIES.lock().unwrap_or_else(|e| e.into_inner());
        match copies.iter().find(|(k, _)| *k == key) {
            Some((_, copy)) => copy.clone(),
            None => {
                let copy = make_copy(path).map(Arc::new);
                copies.push((key, copy.clone()));
                copy
            }
        }
    };
    match copy {
        Ok(file) => Ok(Box::new(CopyReader { file, offset: 0 })),
        Err(reason) => Err(InputError::refused(path, reason)),
    }
}

fn make_copy(path: &Path) -> Result<File, String> {
    let raw: Stream = if path.as_os_str() == STDIN {
        Box::new(io::stdin())
    } else {
        Box::new(File::open(path).map_err(|e| format!("cannot read: {}", io_reason(&e)))?)
    };
    let mut stream = decompressed(raw, path)?;
    let head = read_head(&mut stream).map_err(|e| format!("cannot read: {}", io_reason(&e)))?;
    match head.content {
        Content::Strace | Content::Config | Content::Empty => {}
        Content::Binary => return Err("not strace output (binary data)".into()),
        Content::CallSummary => return Err(super::sniff::CALL_SUMMARY_REFUSAL.into()),
        Content::Other { first_line } => {
            return Err(format!(
                "not strace output (first unparsed line: {first_line})"
            ))
        }
    }
    let mut copy = tempfile::tempfile().map_err(|e| {
        format!(
            "cannot keep a copy of {} for the analysis: {}",
            shown(path),
            io_reason(&e)
        )
    })?;
    let written = copy
        .write_all(&head.bytes)
        .and_then(|()| io::copy(&mut stream, &mut copy).map(drop));
    written.map_err(|e| format!("cannot read: {}", io_reason(&e)))?;
    Ok(copy)
}

/// Wraps `raw` in the decoder its first bytes call for.
fn decompressed(mut raw: Stream, path: &Path) -> Result<Stream, String> {
    let mut magic = Vec::with_capacity(4);
    (&mut raw)
        .take(4)
        .read_to_end(&mut magic)
        .map_err(|e| format!("cannot read: {}", io_reason(&e)))?;
    let compression = Compression::from_magic(&magic).unwrap_or(Compression::None);
    let whole: Stream = Box::new(io::Cursor::new(magic).chain(raw));
    compression.decode(whole, path).map_err(|e| e.to_string())
}

/// Reads a copy from its own offset, so passes never disturb each other.
struct CopyReader {
    file: Arc<File>,
    offset: u64,
}

impl Read for CopyReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read_at(buf, self.offset)?;
        self.offset += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::{Command, Stdio};

    #[test]
    fn a_fifo_is_read_once_and_served_to_every_pass() {
        let dir = tempfile::tempdir().expect("dir");
        let fifo = dir.path().join("trace.fifo");
        let made = Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo runs");
        assert!(made.success());
        let text = "1 socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3\n";
        let writer = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::write(fifo, text))
        };
        for _ in 0..3 {
            let mut read = String::new();
            open(&fifo)
                .expect("opens")
                .read_to_string(&mut read)
                .expect("reads");
            assert_eq!(read, text);
        }
        writer.join().expect("writer").expect("written");
    }

    #[test]
    fn an_endless_device_is_refused_without_reading_it_all() {
        let refused = open(Path::new("/dev/zero")).err().expect("refused");
        assert!(refused.to_string().contains("binary"), "{refused}");
        // A second open gives the same answer without touching the device again.
        assert!(open(Path::new("/dev/zero")).is_err());
    }

    #[test]
    fn a_compressed_pipe_is_decompressed_by_its_magic() {
        let gz = {
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            encoder.write_all(b"7 close(3) = 0\n").expect("written");
            encoder.finish().expect("finished")
        };
        let mut child = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("cat runs");
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(&gz).expect("fed");
        drop(stdin);
        let stdout = child.stdout.take().expect("stdout");
        let mut text = String::new();
        decompressed(Box::new(stdout), Path::new("pipe"))
            .expect("decoder")
            .read_to_string(&mut text)
            .expect("decoded");
        assert_eq!(text, "7 close(3) = 0\n");
        child.wait().expect("cat ends");
    }
}
