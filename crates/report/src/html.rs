//! HTML: one self-contained page that fetches nothing, for a person to read
//! and filter in a browser.

use crate::escape::escaped;
use crate::model::Report;
use std::cmp::Reverse;
use std::fmt::{self, Write};
use tractorsec_policy::{Finding, PerfLevel, Section, SectionSummary, Severity, Status};

/// Statuses in report order: the failing controls first.
const STATUS_ORDER: [Status; 5] = [
    Status::Fail,
    Status::Error,
    Status::Waived,
    Status::Pass,
    Status::NotApplicable,
];

/// Severities, worst first.
const SEVERITY_ORDER: [Severity; 5] = [
    Severity::Critical,
    Severity::High,
    Severity::Medium,
    Severity::Low,
    Severity::Info,
];

/// Forbids every fetch: only the inline style and script run.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; \
                   script-src 'unsafe-inline'; img-src data:";

const STYLE: &str = "\
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}\
h1{font-size:1.4em;margin:0 0 .4em}h2{font-size:1.15em;margin:1.2em 0 .5em}\
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:.1em 1em;margin:0}\
dl.meta dt{font-weight:600}dl.meta dd{margin:0}\
code{font:12px/1.3 ui-monospace,monospace;overflow-wrap:break-word}\
.posture{display:grid;grid-template-columns:max-content 1fr max-content;gap:.35em .8em;align-items:center}\
.bar{display:flex;height:1.3em;background:#eee;border-radius:3px;overflow:hidden}\
.bar span{color:#fff;font-size:11px;text-align:center;overflow:hidden;white-space:nowrap}\
.legend{font-size:12px;color:#555}\
.fail{background:#c62828}.error{background:#7b1fa2}.waived{background:#ef6c00}\
.pass{background:#2e7d32}.not_applicable{background:#9e9e9e}\
.badge{color:#fff;border-radius:3px;padding:0 .4em;font-size:12px;white-space:nowrap}\
.critical,.high{font-weight:700}\
form{display:flex;gap:1em;align-items:center;flex-wrap:wrap;margin-bottom:.6em}\
table{border-collapse:collapse;width:100%;table-layout:fixed}\
th:nth-child(-n+2){width:5.5em}th:nth-child(3){width:20%}th:nth-child(4){width:27%}th:nth-child(6){width:15%}\
th,td{border-bottom:1px solid #ddd;padding:.3em .4em;text-align:left;vertical-align:top;overflow-wrap:break-word}\
td dl{margin:0}td dt{color:#666;font-size:11px}td dd{margin:0 0 .2em}\
td ul{margin:0;padding-left:1em}.tag{font-size:11px;background:#e3e3e3;border-radius:3px;padding:0 .3em}\
[hidden]{display:none!important}";

/// Filters rows by the three selects; their state lives in `location.hash`.
const SCRIPT: &str = r##"(function(){
var keys=["section","severity","status"],sel={},rows=document.querySelectorAll("#controls tbody tr"),count=document.getElementById("count");
function apply(){var n=0,h=[];
keys.forEach(function(k){if(sel[k].value!=="all")h.push(k+"="+encodeURIComponent(sel[k].value));});
rows.forEach(function(r){var show=keys.every(function(k){return sel[k].value==="all"||r.dataset[k]===sel[k].value;});r.hidden=!show;if(show)n++;});
count.textContent=n+" of "+rows.length+" controls";
var hash=h.length?"#"+h.join("&"):"";
if(location.hash!==hash)history.replaceState(null,"",hash||location.pathname+location.search);}
function load(){var p=new URLSearchParams(location.hash.slice(1));
keys.forEach(function(k){var v=p.get(k)||"all";sel[k].value=v;if(sel[k].value!==v)sel[k].value="all";});
keys.forEach(function(k){sel[k].dispatchEvent(new Event("change"));});}
keys.forEach(function(k){sel[k]=document.getElementById("f-"+k);sel[k].addEventListener("change",apply);});
window.addEventListener("hashchange",load);load();})();"##;

