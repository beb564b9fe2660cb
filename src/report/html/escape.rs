//! Escaping: everything that comes from a trace or a config (payloads, paths, host names) is
//! text, never markup.

/// Escapes `text` for HTML element content and quoted attribute values.
pub fn html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Makes JSON text safe inside a `<script>` element: `<`, `>` and `&` become `\u` escapes (so
/// `</script>` and `<!--` never appear), as do U+2028 and U+2029 (line terminators to older
/// JavaScript parsers). In JSON these characters only occur inside strings, where the escapes
/// mean the same characters.
pub fn script_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ATTACK: &str = "</script><img src=x onerror=alert(1)>";

    #[test]
    fn html_text_has_no_markup_left() {
        let escaped = html(&format!("a\"b'c&{ATTACK}"));
        assert_eq!(
            escaped,
            "a&quot;b&#39;c&amp;&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"
        );
        assert!(!escaped.contains(['<', '>', '"', '\'']));
    }

    #[test]
    fn script_json_hides_tags_and_line_separators_but_keeps_the_value() {
        let value = serde_json::json!({ "call": format!("{ATTACK} \u{2028}\u{2029} <!-- &") });
        let json = serde_json::to_string(&value).unwrap();
        let safe = script_json(&json);
        assert!(
            !safe.contains(['<', '>', '&', '\u{2028}', '\u{2029}']),
            "{safe}"
        );
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back, value);
    }
}
