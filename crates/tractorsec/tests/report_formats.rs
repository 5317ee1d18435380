//! Every report format read by a real, independent consumer: SARIF by the
//! official JSON Schema, JUnit by junitparser, Prometheus by promtool and a
//! live Prometheus scraping node_exporter's textfile collector, OCSF by the
//! class 2003 required attributes and py-ocsf-models.

mod common;

use common::{
    audit_as, audit_json, consumers, findings, have_tool, host, python_consumer, tractorsec,
    validate,
};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The weakened fixture host, a waiver for its first failing control, and
/// its JSON report with that waiver.
struct Audited {
    root: tempfile::TempDir,
    waivers: PathBuf,
    waived: String,
    report: Value,
}

fn audited() -> Option<Audited> {
    let root = host("weakened")?;
    let (plain, _) = audit_json(root.path(), &[]);
    let waived = findings(&plain)
        .iter()
        .find(|f| f["status"] == "fail")
        .and_then(|f| f["id"].as_str())
        .expect("the weakened host fails something")
        .to_string();
    let waivers = root.path().join("waivers.toml");
    std::fs::write(
        &waivers,
        format!(
            "[[waiver]]\ncontrol = \"{waived}\"\nreason = \"vendor driver needs it <until> fix\"\nowner = \"sre@example.com\"\nexpires = \"2999-01-01\"\n"
        ),
    )
    .expect("write waivers");
    let (report, _) = audit_json(
        root.path(),
        &["--waivers", waivers.to_str().expect("utf-8")],
    );
    Some(Audited {
        root,
        waivers,
        waived,
        report,
    })
}

impl Audited {
    fn render(&self, format: &str) -> String {
        audit_as(
            self.root.path(),
            format,
            &["--waivers", self.waivers.to_str().expect("utf-8")],
        )
    }

    fn ids_with(&self, statuses: &[&str]) -> BTreeSet<String> {
        findings(&self.report)
            .iter()
            .filter(|f| statuses.contains(&f["status"].as_str().expect("status")))
            .map(|f| f["id"].as_str().expect("id").to_string())
            .collect()
    }

    fn finding(&self, id: &str) -> &Value {
        findings(&self.report)
            .iter()
            .find(|f| f["id"] == id)
            .expect("finding")
    }
}

