//! The HTML report in a real browser (headless Chromium): after the page's script ran, the DOM
//! has the lanes, arrows and findings linked to their calls, no console message, no element or
//! script injected from a trace; a screenshot is taken and the layout checked through element
//! positions. Skips when Chromium is absent, except under CI (`CI` set), where it fails.

mod html_support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use html_support::*;

const WINDOW: (u32, u32) = (1400, 900);
/// Longest one page may take to load, run and be captured.
const BROWSER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(45);

/// The Chromium binary, if this machine has one (`NETCHECK_CHROMIUM` overrides the search).
fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("NETCHECK_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let names = [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ];
    let dirs = std::env::var_os("PATH")?;
    std::env::split_paths(&dirs)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// Chromium, or `None` after saying the test is skipped; under CI (`CI` set) a missing
/// Chromium fails the test instead.
fn chromium_or_skip() -> Option<PathBuf> {
    let browser = chromium();
    if browser.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromium is required under CI (.ci/run installs it)"
        );
        eprintln!("SKIPPED: chromium not found; install it to run the browser tests");
    }
    browser
}

/// What the page reported about itself, and what the browser printed.
struct Rendered {
    fragment: String,
    summary: serde_json::Value,
    dom: String,
    console: Vec<String>,
    screenshot: PathBuf,
}

/// Loads `page` (with `fragment`) headless, dumping the DOM and taking a screenshot.
fn render(browser: &Path, page: &Path, fragment: &str) -> Rendered {
    let dir = page.with_extension("profile");
    let screenshot = page.with_extension("png");
    let dom_file = page.with_extension("dom");
    let log_file = page.with_extension("log");
    let file = |path: &Path| std::fs::File::create(path).expect("output file");
    let mut chromium = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--window-size={},{}", WINDOW.0, WINDOW.1))
        .arg(format!("--user-data-dir={}", dir.display()))
        .arg(format!("--screenshot={}", screenshot.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}{fragment}", page.display()))
        .stdout(file(&dom_file))
        .stderr(file(&log_file))
        .spawn()
        .expect("chromium runs");
    let deadline = Instant::now() + BROWSER_TIMEOUT;
    while chromium.try_wait().expect("chromium status").is_none() {
        if Instant::now() > deadline {
            let _ = chromium.kill();
            panic!(
                "chromium did not finish {} within {BROWSER_TIMEOUT:?}",
                page.display()
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let dom = std::fs::read_to_string(&dom_file).unwrap_or_default();
    let console = std::fs::read_to_string(&log_file)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_string)
        .collect();
    let start_tag = r#"<pre id="netcheck-summary" hidden="">"#;
    let summary = dom
        .find(start_tag)
        .map(|i| i + start_tag.len())
        .and_then(|start| Some((start, start + dom[start..].find("</pre>")?)))
        .map(|(start, end)| {
            let text = dom[start..end]
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&amp;", "&");
            serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)
        })
        .unwrap_or(serde_json::Value::Null);
    Rendered {
        fragment: fragment.to_string(),
        summary,
        dom,
        console,
        screenshot,
    }
}

/// Width and height from a PNG's header.
fn png_size(path: &Path) -> Option<(u32, u32)> {
    let bytes = std::fs::read(path).ok()?;
    if bytes.get(..8)? != b"\x89PNG\r\n\x1a\n" {
        return None;
    }
    let word = |at: usize| Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?));
    Some((word(16)?, word(20)?))
}

