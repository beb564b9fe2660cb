//! File-system checks done before any trace is read: is an input a config file or a trace, and
//! does each trace exist and open.

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::Path;

use super::commands::COMMANDS;

/// How much of a file is looked at to decide whether it is a config file.
const SNIFF_BYTES: u64 = 64 * 1024;

/// A config file is recognised by content: some line starts with a config command (`host`,
/// `trace`, `ip`, `nat`, `ignore`, any case) and no line looks like strace output.
pub fn looks_like_config(path: &Path) -> bool {
    let Ok(file) = File::open(path) else {
        return false;
    };
    let mut head = Vec::new();
    if file.take(SNIFF_BYTES).read_to_end(&mut head).is_err() {
        return false;
    }
    let text = String::from_utf8_lossy(&head);
    // A config has config commands and no system-call lines; looking past the first token means
    // a typo in the first command (`hots`) still reads as a config, and is reported as one.
    let mut commands = 0;
    for line in text.lines() {
        if looks_like_strace(line) {
            return false;
        }
        let token = line.split_whitespace().next().unwrap_or_default();
        if COMMANDS.contains(&token.to_ascii_lowercase().as_str()) {
            commands += 1;
        }
    }
    commands > 0
}

/// `name(args) = result`, an unfinished/resumed call, or strace's `+++` / `---` notes.
fn looks_like_strace(line: &str) -> bool {
    let line = line.trim_start();
    line.starts_with("+++")
        || line.starts_with("---")
        || (line.contains('(') && (line.contains(" = ") || line.contains("unfinished")))
        || line.contains("resumed>")
}

/// Checks that `path` names a readable trace: a file, or the prefix of a `strace -ff` set
/// (`out` for `out.1234`, `out.1235`...). The error text completes "trace 'X': ...".
pub fn check_trace(path: &Path) -> Result<(), String> {
    match fs::metadata(path) {
        Ok(meta) if meta.is_dir() => Err("is a directory, not a trace file".into()),
        Ok(_) => File::open(path)
            .map(drop)
            .map_err(|e| format!("cannot be read: {}", io_reason(&e))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if is_ff_prefix(path) {
                Ok(())
            } else {
                Err(format!(
                    "no such file, nor a -ff set {}.PID",
                    path.display()
                ))
            }
        }
        Err(e) => Err(format!("cannot be read: {}", io_reason(&e))),
    }
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

/// The OS reason without Rust's "(os error N)" suffix.
pub fn io_reason(error: &io::Error) -> String {
    let text = error.to_string();
    match text.find(" (os error") {
        Some(cut) => text[..cut].to_string(),
        None => text,
    }
}

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
        fs::write(dir.join("plain.trace"), "").unwrap();
        fs::write(dir.join("out.1234"), "").unwrap();
        fs::write(dir.join("other.x1"), "").unwrap();
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