#[test]
fn sarif_is_valid_against_the_sarif_2_1_0_schema() {
    let Some(a) = audited() else { return };
    let text = a.render("sarif");
    let file = a.root.path().join("report.sarif");
    std::fs::write(&file, &text).expect("write");
    let schema = consumers().join("sarif-2.1.0-rtm.5.json");
    validate(&schema, &file).unwrap_or_else(|e| panic!("SARIF rejected: {e}"));

    let sarif: Value = serde_json::from_str(&text).expect("json");
    let run = &sarif["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    assert_eq!(
        rules.len(),
        findings(&a.report).len(),
        "one rule per control"
    );
    let kptr = rules
        .iter()
        .find(|r| r["id"] == "kernel.sysctl.kernel.kptr_restrict")
        .expect("kptr_restrict rule");
    assert!(
        kptr["help"]["text"]
            .as_str()
            .expect("help")
            .contains("References:")
    );
    let results = run["results"].as_array().expect("results");
    let ids: BTreeSet<String> = results
        .iter()
        .map(|r| r["ruleId"].as_str().expect("ruleId").to_string())
        .collect();
    assert_eq!(
        ids,
        a.ids_with(&["fail", "waived"]),
        "one result per failing control"
    );
    for r in results {
        let id = r["ruleId"].as_str().expect("id");
        let f = a.finding(id);
        let level = match f["severity"].as_str().expect("severity") {
            "critical" | "high" => "error",
            "medium" => "warning",
            _ => "note",
        };
        assert_eq!(r["level"], level, "{id}");
        assert_eq!(
            rules[r["ruleIndex"].as_u64().expect("index") as usize]["id"],
            id
        );
        let suppressed = r.get("suppressions").is_some();
        assert_eq!(
            suppressed,
            id == a.waived,
            "{id}: suppressed only when waived"
        );
    }
    let errors = run["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .expect("notifications")
        .len();
    assert_eq!(errors, a.ids_with(&["error"]).len());

    // The schema is really applied: a log without its version is rejected.
    let mut broken = sarif.clone();
    broken.as_object_mut().expect("object").remove("version");
    std::fs::write(&file, broken.to_string()).expect("write");
    assert!(validate(&schema, &file).is_err());
}

#[test]
fn junit_is_read_by_junitparser_with_observed_vs_expected() {
    let Some(a) = audited() else { return };
    let file = a.root.path().join("report.xml");
    std::fs::write(&file, a.render("junit")).expect("write");
    let parsed: Value =
        serde_json::from_str(&python_consumer("junit_check.py", &file)).expect("json");
    let cases = parsed["cases"].as_array().expect("cases");
    assert_eq!(
        cases.len(),
        findings(&a.report).len(),
        "one test case per control"
    );
    let mut kinds = BTreeMap::new();
    for case in cases {
        let id = case["name"].as_str().expect("name");
        let f = a.finding(id);
        let status = f["status"].as_str().expect("status");
        let expected_kind = match status {
            "pass" => "pass",
            "fail" => "failure",
            "error" => "error",
            _ => "skipped",
        };
        assert_eq!(case["kind"], expected_kind, "{id} is {status}");
        assert_eq!(
            case["classname"],
            format!("tractorsec.{}", f["section"].as_str().expect("s"))
        );
        if status == "fail" {
            let message = case["message"].as_str().expect("message");
            assert!(
                message.contains(f["observed"].as_str().expect("observed")),
                "{id}"
            );
            assert!(
                message.contains(f["expected"].as_str().expect("expected")),
                "{id}"
            );
        }
        *kinds.entry(expected_kind).or_insert(0) += 1;
    }
    let waived = cases
        .iter()
        .find(|c| c["name"] == a.waived.as_str())
        .expect("waived case");
    assert!(
        waived["message"]
            .as_str()
            .expect("m")
            .contains("vendor driver needs it <until> fix")
    );
    let failures: u64 = parsed["suites"]
        .as_array()
        .expect("suites")
        .iter()
        .map(|s| s["failures"].as_u64().expect("failures"))
        .sum();
    assert_eq!(failures, kinds.get("failure").copied().unwrap_or(0));
}

#[test]
fn ocsf_lines_are_compliance_findings() {
    let Some(a) = audited() else { return };
    let text = a.render("ocsf");
    let file = a.root.path().join("report.ocsf.jsonl");
    std::fs::write(&file, &text).expect("write");
    let count: usize = python_consumer("ocsf_check.py", &file)
        .trim()
        .parse()
        .expect("count");
    assert_eq!(count, findings(&a.report).len(), "one event per control");
    for line in text.lines() {
        let event: Value = serde_json::from_str(line).expect("json line");
        let id = event["compliance"]["control"].as_str().expect("control");
        let f = a.finding(id);
        let (compliance, finding) = match f["status"].as_str().expect("status") {
            "pass" => (1, 4),
            "fail" => (3, 1),
            "error" => (2, 1),
            "waived" => (3, 3),
            _ => (99, 99),
        };
        assert_eq!(event["compliance"]["status_id"], compliance, "{id}");
        assert_eq!(event["status_id"], finding, "{id}");
        assert_eq!(event["compliance"]["status_detail"], f["observed"], "{id}");
    }
    // The checker is strict: an event without its compliance object fails.
    let mut broken: Value = serde_json::from_str(text.lines().next().expect("line")).expect("j");
    broken.as_object_mut().expect("obj").remove("compliance");
    std::fs::write(&file, format!("{broken}\n")).expect("write");
    let out = Command::new("python3")
        .arg(consumers().join("ocsf_check.py"))
        .arg(&file)
        .output()
        .expect("python3");
    assert!(!out.status.success());
}

/// Kills a server when the test ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// `GET path` on 127.0.0.1:port; the body, or `None` while the server is
/// not answering.
fn http_get(port: u16, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.0 200")
        .then(|| body.to_string())
        .or_else(|| head.starts_with("HTTP/1.1 200").then(|| body.to_string()))
}

fn url_encode(q: &str) -> String {
    q.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Poll a PromQL query until it returns a non-empty vector (60 s at most).
fn query(port: u16, promql: &str) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let body = http_get(port, &format!("/api/v1/query?query={}", url_encode(promql)));
        let parsed = body.and_then(|b| serde_json::from_str::<Value>(&b).ok());
        if let Some(result) = parsed
            .as_ref()
            .and_then(|v| v["data"]["result"].as_array())
            .filter(|r| !r.is_empty())
        {
            return result.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no result for {promql} within 60 s"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn spawn(cmd: &mut Command, log: &Path) -> Server {
    let log = std::fs::File::create(log).expect("log file");
    Server(
        cmd.stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}")),
    )
}

#[test]
fn prometheus_metrics_pass_promtool_and_are_scraped_through_node_exporter() {
    if !have_tool("promtool", "prometheus")
        || !have_tool("prometheus", "prometheus")
        || !have_tool("prometheus-node-exporter", "prometheus-node-exporter")
    {
        return;
    }
    let Some(a) = audited() else { return };
    let work = a.root.path().join("prom");
    let textfile = work.join("textfile");
    std::fs::create_dir_all(&textfile).expect("mkdir");
    let prom = textfile.join("tractorsec.prom");
    let out = tractorsec()
        .args([
            "audit",
            "--fail-on",
            "never",
            "--format",
            "prometheus",
            "--root",
        ])
        .arg(a.root.path())
        .args(["--waivers", a.waivers.to_str().expect("utf-8"), "--output"])
        .arg(&prom)
        .output()
        .expect("audit");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let leftovers: Vec<_> = std::fs::read_dir(&textfile).expect("dir").collect();
    assert_eq!(leftovers.len(), 1, "only the .prom file, no temp file left");

    let check = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::fs::File::open(&prom).expect("open"))
        .output()
        .expect("promtool");
    assert!(
        check.status.success() && check.stdout.is_empty() && check.stderr.is_empty(),
        "promtool check metrics: {}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );

    let (exporter_port, prometheus_port) = (free_port(), free_port());
    let _exporter = spawn(
        Command::new("prometheus-node-exporter")
            .arg(format!("--web.listen-address=127.0.0.1:{exporter_port}"))
            .args(["--collector.disable-defaults", "--collector.textfile"])
            .arg(format!(
                "--collector.textfile.directory={}",
                textfile.display()
            )),
        &work.join("node_exporter.log"),
    );
    let config = work.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: node_textfile\n    static_configs:\n      - targets: ['127.0.0.1:{exporter_port}']\n"
        ),
    )
    .expect("config");
    let _prometheus = spawn(
        Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                work.join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{prometheus_port}"))
            .arg("--storage.tsdb.retention.time=1h"),
        &work.join("prometheus.log"),
    );

    let failing = a
        .ids_with(&["fail"])
        .into_iter()
        .next()
        .expect("a failing control");
    let result = query(
        prometheus_port,
        &format!("tractorsec_control_status{{job=\"node_textfile\",control=\"{failing}\"}}"),
    );
    assert_eq!(result.len(), 1);
    assert_eq!(result[0]["value"][1], "0", "{failing} is failing");
    assert_eq!(
        result[0]["metric"]["severity"],
        a.finding(&failing)["severity"]
    );
    let failing_now = query(prometheus_port, "count(tractorsec_control_status == 0)");
    assert_eq!(
        failing_now[0]["value"][1],
        a.ids_with(&["fail"]).len().to_string(),
        "every failing control and only those (the waived one is not a failure)"
    );
    let ratios = query(prometheus_port, "count(tractorsec_section_pass_ratio)");
    assert_eq!(ratios[0]["value"][1], "4", "one pass ratio per section");
    let last = query(prometheus_port, "tractorsec_last_scan_timestamp_seconds");
    let collected = a.report["collected_at"].as_str().expect("collected_at");
    let seconds: i64 = last[0]["value"][1]
        .as_str()
        .expect("v")
        .parse()
        .expect("int");
    assert_eq!(
        tractorsec_facts::collect::time::rfc3339(seconds),
        collected,
        "last scan is the collection time"
    );
}
