//! The HTML rendering: one self-contained page (style, script and data inline, nothing fetched)
//! with a time-space diagram of the reconstructed order, the findings linked to the calls they
//! cite, the configuration and the statistics.
//!
//! The page shows the same [`Report`] as the JSON rendering (embedded as JSON in the page) plus
//! the [`Diagram`], built from the steps [`StepCapture`] collected during the replay.
//! [`layout`] draws the diagram as SVG, `page` writes the document, [`escape`] keeps every
//! text from a trace or config text.

mod arrows;
pub mod capture;
pub mod diagram;
pub mod escape;
mod lanes;
pub mod layout;
mod page;
mod select;

pub use capture::{CallKind, Captured, StepCapture};
pub use diagram::Diagram;

use super::Report;

/// The page for `report`, with `diagram` drawn.
pub fn render(report: &Report, diagram: &Diagram) -> String {
    page::render(report, diagram)
}

/// The lowercase name of a call kind (CSS classes, JSON).
pub(crate) fn kind_name(kind: CallKind) -> &'static str {
    match kind {
        CallKind::Socket => "socket",
        CallKind::Bind => "bind",
        CallKind::Listen => "listen",
        CallKind::Connect => "connect",
        CallKind::Accept => "accept",
        CallKind::Send => "send",
        CallKind::Recv => "recv",
        CallKind::Shutdown => "shutdown",
        CallKind::Close => "close",
        CallKind::Other => "other",
    }
}
