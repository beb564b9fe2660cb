//! Folding a trace reader lets it count calls on descriptors that are not sockets without
//! reading them. That must never change what the fold stage produces: on every recorded trace
//! the socket events and counters are the same as when every call is read in full.

use std::io::Write;
use std::path::{Path, PathBuf};

use netcheck::fold::{FoldStats, Folder, SocketEvent};
use netcheck::parse::{TraceEvent, TraceReader};
use netcheck::source::TraceId;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Every single trace file of the corpus: the parser's fixtures (each `-ff` member on its own
/// too) and every host of every lab scenario.
fn trace_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(fixtures().join("parse/traces")).unwrap() {
        files.push(entry.unwrap().path());
    }
    for scenario in std::fs::read_dir(fixtures().join("lab")).unwrap() {
        let scenario = scenario.unwrap().path();
        if !scenario.is_dir() {
            continue;
        }
        for entry in std::fs::read_dir(&scenario).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "trace") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// What folding one trace gave: its socket events and counters.
type Folded = (Vec<SocketEvent>, FoldStats);

/// Folds `path` both ways: through the reader (calls on other descriptors not read) and over
/// the fully read events; also how many calls the reader did not read.
fn fold_both(path: &Path) -> (Folded, Folded, u64) {
    let mut reader = TraceReader::open(path, TraceId(0)).unwrap();
    let mut folder = Folder::new(&mut reader, TraceId(0));
    let knowing: Vec<SocketEvent> = folder.by_ref().collect();
    let knowing_stats = folder.stats().clone();
    let not_read = reader.stats().calls_not_read;

    let events: Vec<TraceEvent> = TraceReader::open(path, TraceId(0)).unwrap().collect();
    let mut folder = Folder::new(events.into_iter(), TraceId(0));
    let full: Vec<SocketEvent> = folder.by_ref().collect();
    (
        (knowing, knowing_stats),
        (full, folder.stats().clone()),
        not_read,
    )
}

fn assert_same(path: &Path) -> u64 {
    let ((knowing, knowing_stats), (full, full_stats), not_read) = fold_both(path);
    let name = path.display();
    assert_eq!(knowing.len(), full.len(), "{name}: number of socket events");
    for (a, b) in knowing.iter().zip(&full) {
        assert_eq!(a, b, "{name}");
    }
    // The counters agree too (calls not read are calls on other descriptors).
    assert_eq!(
        serde_json::to_value(&knowing_stats).unwrap(),
        serde_json::to_value(&full_stats).unwrap(),
        "{name}"
    );
    not_read
}

#[test]
fn every_recorded_trace_folds_the_same_with_and_without_reading_every_call() {
    let files = trace_files();
    assert!(files.len() > 60, "{} trace files", files.len());
    let mut not_read = 0;
    for file in &files {
        not_read += assert_same(file);
    }
    // The shortcut is really taken on the corpus (most calls are on files).
    assert!(not_read > 1000, "{not_read} calls not read");
}

#[test]
fn descriptor_reuse_adoption_and_the_last_line_are_kept() {
    // fd 3 is a file, then a socket, then a file again; fd 7 is a socket known only from its
    // `-yy` decoration; the trace ends on a call that is not read, so the implied close of the
    // socket still open at the end is placed at that last line.
    let trace = "\
100 read(3</etc/hosts>, \"127.0.0.1 localhost\\n\", 4096) = 20
100 close(3</etc/hosts>) = 0
100 socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3
100 connect(3, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr(\"10.0.0.2\")}, 16) = 0
100 write(3, \"GET /\", 5) = 5
100 close(3) = 0
100 read(3, \"x\", 1) = 1
100 ioctl(5, TCGETS, 0x7ffd) = -1 ENOTTY (Inappropriate ioctl for device)
100 sendto(7<TCP:[10.0.0.1:4000->10.0.0.2:80]>, \"hi\", 2, 0, NULL, 0) = 2
100 read(4</etc/passwd>, \"root\", 4) = 4
";
    let dir = std::env::temp_dir().join(format!("netcheck-unread-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("reuse.strace");
    std::fs::File::create(&path)
        .unwrap()
        .write_all(trace.as_bytes())
        .unwrap();
    let not_read = assert_same(&path);
    // read, close (fd 3 a file), read after the close, ioctl on fd 5, the last read.
    assert_eq!(not_read, 5);
    let ((events, stats), _, _) = fold_both(&path);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(stats.sockets, 2, "{events:#?}");
    let last = events.last().unwrap();
    assert!(last.synthetic.is_some(), "{last:?}");
    assert_eq!(last.call.loc.line, 10);
}
