//! The JSON rendering: one document, keys in a fixed order (see `docs/report-schema.md`).

use super::Report;

/// The report as pretty-printed JSON, with a final newline.
pub fn render(report: &Report) -> String {
    let mut text = serde_json::to_string_pretty(report)
        .unwrap_or_else(|e| format!("{{\"error\": \"cannot serialise the report: {e}\"}}"));
    text.push('\n');
    text
}
