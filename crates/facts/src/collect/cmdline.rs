//! Kernel release and command line.
//!
//! On a running system they come from `/proc`; on an offline image the
//! release is the newest installed kernel and the command line is what the
//! boot loader configuration would pass (`/etc/kernel/cmdline`, else GRUB's
//! `/etc/default/grub` and `/etc/default/grub.d/*.cfg`).

use crate::error::{FactError, ParseError};
use crate::model::{Cmdline, CmdlineParam, Kernel, Source};
use crate::root::{Root, join};
use std::collections::BTreeMap;

/// Parse a kernel command line into parameters, as the kernel splits it.
///
/// Parameters are separated by whitespace (newlines included) outside double
/// quotes; `name="a b"` has the value `a b`; a bare flag has no value.
/// Parsing stops at a bare `--`: what follows belongs to init. An unbalanced
/// double quote is an error naming the line where it opened.
pub fn parse(text: &str, file: &str) -> Result<Vec<CmdlineParam>, ParseError> {
    let mut params = Vec::new();
    let mut line = 1;
    let mut chars = text.chars().peekable();
    loop {
        while let Some(&c) = chars.peek() {
            if !c.is_whitespace() {
                break;
            }
            if c == '\n' {
                line += 1;
            }
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let start_line = line;
        let mut token = String::new();
        let mut in_quote = false;
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() && !in_quote {
                break;
            }
            if c == '\n' {
                line += 1;
            }
            if c == '"' {
                in_quote = !in_quote;
            }
            token.push(c);
            chars.next();
        }
        if in_quote {
            return Err(ParseError::new(
                file,
                start_line,
                "unterminated double quote",
            ));
        }
        if token == "--" {
            break;
        }
        params.push(split_param(&token));
    }
    Ok(params)
}

/// Split one token like the kernel's `next_arg`: quotes around the whole
/// token or around the value are dropped.
fn split_param(token: &str) -> CmdlineParam {
    let token = match token.strip_prefix('"') {
        Some(inner) => inner.strip_suffix('"').unwrap_or(inner),
        None => token,
    };
    match token.split_once('=') {
        None => CmdlineParam {
            name: token.to_string(),
            value: None,
        },
        Some((name, value)) => {
            let value = match value.strip_prefix('"') {
                Some(inner) => inner.strip_suffix('"').unwrap_or(inner),
                None => value,
            };
            CmdlineParam {
                name: name.to_string(),
                value: Some(value.to_string()),
            }
        }
    }
}

/// Options for [`shell_assignments`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct ShellOpts {
    /// Expand `$NAME` / `${NAME}` from the variables seen so far.
    pub expand: bool,
    /// Every non-comment line must be a plain assignment (os-release);
    /// otherwise other shell lines are skipped (`/etc/default/grub`).
    pub strict: bool,
}

