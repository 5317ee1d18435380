use crate::model::Report;
use std::fmt::Write;
use tractorsec_policy::{Finding, Section, SectionSummary, Status};

/// How the text report is drawn.
#[derive(Debug, Clone, Copy, Default)]
pub struct TextOptions {
    /// ANSI colours (only on a TTY).
    pub color: bool,
    /// List passing and not-applicable controls too.
    pub verbose: bool,
}

struct Paint {
    on: bool,
}

impl Paint {
    fn wrap(&self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn status(&self, status: Status) -> String {
        let (code, word) = match status {
            Status::Pass => ("32", "PASS"),
            Status::Fail => ("1;31", "FAIL"),
            Status::Error => ("1;35", "ERROR"),
            Status::NotApplicable => ("2", "N/A"),
            Status::Waived => ("33", "WAIVED"),
        };
        self.wrap(code, &format!("{word:<6}"))
    }
}

fn bar(score: f64) -> String {
    let filled = ((score / 10.0).round() as usize).min(10);
    format!("[{}{}]", "#".repeat(filled), ".".repeat(10 - filled))
}

fn counts(s: &SectionSummary) -> String {
    format!(
        "pass {}  fail {}  error {}  n/a {}  waived {}",
        s.pass, s.fail, s.error, s.not_applicable, s.waived
    )
}

fn status_rank(status: Status) -> u8 {
    match status {
        Status::Fail => 0,
        Status::Error => 1,
        Status::Waived => 2,
        Status::Pass => 3,
        Status::NotApplicable => 4,
    }
}

/// A human report grouped by the four seed sections, failures first.
pub fn render_text(report: &Report, opts: TextOptions) -> String {
    let p = Paint { on: opts.color };
    let mut out = String::new();
    let host = report
        .host
        .as_ref()
        .and_then(|h| h.hostname.clone())
        .unwrap_or_else(|| "unknown host".into());
    let _ = writeln!(
        out,
        "{} {host} ({}) with profile {} [{}]",
        p.wrap("1", "tractorsec audit of"),
        report.root,
        report.profile.name,
        short_hash(&report.profile.hash)
    );
    let total = &report.summary.total;
    let _ = writeln!(
        out,
        "{} {:.1}%  {}  {}\n",
        p.wrap("1", "Score"),
        total.score,
        bar(total.score),
        counts(total)
    );
    for section in Section::ALL {
        let Some(summary) = report.summary.sections.get(&section) else {
            continue;
        };
        let _ = writeln!(
            out,
            "{}  {:.1}% {}  {}",
            p.wrap("1", section.title()),
            summary.score,
            bar(summary.score),
            counts(summary)
        );
        let mut shown: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| f.section == section)
            .filter(|f| {
                opts.verbose || matches!(f.status, Status::Fail | Status::Error | Status::Waived)
            })
            .collect();
        shown.sort_by_key(|f| (status_rank(f.status), std::cmp::Reverse(f.severity)));
        for f in shown {
            write_finding(&mut out, &p, f, opts.verbose);
        }
        out.push('\n');
    }
    if !report.fact_gaps.is_empty() {
        let _ = writeln!(out, "{}", p.wrap("1", "Partial snapshot: not collected"));
        for gap in &report.fact_gaps {
            let _ = writeln!(out, "  {:<18} {}", gap.source, gap.error);
        }
        out.push('\n');
    }
    out
}

fn write_finding(out: &mut String, p: &Paint, f: &Finding, verbose: bool) {
    let _ = writeln!(
        out,
        "  {} {:<8} {}  {}",
        p.status(f.status),
        f.severity.as_str(),
        f.id,
        f.title
    );
    let detailed = matches!(f.status, Status::Fail | Status::Error | Status::Waived);
    if !detailed && !verbose {
        return;
    }
    if !f.observed.is_empty() {
        let _ = writeln!(out, "         observed: {}", f.observed);
    }
    if detailed && !f.expected.is_empty() {
        let _ = writeln!(out, "         expected: {}", f.expected);
    }
    if let Some(w) = &f.waiver {
        let _ = writeln!(
            out,
            "         waiver:   {} (owner {}, until {})",
            w.reason, w.owner, w.expires
        );
    }
    if f.status == Status::Fail {
        let mut tags = Vec::new();
        if f.fix_available {
            tags.push("auto-fix");
        }
        if f.reboot_needed {
            tags.push("reboot");
        }
        let tags = if tags.is_empty() {
            String::new()
        } else {
            format!(" [{}]", tags.join(", "))
        };
        let _ = writeln!(out, "         fix:{tags} {}", f.fix);
        if f.perf.level != tractorsec_policy::PerfLevel::None {
            let _ = writeln!(
                out,
                "         perf:     {:?}: {}",
                f.perf.level, f.perf.note
            );
        }
    }
}

fn short_hash(hash: &str) -> &str {
    hash.get(..19).unwrap_or(hash)
}
