//! Reports: one renderer per format, all from the same [`Report`].

mod diff;
mod escape;
mod html;
mod json;
mod junit;
mod model;
mod ocsf;
mod prometheus;
mod sarif;
mod text;

pub use diff::{
    AuditDiff, ControlChange, DiffSide, FactChange, diff_facts, diff_reports, render_diff_json,
    render_diff_text,
};
pub use html::render_html;
pub use json::{render_json, report_schema};
pub use junit::render_junit;
pub use model::{FactGap, REPORT_SCHEMA_VERSION, Report, ReportProfile};
pub use ocsf::{OCSF_VERSION, render_ocsf};
pub use prometheus::render_prometheus;
pub use sarif::render_sarif;
pub use text::{TextOptions, render_text};