/// A self-contained HTML page: posture bars per seed section, every control
/// (failing first) with observed vs expected and the fix, and filters by
/// section, severity and status kept in the URL fragment. It fetches nothing.
pub fn render_html(report: &Report) -> String {
    let mut out = String::with_capacity(16 * 1024 + 1024 * report.findings.len());
    // Writing into a String cannot fail.
    let _ = page(&mut out, report);
    out
}

fn page(out: &mut String, r: &Report) -> fmt::Result {
    let host = r.host.as_ref();
    let hostname = host
        .and_then(|h| h.hostname.as_deref())
        .unwrap_or("unknown host");
    write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\n\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n\
         <title>tractorsec audit: {name}</title>\n<style>{STYLE}</style></head>\n<body>\n\
         <header><h1>tractorsec audit of {name}</h1><dl class=\"meta\">",
        name = escaped(hostname),
    )?;
    if let Some(h) = host {
        let os = h.os_pretty_name.as_deref().or(h.os_id.as_deref());
        meta(out, "OS", os)?;
        meta(out, "Machine id", h.machine_id.as_deref())?;
    }
    meta(out, "Root", Some(&r.root))?;
    write!(
        out,
        "<dt>Collected</dt><dd>{} ({}, {})</dd>",
        escaped(&r.collected_at),
        if r.privileged {
            "as root"
        } else {
            "unprivileged"
        },
        if r.runtime { "live runtime" } else { "offline" }
    )?;
    meta(out, "Evaluated on", Some(&r.evaluated_on))?;
    meta(out, "Tool", Some(&format!("tractorsec {}", r.tool_version)))?;
    write!(
        out,
        "<dt>Profile</dt><dd>{} <code>{}</code>",
        escaped(&r.profile.name),
        escaped(&r.profile.hash)
    )?;
    for (name, value) in &r.profile.overrides {
        write!(out, " <code>{} = {}</code>", escaped(name), escaped(value))?;
    }
    let t = &r.summary.total;
    writeln!(
        out,
        "</dd><dt>Score</dt><dd><b>{:.1}%</b> — {}</dd></dl></header>",
        t.score,
        Legend(t)
    )?;
    posture(out, r)?;
    gaps(out, r)?;
    controls(out, r)?;
    write!(out, "<script>{SCRIPT}</script>\n</body></html>\n")
}

fn meta(out: &mut String, label: &str, value: Option<&str>) -> fmt::Result {
    match value {
        Some(v) => write!(out, "<dt>{label}</dt><dd>{}</dd>", escaped(v)),
        None => Ok(()),
    }
}

fn count(s: &SectionSummary, status: Status) -> usize {
    match status {
        Status::Pass => s.pass,
        Status::Fail => s.fail,
        Status::NotApplicable => s.not_applicable,
        Status::Error => s.error,
        Status::Waived => s.waived,
    }
}

/// "fail 3 · error 0 · …" in report order.
struct Legend<'a>(&'a SectionSummary);

impl fmt::Display for Legend<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, status) in STATUS_ORDER.into_iter().enumerate() {
            let sep = if i == 0 { "" } else { " · " };
            write!(f, "{sep}{} {}", status.as_str(), count(self.0, status))?;
        }
        Ok(())
    }
}

fn posture(out: &mut String, r: &Report) -> fmt::Result {
    out.push_str("<section id=\"posture\"><h2>Posture</h2><div class=\"posture\">\n");
    for (section, s) in &r.summary.sections {
        let total: usize = STATUS_ORDER.iter().map(|&st| count(s, st)).sum();
        write!(
            out,
            "<div>{}</div><div><div class=\"bar\" id=\"bar-{}\">",
            escaped(section.title()),
            section.as_str()
        )?;
        for status in STATUS_ORDER {
            let n = count(s, status);
            if n > 0 {
                write!(
                    out,
                    "<span class=\"{0}\" style=\"width:{1:.3}%\" title=\"{0} {2}\">{2}</span>",
                    status.as_str(),
                    100.0 * n as f64 / total as f64,
                    n
                )?;
            }
        }
        writeln!(
            out,
            "</div><div class=\"legend\">{}</div></div><div><b>{:.1}%</b></div>",
            Legend(s),
            s.score
        )?;
    }
    out.push_str("</div></section>\n");
    Ok(())
}

