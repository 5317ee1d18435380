//! Shell completions and man pages generated from the CLI definition,
//! `--output` written atomically by every command, `--quiet`, and no
//! progress when stderr is not a terminal.

mod common;

use common::{fixtures, have_tool, tractorsec};
use std::process::Command;

fn stdout_of(args: &[&str]) -> String {
    let out = tractorsec().args(args).output().expect("run");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn bash_completion_loads_and_completes_subcommands_and_formats() {
    let script = stdout_of(&["completions", "bash"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("tractorsec.bash");
    std::fs::write(&file, script).expect("write");
    // Load it in a real bash and ask it to complete, as a user's Tab would.
    let probe = format!(
        "source {}\n\
         COMP_WORDS=(tractorsec au); COMP_CWORD=1; COMP_LINE='tractorsec au'; COMP_POINT=13\n\
         _tractorsec tractorsec au tractorsec; echo \"${{COMPREPLY[@]}}\"\n\
         COMP_WORDS=(tractorsec audit --format ''); COMP_CWORD=3; COMP_LINE='tractorsec audit --format '; COMP_POINT=26\n\
         _tractorsec tractorsec '' --format; echo \"${{COMPREPLY[@]}}\"\n",
        file.display()
    );
    let out = Command::new("bash")
        .args(["-c", &probe])
        .output()
        .expect("bash");
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(lines.first().copied(), Some("audit"), "{text}");
    for format in [
        "text",
        "json",
        "sarif",
        "junit",
        "prometheus",
        "html",
        "ocsf",
    ] {
        assert!(
            lines
                .get(1)
                .is_some_and(|l| l.split(' ').any(|w| w == format)),
            "{format}: {text}"
        );
    }
    for shell in ["zsh", "fish"] {
        assert!(
            stdout_of(&["completions", shell]).contains("diff"),
            "{shell}"
        );
    }
}

#[test]
fn man_pages_render_with_groff_without_warnings() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = tractorsec()
        .args(["man", "--dir"])
        .arg(dir.path())
        .output()
        .expect("man");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut pages: Vec<String> = std::fs::read_dir(dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    pages.sort();
    for expected in [
        "tractorsec.1",
        "tractorsec-audit.1",
        "tractorsec-diff.1",
        "tractorsec-key.1",
    ] {
        assert!(
            pages.iter().any(|p| p == expected),
            "{expected} in {pages:?}"
        );
    }
    assert_eq!(
        stdout_of(&["man"]),
        std::fs::read_to_string(dir.path().join("tractorsec.1")).expect("r")
    );
    if !have_tool("groff", "groff-base") {
        return;
    }
    let page = dir.path().join("tractorsec-audit.1");
    let out = Command::new("groff")
        .args(["-k", "-man", "-Tutf8", "-ww"])
        .arg(&page)
        .output()
        .expect("groff");
    // grotty marks bold and underline by overstriking: drop `X<BS>`.
    let mut text = String::new();
    for c in String::from_utf8_lossy(&out.stdout).chars() {
        if c == '\u{8}' {
            text.pop();
        } else {
            text.push(c);
        }
    }
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for needle in ["--format", "prometheus", "--sign", "--output", "--quiet"] {
        assert!(
            text.contains(needle),
            "{needle} in the rendered audit page: {text}"
        );
    }
}

#[test]
fn output_is_atomic_for_every_command_and_quiet_prints_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = fixtures().join("hosts/gpu-hardened/root");
    let root = root.to_str().expect("utf-8");
    let target = dir.path().join("out.txt");
    let t = target.to_str().expect("utf-8");
    for args in [
        vec!["facts", "--root", root],
        vec!["audit", "--root", root, "--format", "junit"],
        vec!["controls", "list"],
        vec!["controls", "show", "kernel.sysctl.kernel.kptr_restrict"],
        vec!["schema", "report"],
        vec!["completions", "bash"],
        vec!["man"],
    ] {
        std::fs::write(&target, "old contents\n").expect("write");
        let out = tractorsec()
            .args(&args)
            .args(["--output", t])
            .output()
            .expect("run");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.stdout.is_empty(),
            "{args:?} wrote to stdout with --output"
        );
        assert!(
            out.stderr.is_empty(),
            "{args:?}: no progress when stderr is not a TTY"
        );
        let written = std::fs::read_to_string(&target).expect("read");
        assert!(
            !written.is_empty() && written != "old contents\n",
            "{args:?}"
        );
        let entries = std::fs::read_dir(dir.path()).expect("dir").count();
        assert_eq!(entries, 1, "{args:?} left a temp file behind");
    }
    // --quiet: the exit code alone tells the result.
    let weakened = fixtures().join("hosts/weakened/root");
    let out = tractorsec()
        .args(["audit", "--quiet", "--root"])
        .arg(&weakened)
        .output()
        .expect("run");
    assert!(out.stdout.is_empty() && out.stderr.is_empty());
    assert_eq!(out.status.code(), Some(1), "the weakened host fails");
    // A directory that does not exist is an error, and nothing is written.
    let missing = dir.path().join("no/such/dir/out.json");
    let out = tractorsec()
        .args(["controls", "list", "--output"])
        .arg(&missing)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no/such/dir"));
}

/// `tractorsec ARGS` under a pseudo-terminal (`script`, from bsdutils): what the
/// terminal showed.
fn on_a_terminal(args: &str) -> String {
    let bin = assert_cmd::cargo::cargo_bin("tractorsec");
    let out = Command::new("script")
        .args(["-qec", &format!("{} {args}", bin.display()), "/dev/null"])
        .output()
        .expect("script runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn progress_shows_on_a_terminal_only_and_never_when_quiet() {
    if !have_tool("script", "bsdutils") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let root = fixtures().join("hosts/weakened/root");
    let args = format!(
        "audit --root {} -o {}",
        root.display(),
        dir.path().join("r").display()
    );
    let shown = on_a_terminal(&args);
    assert!(shown.contains("collecting facts"), "{shown:?}");
    assert!(
        shown.contains("\r\x1b[2K"),
        "the progress line is erased: {shown:?}"
    );
    assert_eq!(on_a_terminal(&format!("{args} --quiet")), "");
}
