//! The HTML report rendered by a real browser: headless Chromium loads the
//! page (with filters in the URL fragment) and dumps the DOM the script left.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tractorsec_policy::{Profile, Section, Severity, Status, Waivers};
use tractorsec_report::{Report, render_html};

/// The report of the `weakened` fixture host under the `tractoros` profile.
fn weakened_report() -> Report {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/hosts/weakened/root");
    let root = tractorsec_facts::Root::open(&dir).expect("fixture root opens");
    let facts = tractorsec_facts::collect::collect(&root);
    let profile = Profile::load_with("tractoros", &Default::default()).expect("built-in profile");
    let findings =
        tractorsec_policy::evaluate_with(&profile, &facts, &Waivers::default(), "2026-12-04");
    Report::new(&facts, Default::default(), findings)
}

/// Debian's `chromium` on PATH; `None` skips the test (a failure under CI).
fn chromium() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("chromium"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromium is not installed: the HTML report cannot be checked in a browser (apt-get install chromium)"
        );
        eprintln!("skipped: chromium is not installed");
    }
    found
}

/// The page written to a fresh directory, and a browser to load it.
struct Page {
    dir: tempfile::TempDir,
    chromium: PathBuf,
    report: Report,
}

impl Page {
    fn new() -> Option<Page> {
        let chromium = chromium()?;
        let report = weakened_report();
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("report.html"), render_html(&report)).expect("write page");
        Some(Page {
            dir,
            chromium,
            report,
        })
    }

    fn url(&self, fragment: &str) -> String {
        format!(
            "file://{}{fragment}",
            self.dir.path().join("report.html").display()
        )
    }

    /// Run headless Chromium with `args` and a fresh profile; its stdout.
    fn chromium(&self, name: &str, args: &[String]) -> String {
        let out = self.dir.path().join(format!("{name}.out"));
        let mut child = Command::new(&self.chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--virtual-time-budget=3000",
            ])
            .arg(format!(
                "--user-data-dir={}",
                self.dir.path().join(format!("{name}.profile")).display()
            ))
            .args(args)
            .stdin(Stdio::null())
            .stdout(File::create(&out).expect("stdout file"))
            .stderr(Stdio::null())
            .spawn()
            .expect("chromium starts");
        let deadline = Instant::now() + Duration::from_secs(120);
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for chromium") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("chromium did not finish in 120 s: {args:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(status.success(), "chromium {args:?}: {status}");
        std::fs::read_to_string(out).expect("chromium output")
    }

    /// The DOM after the script ran on the page loaded with `fragment`.
    fn dom(&self, name: &str, fragment: &str) -> Dom {
        Dom(self.chromium(name, &["--dump-dom".into(), self.url(fragment)]))
    }

    /// Sorted ids of the report's findings that pass `keep`.
    fn ids(&self, keep: impl Fn(&tractorsec_policy::Finding) -> bool) -> Vec<String> {
        let mut ids: Vec<String> = self
            .report
            .findings
            .iter()
            .filter(|f| keep(f))
            .map(|f| f.id.clone())
            .collect();
        ids.sort();
        ids
    }
}

/// A control row of the dumped DOM.
struct Row {
    id: String,
    status: String,
    hidden: bool,
}

/// A DOM as Chromium serialises it.
struct Dom(String);

impl Dom {
    /// The value of `name="…"` inside one start tag.
    fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
        let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
        let len = tag[start..].find('"')?;
        Some(&tag[start..start + len])
    }

    /// Control rows, in document order.
    fn rows(&self) -> Vec<Row> {
        self.0
            .match_indices("<tr id=\"c-")
            .map(|(i, _)| {
                let tag = &self.0[i..i + self.0[i..].find('>').expect("tag ends")];
                Row {
                    id: Dom::attr(tag, "id").expect("id")["c-".len()..].to_string(),
                    status: Dom::attr(tag, "data-status").expect("status").to_string(),
                    hidden: Dom::attr(tag, "hidden").is_some(),
                }
            })
            .collect()
    }

    /// Sorted ids of the rows not hidden.
    fn visible(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .rows()
            .into_iter()
            .filter(|r| !r.hidden)
            .map(|r| r.id)
            .collect();
        ids.sort();
        ids
    }

    /// Text of the element with this id.
    fn text_of(&self, id: &str) -> &str {
        let at = self
            .0
            .find(&format!("id=\"{id}\""))
            .expect("element present");
        let start = at + self.0[at..].find('>').expect("tag ends") + 1;
        &self.0[start..start + self.0[start..].find('<').expect("text ends")]
    }
}

