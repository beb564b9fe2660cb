//! `netcheck diagnose --format html`: the page is self-contained, embeds the same data as the
//! JSON report, and keeps everything from a trace as text.

mod html_support;

use html_support::*;

#[test]
fn the_page_embeds_the_json_report_and_the_diagram() {
    let dir = scratch("html-same-data");
    let conf = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/lab/udp-partial-loss/netcheck.conf"
    );
    let page = std::fs::read_to_string(html_report(&dir, "udp", &[conf])).unwrap();
    let json = netcheck(&["diagnose", "--format", "json", conf]);
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let data = embedded_data(&page);
    assert_eq!(data["report"], report);
    let diagram = &data["diagram"];
    assert_eq!(diagram["lanes"].as_array().map(Vec::len), Some(2));
    let arrows = diagram["arrows"].as_array().unwrap();
    let lost = arrows.iter().filter(|a| a["kind"] == "lost").count();
    let delivered = arrows.iter().filter(|a| a["kind"] == "datagram").count();
    // 7 of the client's 20 datagrams were lost; every lost one ends in a cross.
    assert_eq!(report["statistics"]["cited_udp"][0]["datagrams_lost"], 7);
    assert_eq!(lost, 7, "{arrows:?}");
    assert!(delivered >= 13);
}

#[test]
fn the_page_fetches_nothing_and_forbids_other_scripts() {
    let dir = scratch("html-self-contained");
    let conf = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/lab/nat-undeclared/netcheck.conf"
    );
    let page = std::fs::read_to_string(html_report(&dir, "nat", &[conf])).unwrap();
    for outside in [
        "src=",
        "href=",
        "@import",
        "url(http",
        "fetch(",
        "XMLHttpRequest",
    ] {
        assert!(!page.contains(outside), "the page refers to {outside}");
    }
    assert!(page.contains("default-src 'none'"));
    assert_eq!(page.matches("<script").count(), 2);
    assert!(page.contains("<svg"));
}

#[test]
fn payloads_and_file_names_from_traces_stay_text() {
    let dir = scratch("html-hostile");
    let (server, client) = hostile_traces(&dir);
    let page_path = html_report(
        &dir,
        "hostile",
        &[server.to_str().unwrap(), client.to_str().unwrap()],
    );
    let page = std::fs::read_to_string(page_path).unwrap();
    assert!(!page.contains("<img"), "an element was injected");
    assert_eq!(page.matches("<script").count(), 2);
    assert_eq!(page.matches("</script>").count(), 2);
    assert!(!page.contains('\u{2028}'));
    // The payload and the file name are shown, as text.
    assert!(page.contains("&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"));
    assert!(page
        .contains("&lt;img src=x onerror=document.body.setAttribute(&#39;data-pwned&#39;,1)&gt;"));
    let data = embedded_data(&page);
    let evidence = data["report"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["evidence"].as_array().unwrap())
        .map(|e| e["call"].as_str().unwrap_or(""))
        .collect::<Vec<_>>();
    assert!(
        evidence.iter().any(|call| call.contains(PAYLOAD_ATTACK)),
        "a finding cites the hostile send: {evidence:?}"
    );
}

#[test]
fn output_goes_to_stdout_when_piped_or_dash() {
    let conf = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/lab/connect-refused/netcheck.conf"
    );
    for args in [
        vec!["diagnose", "--format", "html", conf],
        vec!["diagnose", "--format", "html", "-o", "-", conf],
    ] {
        let out = netcheck(&args);
        assert_eq!(out.status.code(), Some(1));
        let page = String::from_utf8_lossy(&out.stdout);
        assert!(page.starts_with("<!DOCTYPE html>"), "{args:?}");
        assert!(page.trim_end().ends_with("</html>"));
    }
}

#[test]
fn on_a_terminal_the_page_goes_to_the_default_file() {
    // `script` gives the command a terminal as stdout (util-linux; skipped where missing).
    let has_script = std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_script {
        eprintln!("note: `script` missing; skipping the terminal test");
        return;
    }
    let dir = scratch("html-terminal");
    let conf = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/lab/connect-refused/netcheck.conf"
    );
    let command = format!(
        "'{}' diagnose --format html '{conf}'",
        env!("CARGO_BIN_EXE_netcheck")
    );
    let out = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(&dir)
        .output()
        .expect("script runs");
    assert_eq!(out.status.code(), Some(1));
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(shown.contains("wrote netcheck-report.html"), "{shown}");
    assert!(!shown.contains("<html"));
    let page = std::fs::read_to_string(dir.join("netcheck-report.html")).expect("default file");
    assert!(page.starts_with("<!DOCTYPE html>"));
}