fn gaps(out: &mut String, r: &Report) -> fmt::Result {
    if r.fact_gaps.is_empty() {
        return Ok(());
    }
    out.push_str("<section id=\"gaps\"><h2>Partial snapshot: not collected</h2><ul>");
    for gap in &r.fact_gaps {
        write!(
            out,
            "<li><code>{}</code> {}</li>",
            escaped(&gap.source),
            escaped(&gap.error.to_string())
        )?;
    }
    out.push_str("</ul></section>\n");
    Ok(())
}

fn rank(status: Status) -> usize {
    STATUS_ORDER.iter().position(|&s| s == status).unwrap_or(0)
}

fn controls(out: &mut String, r: &Report) -> fmt::Result {
    let total = r.findings.len();
    out.push_str("<section id=\"controls\"><h2>Controls</h2><form id=\"filters\">");
    select(out, "section", Section::ALL.map(Section::as_str))?;
    select(out, "severity", SEVERITY_ORDER.map(Severity::as_str))?;
    select(out, "status", STATUS_ORDER.map(Status::as_str))?;
    write!(
        out,
        "<output id=\"count\">{total} of {total} controls</output></form>\n\
         <table><thead><tr><th>Status</th><th>Severity</th><th>Control</th>\
         <th>Observed vs expected</th><th>Fix</th><th>Evidence</th></tr></thead><tbody>\n"
    )?;
    let mut rows: Vec<&Finding> = r.findings.iter().collect();
    rows.sort_by_key(|f| (rank(f.status), Reverse(f.severity), f.id.as_str()));
    for f in rows {
        row(out, f)?;
    }
    out.push_str("</tbody></table></section>\n");
    Ok(())
}

fn select<const N: usize>(out: &mut String, key: &str, values: [&str; N]) -> fmt::Result {
    write!(
        out,
        "<label>{key} <select id=\"f-{key}\"><option value=\"all\">all</option>"
    )?;
    for v in values {
        write!(out, "<option value=\"{v}\">{v}</option>")?;
    }
    out.push_str("</select></label>");
    Ok(())
}