#[test]
fn unfiltered_page_lists_failing_controls_first() {
    let Some(page) = Page::new() else { return };
    let dom = page.dom("all", "");
    let rows = dom.rows();
    let failing = page.ids(|f| f.status == Status::Fail);
    assert!(!failing.is_empty(), "the weakened host fails controls");
    assert_eq!(rows.len(), page.report.findings.len());
    assert!(rows.iter().all(|r| !r.hidden));
    let mut first: Vec<String> = rows[..failing.len()].iter().map(|r| r.id.clone()).collect();
    first.sort();
    assert_eq!(first, failing, "failing rows come first");
    assert!(rows[failing.len()..].iter().all(|r| r.status != "fail"));
    let n = page.report.findings.len();
    assert_eq!(dom.text_of("count"), format!("{n} of {n} controls"));
}

#[test]
fn status_fragment_shows_exactly_the_failing_controls() {
    let Some(page) = Page::new() else { return };
    let dom = page.dom("fail", "#status=fail");
    let failing = page.ids(|f| f.status == Status::Fail);
    assert_eq!(dom.visible(), failing);
    assert_eq!(
        dom.text_of("count"),
        format!(
            "{} of {} controls",
            failing.len(),
            page.report.findings.len()
        )
    );
}

#[test]
fn three_filters_combine() {
    let Some(page) = Page::new() else { return };
    let dom = page.dom(
        "kernel-high-fail",
        "#section=kernel&severity=high&status=fail",
    );
    let expected = page.ids(|f| {
        f.section == Section::Kernel && f.severity == Severity::High && f.status == Status::Fail
    });
    assert!(
        !expected.is_empty(),
        "the weakened host fails high kernel controls"
    );
    assert!(expected.len() < page.ids(|f| f.status == Status::Fail).len());
    assert_eq!(dom.visible(), expected);
    assert_eq!(
        dom.text_of("count"),
        format!(
            "{} of {} controls",
            expected.len(),
            page.report.findings.len()
        )
    );
}

#[test]
fn changing_a_select_filters_and_updates_the_fragment() {
    let Some(page) = Page::new() else { return };
    // The page plus a script acting as the user: pick "critical", then
    // record the fragment the page wrote.
    let html = render_html(&page.report).replace(
        "</body>",
        "<script>var s=document.getElementById(\"f-severity\");s.value=\"critical\";\
         s.dispatchEvent(new Event(\"change\"));document.body.dataset.hash=location.hash;</script></body>",
    );
    std::fs::write(page.dir.path().join("report.html"), html).expect("write page");
    let dom = page.dom("select", "#status=fail");
    assert_eq!(
        Dom::attr(&dom.0[dom.0.find("<body").expect("body")..], "data-hash"),
        Some("#severity=critical&amp;status=fail")
    );
    let expected = page.ids(|f| f.severity == Severity::Critical && f.status == Status::Fail);
    assert_eq!(dom.visible(), expected);
}

#[test]
fn screenshot_is_a_png() {
    let Some(page) = Page::new() else { return };
    let png = page.dir.path().join("report.png");
    page.chromium(
        "screenshot",
        &[
            format!("--screenshot={}", png.display()),
            "--window-size=1280,1600".into(),
            page.url(""),
        ],
    );
    let bytes = std::fs::read(&png).expect("screenshot written");
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
    // Keep it for a look after the run.
    let kept = Path::new(env!("CARGO_TARGET_TMPDIR")).join("tractorsec-report.png");
    std::fs::copy(&png, &kept).expect("keep screenshot");
    println!("screenshot: {}", kept.display());
}
