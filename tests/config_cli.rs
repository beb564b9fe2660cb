//! `netcheck config` run as a program on small config files.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A fresh folder holding `server.trace` and `client.trace` (empty traces).
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("netcheck-cli-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    for file in ["server.trace", "client.trace"] {
        fs::write(dir.join(file), "1 close(3) = 0\n").unwrap();
    }
    dir
}

fn netcheck(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_netcheck"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_bad_config_exits_2_naming_every_bad_line() {
    let dir = scratch("bad");
    fs::write(
        dir.join("netcheck.conf"),
        "host server\n trace server.trace\n hots\n ip 10.0.0.1 # fine\n nat 10.0.0.5\n \
         trace missing.trace\n",
    )
    .unwrap();
    let out = netcheck(&dir, &["config", "netcheck.conf"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert_eq!(
        text(&out.stderr),
        "netcheck: netcheck.conf:3: unknown command 'hots' (expected host, trace, ip, nat or ignore)\n\
         netcheck.conf:5: 'nat' takes two addresses (PRIVATE[,PORT] PUBLIC[,PORT]), got 1\n\
         netcheck.conf:6: trace 'missing.trace': no such file, nor a -ff set missing.trace.PID\n"
    );
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_good_config_is_echoed_as_loadable_config_text() {
    let dir = scratch("good");
    fs::write(
        dir.join("netcheck.conf"),
        "ignore 8.8.8.8\nhost server\n trace server.trace web\n ip 10.0.0.2\n\
         host client\n trace client.trace\n ip 192.168.0.8\n nat 192.168.0.8 128.238.38.67\n",
    )
    .unwrap();
    let out = netcheck(&dir, &["config", "netcheck.conf"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let echo = text(&out.stdout);
    let expected_body = "\
ignore 8.8.8.8
host server
 trace server.trace web  # A
 ip 10.0.0.2
host client
 trace client.trace  # B
 ip 192.168.0.8
 nat 192.168.0.8 128.238.38.67
";
    assert!(echo.ends_with(expected_body), "{echo}");
    assert!(echo.starts_with("# netcheck configuration: 2 host(s), 2 trace(s)"));
    // The echo is itself a valid config.
    fs::write(dir.join("echo.conf"), &echo).unwrap();
    let again = netcheck(&dir, &["config", "echo.conf"]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    assert_eq!(text(&again.stdout), echo);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn infer_prints_one_host_per_trace() {
    let dir = scratch("infer");
    let out = netcheck(&dir, &["config", "--infer", "client.trace", "server.trace"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let printed = text(&out.stdout);
    assert!(
        printed.contains("host client\n trace client.trace  # A\n"),
        "{printed}"
    );
    assert!(
        printed.contains("host server\n trace server.trace  # B\n"),
        "{printed}"
    );
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn infer_refuses_a_config_file() {
    let dir = scratch("infer-config");
    fs::write(dir.join("netcheck.conf"), "host h\n trace server.trace\n").unwrap();
    let out = netcheck(&dir, &["config", "--infer", "netcheck.conf"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "netcheck: --infer reads traces, but the input is a config file (drop --infer to check \
         it)\n"
    );
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn one_host_mode_puts_all_traces_on_host0() {
    let dir = scratch("one-host");
    let out = netcheck(&dir, &["config", "--trace", "server.trace", "client.trace"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let printed = text(&out.stdout);
    assert!(
        printed.contains("host host0\n trace server.trace  # A\n trace client.trace  # B\n"),
        "{printed}"
    );
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn missing_traces_exit_2_and_are_all_named() {
    let dir = scratch("missing");
    fs::create_dir_all(dir.join("folder")).unwrap();
    let out = netcheck(&dir, &["config", "gone.trace", "folder"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "netcheck: gone.trace: no such file, nor a -ff set gone.trace.PID\n\
         folder: is a directory, not a trace file\n"
    );
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_typo_in_the_first_command_is_a_config_error_not_a_trace() {
    let dir = scratch("first-typo");
    fs::write(
        dir.join("netcheck.conf"),
        "hots server\n trace server.trace\n ip 10.0.0.1\n",
    )
    .unwrap();
    let out = netcheck(&dir, &["diagnose", "netcheck.conf"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("netcheck.conf:1: unknown command 'hots'"));
    fs::remove_dir_all(&dir).unwrap();
}
