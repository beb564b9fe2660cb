//! Shared by the HTML report tests: running the binary, and a trace pair whose payload and file
//! name try to inject markup.

#![allow(dead_code)] // each test file uses part of it

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The payload the hostile trace sends (and nobody receives, so a finding cites it).
pub const PAYLOAD_ATTACK: &str = "</script><img src=x onerror=alert(1)>";
/// The hostile trace's file name (and so the inferred host's name).
pub const FILE_ATTACK: &str = "<img src=x onerror=document.body.setAttribute('data-pwned',1)>";

pub fn netcheck(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_netcheck"))
        .args(args)
        .env_remove("NO_COLOR")
        .output()
        .expect("the netcheck binary runs")
}

/// A fresh directory under the target directory.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

/// Writes the HTML report of `args` (a config or traces) to `dir/NAME.html`.
pub fn html_report(dir: &Path, name: &str, args: &[&str]) -> PathBuf {
    let path = dir.join(format!("{name}.html"));
    let path_text = path.to_string_lossy().into_owned();
    let mut all = vec!["diagnose", "--format", "html", "-o", path_text.as_str()];
    all.extend_from_slice(args);
    let out = netcheck(&all);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    path
}

/// The lab's dropped-request traces, with the request replaced by [`PAYLOAD_ATTACK`] and the
/// client trace named [`FILE_ATTACK`]`.trace`. Returns (server trace, client trace).
pub fn hostile_traces(dir: &Path) -> (PathBuf, PathBuf) {
    let lab = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lab/tcp-data-dropped");
    let client = std::fs::read_to_string(lab.join("client.trace")).expect("lab client trace");
    let original = r#""dropped-request\n", 16, 0, NULL, 0) = 16"#;
    assert!(
        client.contains(original),
        "the lab trace still sends its request"
    );
    let n = PAYLOAD_ATTACK.len();
    let client = client.replace(
        original,
        &format!(r#""{PAYLOAD_ATTACK}", {n}, 0, NULL, 0) = {n}"#),
    );
    let server_path = dir.join("server.trace");
    std::fs::copy(lab.join("server.trace"), &server_path).expect("copy server trace");
    let client_path = dir.join(format!("{FILE_ATTACK}.trace"));
    std::fs::write(&client_path, client).expect("write client trace");
    (server_path, client_path)
}

/// The JSON the page embeds for scripts and other readers.
pub fn embedded_data(page: &str) -> serde_json::Value {
    let start_tag = r#"<script type="application/json" id="netcheck-data">"#;
    let start = page.find(start_tag).expect("the page embeds its data") + start_tag.len();
    let end = start
        + page[start..]
            .find("</script>")
            .expect("the data element ends");
    serde_json::from_str(&page[start..end]).expect("the embedded data is JSON")
}
