//! Reports: one renderer per format, all from the same [`Report`].

mod json;
mod model;
mod text;

pub use json::{render_json, report_schema};
pub use model::{FactGap, REPORT_SCHEMA_VERSION, Report, ReportProfile};
pub use text::{TextOptions, render_text};
