use crate::model::Report;

/// The report as pretty JSON with a trailing newline (deterministic: fields
/// in declaration order, maps sorted).
pub fn render_json(report: &Report) -> String {
    let mut s =
        serde_json::to_string_pretty(report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}

/// The JSON Schema of [`render_json`]'s output.
pub fn report_schema() -> String {
    let schema = schemars::schema_for!(Report);
    let mut s = serde_json::to_string_pretty(&schema).unwrap_or_default();
    s.push('\n');
    s
}
