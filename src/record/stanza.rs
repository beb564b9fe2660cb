//! The config stanza printed after a recording: `host`, `trace`, one `ip` per address.

use std::fmt::Write;
use std::net::IpAddr;
use std::path::Path;

/// A host block in the config format, ready to paste into `netcheck.conf`.
pub fn stanza(host: &str, trace: &Path, addresses: &[IpAddr]) -> String {
    let mut out = format!("host {host}\n trace {}\n", trace.display());
    for address in addresses {
        // Writing into a String cannot fail.
        let _ = writeln!(out, " ip {address}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_trace_then_each_address() {
        let addresses: Vec<IpAddr> = vec![
            "10.77.1.10".parse().expect("literal"),
            "fd77::10".parse().expect("literal"),
        ];
        assert_eq!(
            stanza("server", Path::new("server.trace"), &addresses),
            "host server\n trace server.trace\n ip 10.77.1.10\n ip fd77::10\n"
        );
    }

    #[test]
    fn host_without_addresses_has_no_ip_line() {
        assert_eq!(
            stanza("lonely", Path::new("dir/a.trace"), &[]),
            "host lonely\n trace dir/a.trace\n"
        );
    }
}