/// Read shell-style `NAME=value` assignments into `vars` (later ones
/// override earlier ones). Values may be quoted with `'…'` or `"…"`, span
/// lines inside quotes, and use backslash escapes.
pub(crate) fn shell_assignments(
    text: &str,
    file: &str,
    opts: ShellOpts,
    vars: &mut BTreeMap<String, String>,
) -> Result<(), ParseError> {
    let mut rest = text;
    let mut line = 1;
    while !rest.is_empty() {
        let (phys, after) = match rest.split_once('\n') {
            Some((p, a)) => (p, a),
            None => (rest, ""),
        };
        let t = phys.trim_start();
        if t.is_empty() || t.starts_with('#') {
            rest = after;
            line += 1;
            continue;
        }
        let t = t.strip_prefix("export ").map(str::trim_start).unwrap_or(t);
        let assignment = t
            .split_once('=')
            .filter(|(name, _)| is_identifier(name))
            .map(|(name, _)| name);
        let Some(name) = assignment else {
            if opts.strict {
                return Err(ParseError::new(file, line, "expected NAME=value"));
            }
            rest = after;
            line += 1;
            continue;
        };
        // `t` is a suffix of `phys`, itself a prefix of `rest`.
        let offset = phys.len() - t.len() + name.len() + 1;
        let value_text = rest.get(offset..).unwrap_or("");
        let word = shell_word(value_text, opts.expand, vars)
            .map_err(|msg| ParseError::new(file, line, msg))?;
        let tail = value_text.get(word.consumed..).unwrap_or("");
        let (tail_line, tail_after) = match tail.split_once('\n') {
            Some((p, a)) => (p, a),
            None => (tail, ""),
        };
        let trailing = tail_line.trim_start();
        if opts.strict && !trailing.is_empty() && !trailing.starts_with('#') {
            return Err(ParseError::new(
                file,
                line + word.newlines,
                format!("unexpected text after the value of {name}"),
            ));
        }
        vars.insert(name.to_string(), word.value);
        line += word.newlines + 1;
        rest = tail_after;
    }
    Ok(())
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

struct Word {
    value: String,
    /// Bytes of the input taken by the word.
    consumed: usize,
    /// Newlines inside the word (quoted or escaped).
    newlines: usize,
}

/// The longest value a variable may expand to: far above any kernel command
/// line, and low enough that `B="$B$B"` repeated cannot exhaust memory.
const MAX_VALUE: usize = 64 * 1024;

fn check_length(value: &str) -> Result<(), String> {
    if value.len() > MAX_VALUE {
        return Err(format!("value expands to more than {MAX_VALUE} bytes"));
    }
    Ok(())
}

/// One shell word at the start of `text`, up to unquoted whitespace or `;`.
fn shell_word(text: &str, expand: bool, vars: &BTreeMap<String, String>) -> Result<Word, String> {
    let mut value = String::new();
    let mut newlines = 0;
    let mut it = text.char_indices().peekable();
    let mut end = text.len();
    while let Some((i, c)) = it.next() {
        match c {
            ' ' | '\t' | '\n' | '\r' | ';' => {
                end = i;
                break;
            }
            '\\' => match it.next() {
                Some((_, '\n')) => newlines += 1,
                Some((_, e)) => value.push(e),
                None => value.push('\\'),
            },
            '\'' => loop {
                match it.next() {
                    Some((_, '\'')) => break,
                    Some((_, q)) => {
                        if q == '\n' {
                            newlines += 1;
                        }
                        value.push(q);
                    }
                    None => return Err("unterminated single quote".into()),
                }
            },
            '"' => loop {
                match it.next() {
                    Some((_, '"')) => break,
                    Some((_, '\\')) => match it.peek().map(|&(_, e)| e) {
                        Some(e @ ('$' | '`' | '"' | '\\')) => {
                            value.push(e);
                            it.next();
                        }
                        Some('\n') => {
                            newlines += 1;
                            it.next();
                        }
                        _ => value.push('\\'),
                    },
                    Some((_, '$')) if expand => {
                        expand_var(&mut it, text, vars, &mut value);
                        check_length(&value)?;
                    }
                    Some((_, q)) => {
                        if q == '\n' {
                            newlines += 1;
                        }
                        value.push(q);
                    }
                    None => return Err("unterminated double quote".into()),
                }
            },
            '$' if expand => {
                expand_var(&mut it, text, vars, &mut value);
                check_length(&value)?;
            }
            other => value.push(other),
        }
    }
    Ok(Word {
        value,
        consumed: end,
        newlines,
    })
}

/// Expand `$NAME` or `${NAME}` (the `$` already taken); anything else
/// stays literal. Unknown variables expand to nothing, as in the shell.
fn expand_var(
    it: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
    text: &str,
    vars: &BTreeMap<String, String>,
    value: &mut String,
) {
    let Some(&(start, first)) = it.peek() else {
        value.push('$');
        return;
    };
    if first == '{' {
        let inner_start = start + 1;
        let Some(close) = text.get(inner_start..).and_then(|s| s.find('}')) else {
            value.push('$');
            return;
        };
        let name = text.get(inner_start..inner_start + close).unwrap_or("");
        if !is_identifier(name) {
            value.push('$');
            return;
        }
        // Skip `{NAME}`, up to and including the closing brace.
        for (i, _) in it.by_ref() {
            if i >= inner_start + close {
                break;
            }
        }
        value.push_str(vars.get(name).map(String::as_str).unwrap_or(""));
    } else if first.is_ascii_alphabetic() || first == '_' {
        let mut name = String::new();
        while let Some(&(_, c)) = it.peek() {
            if !(c.is_ascii_alphanumeric() || c == '_') {
                break;
            }
            name.push(c);
            it.next();
        }
        value.push_str(vars.get(&name).map(String::as_str).unwrap_or(""));
    } else {
        value.push('$');
    }
}

/// Parse one GRUB defaults file (`/etc/default/grub` or a `grub.d/*.cfg`)
/// on its own into its variables. Lines that are not assignments (shell
/// statements) are skipped; an unterminated quote is an error naming the
/// line.
pub fn parse_grub(text: &str, file: &str) -> Result<BTreeMap<String, String>, ParseError> {
    let mut vars = BTreeMap::new();
    parse_grub_into(text, file, &mut vars)?;
    Ok(vars)
}

/// Like [`parse_grub`], adding to the variables of the files read before,
/// so later files override them and can refer to them
/// (`GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT x"`).
pub fn parse_grub_into(
    text: &str,
    file: &str,
    vars: &mut BTreeMap<String, String>,
) -> Result<(), ParseError> {
    shell_assignments(
        text,
        file,
        ShellOpts {
            expand: true,
            strict: false,
        },
        vars,
    )
}

/// The command line GRUB builds for a normal boot entry from its variables:
/// `GRUB_CMDLINE_LINUX` then `GRUB_CMDLINE_LINUX_DEFAULT`.
pub fn grub_cmdline(vars: &BTreeMap<String, String>) -> String {
    ["GRUB_CMDLINE_LINUX", "GRUB_CMDLINE_LINUX_DEFAULT"]
        .iter()
        .filter_map(|k| vars.get(*k))
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Read the kernel release and command line beneath `root`.
pub fn collect(root: &Root) -> Source<Kernel> {
    collect_inner(root).into()
}

fn collect_inner(root: &Root) -> Result<Kernel, FactError> {
    if root.has_runtime() {
        let release = root
            .read_optional("/proc/sys/kernel/osrelease")?
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
        let path = "/proc/cmdline";
        let raw = root.read_to_string(path)?;
        return Ok(Kernel {
            release,
            cmdline: cmdline_from(path, &raw)?,
        });
    }
    let release = newest_installed_release(root)?;
    let cmdline = offline_cmdline(root)?;
    Ok(Kernel { release, cmdline })
}

fn cmdline_from(path: &str, raw: &str) -> Result<Cmdline, FactError> {
    let raw = raw.trim().to_string();
    let params = parse(&raw, path).map_err(|e| FactError::malformed(path, &e))?;
    Ok(Cmdline {
        source: path.to_string(),
        raw,
        params,
    })
}

/// The newest version among `/boot/config-*` and `/lib/modules/*`.
fn newest_installed_release(root: &Root) -> Result<Option<String>, FactError> {
    let mut found: Vec<String> = root
        .read_dir_optional("/boot")?
        .into_iter()
        .filter_map(|n| n.strip_prefix("config-").map(str::to_string))
        .filter(|v| !v.is_empty())
        .collect();
    for dir in ["/lib/modules", "/usr/lib/modules"] {
        for name in root.read_dir_optional(dir)? {
            if root.metadata(&join(dir, &name)).is_ok_and(|m| m.is_dir()) {
                found.push(name);
            }
        }
    }
    Ok(found
        .into_iter()
        .max_by(|a, b| crate::text::version_cmp(a, b)))
}

/// `/etc/kernel/cmdline`, else GRUB's defaults; an empty [`Cmdline`] (with
/// an empty `source`) when the image has neither.
fn offline_cmdline(root: &Root) -> Result<Cmdline, FactError> {
    let path = "/etc/kernel/cmdline";
    if let Some(text) = root.read_optional(path)? {
        // kernel-install joins the lines of this file with spaces.
        let raw = text.split_whitespace().collect::<Vec<_>>().join(" ");
        return cmdline_from(path, &raw);
    }
    let main = "/etc/default/grub";
    let mut vars = BTreeMap::new();
    let mut seen = false;
    if let Some(text) = root.read_optional(main)? {
        parse_grub_into(&text, main, &mut vars).map_err(|e| FactError::malformed(main, &e))?;
        seen = true;
    }
    let dropins = "/etc/default/grub.d";
    for name in root.read_dir_optional(dropins)? {
        if !name.ends_with(".cfg") {
            continue;
        }
        let path = join(dropins, &name);
        if !root.metadata(&path).is_ok_and(|m| m.is_file()) {
            continue;
        }
        let text = root.read_to_string(&path)?;
        parse_grub_into(&text, &path, &mut vars).map_err(|e| FactError::malformed(&path, &e))?;
        seen = true;
    }
    if !seen {
        return Ok(Cmdline::default());
    }
    let raw = grub_cmdline(&vars);
    cmdline_from(main, &raw)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::fs;

    /// This machine's `/proc/cmdline` (a Firecracker guest).
    const FIRECRACKER: &str = "mitigations=auto,no_guest_host,no_guest_guest console=ttyS0 quiet reboot=k panic=1 nomodule random.trust_cpu=1 swiotlb=noforce psi=1 nvproxy.enable=1 page_reporting.page_reporting_order=11 deferred_init=lazy nested_pvm=1 rcupdate.rcu_cpu_stall_cputime=1 cpuidle_haltpoll.force=1 haltpoll.guest_halt_poll_ns=0 sched_vcpu_pack=15 rdinit=/process_api -- --firecracker-init --addr 0.0.0.0:2024 --max-ws-buffer-size 32768\n";

    fn p(name: &str, value: Option<&str>) -> CmdlineParam {
        CmdlineParam {
            name: name.into(),
            value: value.map(Into::into),
        }
    }

    #[test]
    fn cmdline_bare_flag_has_no_value_and_stops_at_double_dash() {
        let params = parse(FIRECRACKER, "/proc/cmdline").unwrap();
        assert_eq!(
            params[0],
            p("mitigations", Some("auto,no_guest_host,no_guest_guest"))
        );
        assert_eq!(params[2], p("quiet", None));
        assert_eq!(params[5], p("nomodule", None));
        assert_eq!(params.last().unwrap(), &p("rdinit", Some("/process_api")));
        assert!(!params.iter().any(|x| x.name.starts_with("--")));
    }

    #[test]
    fn cmdline_quoted_value_keeps_spaces() {
        let params = parse(
            r#"root=/dev/sda1 dyndbg="file foo.c +p" "quoted=a b" x="#,
            "c",
        )
        .unwrap();
        assert_eq!(
            params,
            vec![
                p("root", Some("/dev/sda1")),
                p("dyndbg", Some("file foo.c +p")),
                p("quoted", Some("a b")),
                p("x", Some("")),
            ]
        );
    }

    #[test]
    fn cmdline_value_with_equals_keeps_the_rest() {
        let params = parse("root=UUID=1234-abcd ro", "c").unwrap();
        assert_eq!(params[0], p("root", Some("UUID=1234-abcd")));
        assert_eq!(params[1], p("ro", None));
    }

    #[test]
    fn cmdline_unterminated_quote_names_file_and_line() {
        let err = parse("quiet\nfoo=\"a b\n", "/etc/kernel/cmdline").unwrap_err();
        assert_eq!(err.file, "/etc/kernel/cmdline");
        assert_eq!(err.line, 2);
    }

    #[test]
    fn grub_dropin_overrides_and_expands_earlier_value() {
        let main = "GRUB_DEFAULT=0\nGRUB_TIMEOUT=5\nGRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || echo Debian`\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\nGRUB_CMDLINE_LINUX=\"\"\n#GRUB_TERMINAL=console\n";
        let mut vars = parse_grub(main, "/etc/default/grub").unwrap();
        let cloud = "# Cloud Image specific Grub settings\nGRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT console=tty1 console=ttyS0\"\nGRUB_CMDLINE_LINUX='init_on_free=1 lockdown=integrity'\n";
        parse_grub_into(
            cloud,
            "/etc/default/grub.d/50-cloudimg-settings.cfg",
            &mut vars,
        )
        .unwrap();
        assert_eq!(
            grub_cmdline(&vars),
            "init_on_free=1 lockdown=integrity quiet console=tty1 console=ttyS0"
        );
    }

    #[test]
    fn grub_skips_shell_statements_and_joins_multiline_quotes() {
        let text = "if [ -f /x ]; then\n  . /x\nfi\nexport GRUB_CMDLINE_LINUX=\"a=1 \\\n b=2\nc\"\nGRUB_CMDLINE_LINUX_DEFAULT=${GRUB_CMDLINE_LINUX}\n";
        let vars = parse_grub(text, "g").unwrap();
        assert_eq!(vars["GRUB_CMDLINE_LINUX"], "a=1  b=2\nc");
        assert_eq!(vars["GRUB_CMDLINE_LINUX_DEFAULT"], "a=1  b=2\nc");
    }

    #[test]
    fn grub_unterminated_quote_names_file_and_line() {
        let err = parse_grub(
            "GRUB_TIMEOUT=5\n\nGRUB_CMDLINE_LINUX=\"quiet\n",
            "/etc/default/grub",
        )
        .unwrap_err();
        assert_eq!((err.file.as_str(), err.line), ("/etc/default/grub", 3));
    }

    #[test]
    fn versions_compare_numerically() {
        assert_eq!(
            crate::text::version_cmp("6.1.0-13-amd64", "6.1.0-9-amd64"),
            std::cmp::Ordering::Greater
        );
        assert_eq!(
            crate::text::version_cmp("5.15.0", "6.1.0"),
            std::cmp::Ordering::Less
        );
        assert_eq!(
            crate::text::version_cmp("6.10.2", "6.9.12"),
            std::cmp::Ordering::Greater
        );
        assert_eq!(
            crate::text::version_cmp("6.1.0", "6.1.0"),
            std::cmp::Ordering::Equal
        );
    }

    #[test]
    fn offline_release_is_newest_of_boot_and_modules() {
        let tmp = tempfile::tempdir().unwrap();
        fs::create_dir_all(tmp.path().join("boot")).unwrap();
        fs::create_dir_all(tmp.path().join("lib/modules/6.1.0-9-amd64")).unwrap();
        fs::create_dir_all(tmp.path().join("lib/modules/6.1.0-13-amd64")).unwrap();
        fs::write(tmp.path().join("boot/config-6.1.0-10-amd64"), "").unwrap();
        fs::create_dir_all(tmp.path().join("etc/kernel")).unwrap();
        fs::write(
            tmp.path().join("etc/kernel/cmdline"),
            "root=/dev/vda1\nro quiet\n",
        )
        .unwrap();
        let root = Root::open(tmp.path()).unwrap();
        let k = collect(&root).ok().cloned().unwrap();
        assert_eq!(k.release.as_deref(), Some("6.1.0-13-amd64"));
        assert_eq!(k.cmdline.source, "/etc/kernel/cmdline");
        assert_eq!(k.cmdline.raw, "root=/dev/vda1 ro quiet");
        assert_eq!(k.cmdline.params.len(), 3);
    }

    #[test]
    fn offline_cmdline_from_grub_and_dropins() {
        let tmp = tempfile::tempdir().unwrap();
        fs::create_dir_all(tmp.path().join("etc/default/grub.d")).unwrap();
        fs::write(
            tmp.path().join("etc/default/grub"),
            "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n",
        )
        .unwrap();
        fs::write(
            tmp.path().join("etc/default/grub.d/10-a.cfg"),
            "GRUB_CMDLINE_LINUX_DEFAULT=\"splash\"\n",
        )
        .unwrap();
        fs::write(
            tmp.path().join("etc/default/grub.d/20-b.cfg"),
            "GRUB_CMDLINE_LINUX=\"audit=1\"\n",
        )
        .unwrap();
        let root = Root::open(tmp.path()).unwrap();
        let k = collect(&root).ok().cloned().unwrap();
        assert_eq!(k.cmdline.source, "/etc/default/grub");
        assert_eq!(k.cmdline.raw, "audit=1 splash");
        assert_eq!(k.release, None);
    }

    #[test]
    fn offline_image_without_boot_config_has_empty_cmdline() {
        let tmp = tempfile::tempdir().unwrap();
        let root = Root::open(tmp.path()).unwrap();
        let k = collect(&root).ok().cloned().unwrap();
        assert_eq!(k.cmdline, Cmdline::default());
    }

    #[test]
    fn runtime_root_reads_proc() {
        let tmp = tempfile::tempdir().unwrap();
        fs::create_dir_all(tmp.path().join("proc/sys/kernel")).unwrap();
        fs::write(tmp.path().join("proc/cmdline"), FIRECRACKER).unwrap();
        fs::write(
            tmp.path().join("proc/sys/kernel/osrelease"),
            "6.18.44-fc-v1272\n",
        )
        .unwrap();
        let root = Root::open(tmp.path()).unwrap();
        let k = collect(&root).ok().cloned().unwrap();
        assert_eq!(k.release.as_deref(), Some("6.18.44-fc-v1272"));
        assert_eq!(k.cmdline.source, "/proc/cmdline");
        assert!(k.cmdline.raw.ends_with("32768"));
    }

    #[test]
    fn self_doubling_variables_are_an_error_not_an_allocation() {
        let text: String = std::iter::once("B=xxxxxxxxxxxxxxxx\n".to_string())
            .chain((0..40).map(|_| "B=\"$B$B\"\n".to_string()))
            .collect();
        let err = parse_grub(&text, "grub").expect_err("too long");
        assert!(err.to_string().contains("more than 65536 bytes"), "{err}");
        assert!(err.to_string().starts_with("grub:"), "{err}");
    }
}
