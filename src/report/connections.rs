//! `diagnose --connections FILE`: every TCP connection's record as one JSON object per line,
//! written as the replay finishes with each connection, so the file grows with the trace while
//! memory does not.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use crate::model::{ConnectionRecord, ConnectionSink};

/// A JSON Lines file of connection records. The first write error is kept and reported by
/// [`ConnectionsFile::finish`]; later records are dropped.
pub struct ConnectionsFile {
    out: BufWriter<File>,
    error: Option<io::Error>,
}

impl ConnectionsFile {
    pub fn create(path: &Path) -> io::Result<ConnectionsFile> {
        Ok(ConnectionsFile {
            out: BufWriter::new(File::create(path)?),
            error: None,
        })
    }

    /// Flushes the file; the first error met while writing, if any.
    pub fn finish(mut self) -> io::Result<()> {
        if let Some(error) = self.error.take() {
            return Err(error);
        }
        self.out.flush()
    }
}

impl ConnectionSink for ConnectionsFile {
    fn record(&mut self, record: &ConnectionRecord) {
        if self.error.is_some() {
            return;
        }
        let written = serde_json::to_writer(&mut self.out, record)
            .map_err(io::Error::from)
            .and_then(|()| self.out.write_all(b"\n"));
        if let Err(e) = written {
            self.error = Some(e);
        }
    }
}
