//! Pointing at what matters in an evidence line, like rustc's diagnostics: a caret line under the
//! errno of a failed call, else under the address the finding talks about.

/// `(start, width)` in characters of the part of `call` to point at: the errno when the call
/// failed, else the first IP address named in `context` (the evidence note, the summary) that
/// the line shows.
pub fn focus(call: &str, context: &[&str]) -> Option<(usize, usize)> {
    errno(call).or_else(|| {
        context
            .iter()
            .flat_map(|text| addresses(text))
            .find_map(|ip| quoted(call, ip))
    })
}

/// The caret line for `call`, to print under it at the same indentation.
pub fn underline(call: &str, context: &[&str]) -> Option<String> {
    let (start, width) = focus(call, context)?;
    Some(format!("{}{}", " ".repeat(start), "^".repeat(width)))
}

fn char_span(text: &str, byte_start: usize, byte_len: usize) -> (usize, usize) {
    let start = text[..byte_start].chars().count();
    let width = text[byte_start..byte_start + byte_len].chars().count();
    (start, width)
}

/// The errno name after `= -1 `.
fn errno(call: &str) -> Option<(usize, usize)> {
    let marker = " = -1 ";
    let at = call.rfind(marker)? + marker.len();
    let len = call[at..]
        .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
        .unwrap_or(call.len() - at);
    (len > 1 && call[at..].starts_with('E')).then(|| char_span(call, at, len))
}

/// The IP addresses in `text` (IPv4 dotted quads and bracketed IPv6), ports left off.
fn addresses(text: &str) -> Vec<&str> {
    let mut found = Vec::new();
    for word in text.split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '(' | ')')) {
        let word = word.trim_end_matches(['.', ':']);
        let ip = match word.strip_prefix('[') {
            Some(rest) => rest.split(']').next().unwrap_or(""),
            None => word.split(':').next().unwrap_or(""),
        };
        let ip = if word.starts_with('[') || word.matches(':').count() <= 1 {
            ip
        } else {
            word
        };
        if ip.parse::<std::net::IpAddr>().is_ok() {
            found.push(ip);
        }
    }
    found
}

/// Where `call` shows `ip` as strace does, in quotes (`inet_addr("10.0.0.2")`).
fn quoted(call: &str, ip: &str) -> Option<(usize, usize)> {
    let at = call.find(&format!("\"{ip}\""))? + 1;
    Some(char_span(call, at, ip.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const REFUSED: &str = r#"connect(3, {sa_family=AF_INET, sin_port=htons(7401), sin_addr=inet_addr("10.77.1.10")}, 16) = -1 ECONNREFUSED (Connection refused) <0.000214>"#;

    #[test]
    fn a_failed_call_points_at_its_errno() {
        let line = underline(REFUSED, &["talks to 10.77.1.10:7401"]).unwrap();
        let start = REFUSED.find("ECONNREFUSED").unwrap();
        assert_eq!(line, format!("{}{}", " ".repeat(start), "^".repeat(12)));
    }

    #[test]
    fn otherwise_it_points_at_the_address_the_finding_names() {
        let accept = r#"accept4(5, {sa_family=AF_INET, sin_port=htons(49012), sin_addr=inet_addr("10.77.1.254")}, [16]) = 6"#;
        let (start, width) = focus(
            accept,
            &["talks to 10.77.1.254:49012, an address of no traced host"],
        )
        .unwrap();
        assert_eq!(&accept[start..start + width], "10.77.1.254");
        let v6 = r#"connect(3, {sa_family=AF_INET6, sin6_port=htons(80), inet_pton(AF_INET6, "fd77::10", &sin6_addr)}, 28) = 0"#;
        let (start, width) = focus(v6, &["connected to [fd77::10]:80"]).unwrap();
        assert_eq!(&v6[start..start + width], "fd77::10");
    }

    #[test]
    fn nothing_to_point_at_gives_no_line() {
        assert_eq!(underline("close(3) = 0", &["closed"]), None);
        assert_eq!(
            underline("sendto(3, \"x\", 1) = 1", &["to 10.0.0.9:80"]),
            None
        );
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let call = "write(3, \"é\") = -1 EPIPE";
        let line = underline(call, &[]).unwrap();
        assert_eq!(line.chars().count(), call.chars().count());
        assert!(line.ends_with("^^^^^"));
    }
}