fn row(out: &mut String, f: &Finding) -> fmt::Result {
    let (section, severity, status) = (f.section.as_str(), f.severity.as_str(), f.status.as_str());
    write!(
        out,
        "<tr id=\"c-{id}\" data-section=\"{section}\" data-severity=\"{severity}\" \
         data-status=\"{status}\"><td><span class=\"badge {status}\">{status}</span></td>\
         <td class=\"{severity}\">{severity}</td><td><code>{id}</code><br>{}<br>\
         <span class=\"tag\">{section}</span></td><td><dl><dt>observed</dt><dd>{}</dd>\
         <dt>expected</dt><dd>{}</dd></dl></td><td>{}",
        escaped(&f.title),
        escaped(&f.observed),
        escaped(&f.expected),
        escaped(&f.fix),
        id = escaped(&f.id),
    )?;
    out.push_str(if f.fix_available {
        " <span class=\"tag\">auto-fix</span>"
    } else {
        " <span class=\"tag\">manual</span>"
    });
    if f.reboot_needed {
        out.push_str(" <span class=\"tag\">reboot needed</span>");
    }
    if f.perf.level != PerfLevel::None {
        write!(
            out,
            "<br><small>perf {:?}: {}</small>",
            f.perf.level,
            escaped(&f.perf.note)
        )?;
    }
    out.push_str("</td><td>");
    if !f.evidence.is_empty() {
        out.push_str("<ul>");
        for file in &f.evidence {
            write!(out, "<li><code>{}</code></li>", escaped(file))?;
        }
        out.push_str("</ul>");
    }
    if let Some(w) = &f.waiver {
        write!(
            out,
            "<p>waiver{}: {} (owner {}, until {})</p>",
            if w.expired { " (expired)" } else { "" },
            escaped(&w.reason),
            escaped(&w.owner),
            escaped(&w.expires)
        )?;
    }
    out.push_str("</td></tr>\n");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ReportProfile;
    use tractorsec_policy::{Findings, PerfImpact};

    fn finding(id: &str, severity: Severity, status: Status) -> Finding {
        Finding {
            id: id.into(),
            title: format!("title of {id}"),
            section: Section::Kernel,
            severity,
            status,
            observed: "seen".into(),
            expected: "wanted".into(),
            evidence: vec!["/etc/sysctl.conf".into()],
            perf: PerfImpact::default(),
            fix: "do it".into(),
            fix_available: true,
            reboot_needed: false,
            waiver: None,
        }
    }

    fn report(findings: Vec<Finding>) -> Report {
        let findings = Findings::new("test", "sha256:00", "2026-01-01", findings);
        Report {
            schema_version: 1,
            tool_version: "0.0.0".into(),
            host: None,
            root: "/".into(),
            collected_at: "2026-01-01T00:00:00Z".into(),
            privileged: true,
            runtime: true,
            profile: ReportProfile {
                name: findings.profile,
                hash: findings.profile_hash,
                overrides: Default::default(),
            },
            evaluated_on: findings.evaluated_on,
            summary: findings.summary,
            fact_gaps: Vec::new(),
            findings: findings.findings,
        }
    }

    #[test]
    fn report_text_is_escaped_in_text_and_attributes() {
        let mut f = finding("kernel.\"x\"&'y'", Severity::High, Status::Fail);
        f.observed = "<script>alert('a' & \"b\")</script>".into();
        let html = render_html(&report(vec![f]));
        assert!(!html.contains("<script>alert"));
        assert!(html.contains(
            "<dd>&lt;script&gt;alert(&#39;a&#39; &amp; &quot;b&quot;)&lt;/script&gt;</dd>"
        ));
        assert!(html.contains("<tr id=\"c-kernel.&quot;x&quot;&amp;&#39;y&#39;\" "));
    }

    #[test]
    fn orders_fail_first_then_severity_then_id() {
        let html = render_html(&report(vec![
            finding("kernel.a", Severity::Critical, Status::Pass),
            finding("kernel.b", Severity::Low, Status::Fail),
            finding("kernel.c", Severity::High, Status::NotApplicable),
            finding("kernel.e", Severity::High, Status::Fail),
            finding("kernel.d", Severity::High, Status::Fail),
            finding("kernel.f", Severity::Info, Status::Error),
        ]));
        let order: Vec<&str> = html
            .match_indices("<tr id=\"c-")
            .map(|(i, m)| {
                let rest = &html[i + m.len()..];
                &rest[..rest.find('"').unwrap_or(0)]
            })
            .collect();
        assert_eq!(
            order,
            [
                "kernel.d", "kernel.e", "kernel.b", "kernel.f", "kernel.a", "kernel.c"
            ]
        );
    }

    #[test]
    fn page_forbids_fetches() {
        let html = render_html(&report(vec![finding(
            "kernel.a",
            Severity::Low,
            Status::Fail,
        )]));
        assert!(html.contains(&format!(
            "<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">"
        )));
        assert!(CSP.starts_with("default-src 'none';"));
        assert!(!html.contains("src="));
        assert!(!html.contains("<link"));
        assert!(!html.contains("http://") && !html.contains("https://"));
    }

    #[test]
    fn same_report_gives_same_bytes() {
        let r = report(vec![
            finding("kernel.a", Severity::Low, Status::Fail),
            finding("kernel.b", Severity::Low, Status::Pass),
        ]);
        assert_eq!(render_html(&r), render_html(&r));
    }

    #[test]
    fn bars_show_each_section_proportions() {
        let html = render_html(&report(vec![
            finding("kernel.a", Severity::Low, Status::Fail),
            finding("kernel.b", Severity::Low, Status::Pass),
            finding("kernel.c", Severity::Low, Status::Pass),
            finding("kernel.d", Severity::Low, Status::Pass),
        ]));
        for section in Section::ALL {
            assert!(html.contains(&format!("id=\"bar-{}\"", section.as_str())));
        }
        assert!(
            html.contains("<span class=\"fail\" style=\"width:25.000%\" title=\"fail 1\">1</span>")
        );
        assert!(
            html.contains("<span class=\"pass\" style=\"width:75.000%\" title=\"pass 3\">3</span>")
        );
    }
}
