//! File-system checks done before any trace is read: is an input a config file or a trace, and
//! does each trace exist and open.

use std::fs;
use std::path::Path;

use crate::input::{self, Content};

/// A config file is recognised by content: some line starts with a config command (`host`,
/// `trace`, `ip`, `nat`, `ignore`, any case) and no line looks like strace output. Looking past
/// the first token means a typo in the first command (`hots`) still reads as a config, and is
/// reported as one.
pub fn looks_like_config(path: &Path) -> bool {
    input::sniff(path).is_ok_and(|head| head.content == Content::Config)
}

/// Checks that `path` names a readable trace: a file (or pipe, or `-`) holding strace text, or
/// the prefix of a `strace -ff` set (`out` for `out.1234`, `out.1235`...). The error text
/// completes "trace 'X': ...".
pub fn check_trace(path: &Path) -> Result<(), String> {
    if !input::exists(path) {
        return if is_ff_prefix(path) {
            Ok(())
        } else {
            Err(format!(
                "no such file, nor a -ff set {}.PID",
                path.display()
            ))
        };
    }
    if fs::metadata(path).is_ok_and(|meta| meta.is_dir()) {
        return Err("is a directory, not a trace file".into());
    }
    input::check_trace(path).map_err(|e| e.reason)
}

/// True when a sibling file named `<prefix>.<digits>` exists.
fn is_ff_prefix(path: &Path) -> bool {
    let Some(prefix) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let Ok(entries) = fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|entry| {
        entry.file_name().to_str().is_some_and(|name| {
            name.strip_prefix(prefix)
                .and_then(|rest| rest.strip_prefix('.'))
                .is_some_and(|pid| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
        })
    })
}

pub use crate::input::io_reason;

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("netcheck-paths-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn config_files_are_told_from_traces_by_their_lines() {
        let dir = scratch("sniff");
        let cases = [
            ("# comment\n\nHOST server\n", true),
            ("  ignore 10.0.0.1\n", true),
            ("trace a.trace\n", true),
            ("1234  socket(AF_INET, SOCK_STREAM, 0) = 3\n", false),
            ("socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3\n", false),
            ("[pid 12] connect(3, ...) = 0\n", false),
            ("", false),
            // A typo in the first command is still a config (and reported as an error).
            ("hots server\n trace s.trace\n ip 10.0.0.1\n", true),
            // A trace that happens to hold a config word is still a trace.
            ("host 1\n1234  close(3) = 0\n", false),
            ("12 read(3, \"x\", 1 <unfinished ...>\n", false),
        ];
        for (i, (text, expected)) in cases.iter().enumerate() {
            let path = dir.join(format!("f{i}"));
            fs::write(&path, text).unwrap();
            assert_eq!(looks_like_config(&path), *expected, "{text:?}");
        }
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn traces_may_be_files_or_ff_prefixes() {
        let dir = scratch("check");
        let line = "1 close(3) = 0\n";
        fs::write(dir.join("plain.trace"), line).unwrap();
        fs::write(dir.join("out.1234"), line).unwrap();
        fs::write(dir.join("other.x1"), line).unwrap();
        fs::write(dir.join("empty.trace"), "").unwrap();
        fs::write(dir.join("log.txt"), "GET / HTTP/1.1 200\n").unwrap();
        assert_eq!(
            check_trace(&dir.join("empty.trace")),
            Err("empty trace (0 lines): strace wrote nothing there".to_string())
        );
        assert_eq!(
            check_trace(&dir.join("log.txt")),
            Err("not strace output (first unparsed line: GET / HTTP/1.1 200)".to_string())
        );
        assert_eq!(check_trace(&dir.join("plain.trace")), Ok(()));
        assert_eq!(check_trace(&dir.join("out")), Ok(()));
        assert_eq!(
            check_trace(&dir),
            Err("is a directory, not a trace file".to_string())
        );
        let missing = dir.join("other");
        assert_eq!(
            check_trace(&missing),
            Err(format!(
                "no such file, nor a -ff set {}.PID",
                missing.display()
            ))
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