fn lab(scenario: &str) -> String {
    format!(
        "{}/tests/fixtures/lab/{scenario}/netcheck.conf",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn count(summary: &serde_json::Value, key: &str) -> u64 {
    summary[key].as_u64().unwrap_or(0)
}

fn arrows(summary: &serde_json::Value, kind: &str) -> u64 {
    summary["arrows"][kind].as_u64().unwrap_or(0)
}

/// Checks every page shares: script ran without error, lanes, steps, findings linked.
fn check_common(name: &str, r: &Rendered) {
    let s = &r.summary;
    assert!(s.is_object(), "{name}: the page's script wrote no summary");
    assert!(r.console.is_empty(), "{name}: console: {:?}", r.console);
    assert_eq!(s["errors"], serde_json::json!([]), "{name}");
    assert_eq!(count(s, "images"), 0, "{name}");
    assert_eq!(count(s, "scripts"), 2, "{name}");
    assert!(count(s, "lanes") >= 2, "{name}: {s}");
    assert!(count(s, "steps") > 0, "{name}: {s}");
    assert_eq!(s["findings"], s["findings_in_data"], "{name}");
    // Lanes left to right, findings beside the diagram, as laid out.
    let xs: Vec<i64> = s["lane_boxes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|b| b[0].as_i64())
        .collect();
    assert!(
        xs.windows(2).all(|w| w[1] - w[0] >= 250),
        "{name}: lanes at {xs:?}"
    );
    let findings_right =
        s["findings_box"][0].as_i64().unwrap_or(0) + s["findings_box"][2].as_i64().unwrap_or(0);
    let diagram_left = s["diagram_box"][0].as_i64().unwrap_or(0);
    assert!(findings_right <= diagram_left, "{name}: {s}");
    assert_eq!(png_size(&r.screenshot), Some(WINDOW), "{name}: screenshot");
    let opened_a_finding = r.fragment.starts_with("#finding-");
    if count(s, "findings") > 0 && opened_a_finding {
        // The URL named finding 0: it is selected, and its calls are highlighted.
        assert_eq!(s["selected"], 0, "{name}");
        assert!(count(s, "highlighted") >= 1, "{name}: {s}");
        assert!(s["linked"][0].as_u64().unwrap_or(0) >= 1, "{name}: {s}");
    }
}

#[test]
fn lab_reports_render_in_a_real_browser() {
    let Some(browser) = chromium_or_skip() else {
        return;
    };
    let started = Instant::now();
    let dir = scratch("html-browser");
    let (server, client) = hostile_traces(&dir);
    let mut pages: Vec<(&str, PathBuf)> = [
        "nat-undeclared",
        "udp-partial-loss",
        "healthy-http",
        "connect-refused",
    ]
    .iter()
    .map(|s| (*s, html_report(&dir, s, &[&lab(s)])))
    .collect();
    pages.push((
        "hostile",
        html_report(
            &dir,
            "hostile",
            &[server.to_str().unwrap(), client.to_str().unwrap()],
        ),
    ));
    // The filters, opened from the URL fragment.
    let find = |name: &str| {
        pages
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, p)| p.clone())
    };
    let (Some(nat), Some(http)) = (find("nat-undeclared"), find("healthy-http")) else {
        panic!("the lab pages were written");
    };
    let views = [
        ("nat-only-info", nat.clone(), "#classes=info"),
        ("nat-without-server", nat, "#hosts=1"),
        ("http-second-connection", http, "#conn=t1"),
    ];
    let jobs: Vec<(&str, PathBuf, &str)> = pages
        .iter()
        .map(|(name, page)| (*name, page.clone(), "#finding-0"))
        .chain(views.iter().map(|(name, page, fragment)| {
            let copy = page.with_file_name(format!("{name}.html"));
            std::fs::copy(page, &copy).expect("copy the page");
            (*name, copy, *fragment)
        }))
        .collect();
    let rendered: Vec<(&str, Rendered)> = std::thread::scope(|scope| {
        let handles: Vec<_> = jobs
            .iter()
            .map(|(name, page, fragment)| {
                let browser = &browser;
                scope.spawn(move || (*name, render(browser, page, fragment)))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("render thread"))
            .collect()
    });
    for (name, r) in &rendered {
        check_common(name, r);
        let s = &r.summary;
        match *name {
            "nat-undeclared" => {
                assert!(count(s, "deviations") >= 1, "{s}");
                assert!(
                    arrows(s, "lost") >= 1,
                    "the unaccepted connect ends in a cross: {s}"
                );
            }
            "udp-partial-loss" => {
                assert_eq!(arrows(s, "lost"), 7, "{s}");
                assert!(arrows(s, "datagram") >= 13, "{s}");
            }
            "healthy-http" => {
                assert_eq!(count(s, "findings"), 0);
                assert!(arrows(s, "connect") >= 1 && arrows(s, "data") >= 2, "{s}");
            }
            "connect-refused" => assert!(arrows(s, "refused") >= 1, "{s}"),
            "nat-only-info" => {
                assert_eq!(count(s, "findings"), 2);
                assert_eq!(count(s, "visible_findings"), 1, "{s}");
            }
            "nat-without-server" => {
                let hidden = count(s, "hidden_steps");
                assert!(hidden > 0 && hidden < count(s, "steps"), "{s}");
            }
            "http-second-connection" => {
                let dimmed = count(s, "dimmed_steps");
                assert!(dimmed > 0 && dimmed < count(s, "steps"), "{s}");
            }
            _ => {
                assert!(
                    !r.dom.contains(r#"data-pwned="1""#),
                    "a handler from a file name ran"
                );
                assert!(
                    !r.dom.contains("<img"),
                    "an element from a trace was created"
                );
                assert!(r.dom.contains(
                    PAYLOAD_ATTACK
                        .replace('<', "&lt;")
                        .replace('>', "&gt;")
                        .as_str()
                ));
            }
        }
    }
    let elapsed = started.elapsed();
    eprintln!("browser tests took {elapsed:.1?}");
    assert!(elapsed.as_secs() < 60, "browser tests took {elapsed:?}");
}

/// Every scenario of the lab's fault table (one recording per fault class; the matrix rows
/// repeat the same classes with other programs) renders with no console message, a summary
/// written by its own script, and its findings linked to their calls.
#[test]
fn every_lab_fault_class_renders_in_a_real_browser() {
    let Some(browser) = chromium_or_skip() else {
        return;
    };
    let lab_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lab");
    let mut names: Vec<String> = std::fs::read_dir(&lab_dir)
        .expect("lab corpus")
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| !n.contains("--") && lab_dir.join(n).join("netcheck.conf").is_file())
        .collect();
    names.sort();
    assert!(names.len() >= 30, "{names:?}");
    let dir = scratch("html-browser-all");
    let pages: Vec<(String, PathBuf)> = names
        .iter()
        .map(|n| (n.clone(), html_report(&dir, n, &[&lab(n)])))
        .collect();
    // Four browsers at a time: enough to use both cores while one loads.
    for batch in pages.chunks(4) {
        let rendered: Vec<(&str, Rendered)> = std::thread::scope(|scope| {
            let handles: Vec<_> = batch
                .iter()
                .map(|(name, page)| {
                    let browser = &browser;
                    scope.spawn(move || (name.as_str(), render(browser, page, "#finding-0")))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("render thread"))
                .collect()
        });
        for (name, r) in &rendered {
            let s = &r.summary;
            assert!(s.is_object(), "{name}: the page's script wrote no summary");
            assert!(r.console.is_empty(), "{name}: console: {:?}", r.console);
            assert_eq!(s["errors"], serde_json::json!([]), "{name}");
            assert_eq!(count(s, "images"), 0, "{name}");
            assert!(count(s, "steps") > 0, "{name}: {s}");
            assert_eq!(s["findings"], s["findings_in_data"], "{name}");
            if count(s, "findings") > 0 {
                assert!(s["linked"][0].as_u64().unwrap_or(0) >= 1, "{name}: {s}");
            }
        }
    }
}
