//! `tractorsec erase DEVICE` and `tractorsec erase verify-cert CERT`.

use crate::cli::{EraseAction, EraseArgs, EraseMethod};
use crate::output::Output;
use anyhow::{Context, Result, bail};
use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tractorsec_devices::erase::certificate::{Certificate, FORMAT, HostIdentity, Operator, Tool};
use tractorsec_devices::erase::method::{self, Requested};
use tractorsec_devices::erase::refusal::refusals;
use tractorsec_devices::erase::sampling::SamplePlan;
use tractorsec_devices::erase::sanitize::SystemClock;
use tractorsec_devices::erase::target::{Target, TargetKind};
use tractorsec_devices::erase::{self, Plan, Progress, topology};
use tractorsec_devices::human_bytes;
use tractorsec_devices::nvme::admin::{self, IoctlController};
use tractorsec_facts::Root;
use tractorsec_facts::collect::time::now_rfc3339;

/// Run `erase` or `erase verify-cert`.
pub fn run(args: EraseArgs, out: &Output) -> Result<ExitCode> {
    if let Some(EraseAction::VerifyCert { cert, pubkey }) = &args.action {
        return verify_cert(cert, pubkey, out);
    }
    let (Some(device), Some(confirm)) = (&args.device, &args.confirm) else {
        bail!("erase needs DEVICE and --confirm SERIAL");
    };
    if let Some(key) = &args.key {
        if out.path.is_none() {
            bail!("--key needs --out CERT: the signature is written beside the certificate");
        }
        std::fs::metadata(key).with_context(|| format!("cannot read key {}", key.display()))?;
    }
    let root = Root::live();
    let topology = topology::topology(&root)?;
    let usage = topology::usage(&root, &topology)?;
    let target = Target::resolve(&root, &topology, device)?;
    let reasons = refusals(&target, &topology, &usage, confirm);
    if !reasons.is_empty() {
        for r in &reasons {
            eprintln!("tractorsec: refusing: {r}");
        }
        bail!(
            "refusing to erase {}: {} reason(s) above; nothing was written",
            target.path,
            reasons.len()
        );
    }
    let mut controller = None;
    let identify = match &target.kind {
        TargetKind::Nvme { controller: name } => {
            let path = format!("/dev/{name}");
            Some(
                IoctlController::open(Path::new(&path))
                    .map_err(|e| format!("{path}: {e}"))
                    .and_then(|mut c| {
                        let id = admin::identify(&mut c, &path).map_err(|e| e.to_string());
                        controller = Some(c);
                        id
                    }),
            )
        }
        _ => None,
    };
    let method = method::choose(requested(args.method), &target, identify.as_ref())?;
    let dev = erase::open_exclusive(device).map_err(|e| {
        if e.kind() == std::io::ErrorKind::ResourceBusy {
            anyhow::anyhow!(
                "refusing to erase {}: the kernel reports it busy (mounted, swap, or held by another device); nothing was written",
                target.path
            )
        } else {
            anyhow::anyhow!("cannot open {} for erasing: {e}", target.path)
        }
    })?;
    let size = tractorsec_sys::block::size_bytes(std::os::fd::AsFd::as_fd(&dev))
        .with_context(|| format!("{}: size", target.path))?;
    let samples = SamplePlan::new(getrandom::u64()?, args.samples, size);
    let filler_seed = getrandom::u64()?;
    out.note(&format!(
        "erasing {} ({}, {}) with {} ({}); this cannot be undone",
        target.path,
        target
            .identity()
            .map_or("no identity".into(), |(what, v)| format!("{what} {v}")),
        human_bytes(size),
        method,
        method.category()
    ));
    let started_at = now_rfc3339();
    let nvme_id = identify.and_then(Result::ok);
    let nsid = match &target.kind {
        TargetKind::Nvme { .. } => {
            tractorsec_sys::nvme::namespace_id(std::os::fd::AsFd::as_fd(&dev))
                .with_context(|| format!("{}: namespace id", target.path))?
        }
        _ => 0,
    };
    let plan = Plan {
        method,
        size,
        samples,
        filler_seed,
        nvme: match (controller.as_mut(), nvme_id.as_ref()) {
            (Some(c), Some(id)) if method.is_nvme_command() => {
                Some((c as &mut dyn admin::NvmeAdmin, id, nsid))
            }
            _ => None,
        },
    };
    let progress = TerminalProgress::new(out);
    let outcome =
        erase::execute(&dev, plan, &mut SystemClock::new(), &progress).with_context(|| {
            format!(
                "erasing {} failed; its contents are now undefined",
                target.path
            )
        })?;
    progress.clear();
    let verified = outcome.verification.passed();
    let cert = Certificate {
        format: FORMAT.into(),
        result: if verified {
            "erased"
        } else {
            "verification_failed"
        }
        .into(),
        tool: Tool {
            name: "tractorsec".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        host: host_identity(),
        operator: operator(args.operator.as_deref()),
        started_at,
        finished_at: now_rfc3339(),
        device: target,
        nvme_identify: nvme_id,
        sanitization: outcome.sanitization,
        sanitize_log: outcome.sanitize_log,
        verification: outcome.verification,
    };
    out.emit(&cert.to_json())?;
    if let Some(key) = &args.key {
        let comment = super::signing::trusted_comment(
            "erase-certificate",
            cert.host.hostname.as_deref(),
            None,
            &cert.finished_at,
        );
        let comment = format!(
            "{comment} device:{} result:{}",
            cert.device.identity().map_or("none", |(_, v)| v),
            cert.result
        );
        super::signing::sign_output(key, out, &comment.replace(['\n', '\r'], " "))?;
    }
    out.note(&summary(&cert));
    Ok(if verified {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn requested(m: EraseMethod) -> Requested {
    match m {
        EraseMethod::Auto => Requested::Auto,
        EraseMethod::Crypto => Requested::Crypto,
        EraseMethod::Block => Requested::Block,
        EraseMethod::Overwrite => Requested::Overwrite,
        EraseMethod::Zero => Requested::Zero,
    }
}

/// `erase verify-cert`: the signature over the exact bytes, then what
/// they say.
fn verify_cert(cert: &Path, pubkey: &Path, out: &Output) -> Result<ExitCode> {
    let bytes = std::fs::read(cert).with_context(|| format!("cannot read {}", cert.display()))?;
    let signature = tractorsec_evidence::signature_path(cert);
    let verified = tractorsec_evidence::verify_bytes(&bytes, &signature, pubkey)
        .with_context(|| format!("{}: signature check failed", cert.display()))?;
    let comment = verified.trusted_comment();
    if !comment.contains(" erase-certificate ") {
        bail!(
            "{}: the signature is valid but its trusted comment does not describe an erase certificate: {comment}",
            cert.display()
        );
    }
    let parsed = Certificate::parse(&bytes, &cert.display().to_string())?;
    out.emit(&format!(
        "signature valid: {} signed by key {}\ntrusted comment: {comment}\n{}",
        cert.display(),
        verified.key_id(),
        summary(&parsed)
    ))?;
    Ok(if parsed.erased() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// What a certificate says, for people.
fn summary(c: &Certificate) -> String {
    let d = &c.device;
    let v = &c.verification;
    let s = &c.sanitization;
    let command = s.command.as_ref().map_or(String::new(), |c| {
        format!(" (opcode {}, nsid {}, cdw10 {})", c.opcode, c.nsid, c.cdw10)
    });
    format!(
        "device: {} ({}) model {} {} size {}\n\
         method: {}{command}: {}, {}\n\
         verification: {} of {} samples ({} random + first and last, seed {}) expected {}; {} mismatches, {} inconclusive: {}\n\
         operator: {} (uid {}) on {} from {} to {}\n\
         result: {}\n",
        d.path,
        d.name,
        d.model.as_deref().unwrap_or("-"),
        d.identity()
            .map_or("without identity".into(), |(what, v)| format!("{what} {v}")),
        human_bytes(d.size_bytes),
        s.method,
        s.category,
        s.standard,
        v.method,
        v.samples_read,
        v.random_samples,
        v.seed,
        v.expected,
        v.mismatches,
        v.inconclusive,
        v.result,
        c.operator.name,
        c.operator.uid,
        c.host.hostname.as_deref().unwrap_or("unknown host"),
        c.started_at,
        c.finished_at,
        c.result
    )
}

/// The host as `facts` identifies it, and this boot.
fn host_identity() -> HostIdentity {
    let host = tractorsec_facts::collect::host::collect(&Root::live());
    let host = host.ok();
    HostIdentity {
        hostname: host.and_then(|h| h.hostname.clone()),
        machine_id: host.and_then(|h| h.machine_id.clone()),
        boot_id: std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
            .ok()
            .map(|s| s.trim().to_string()),
    }
}

/// `--operator`, else `SUDO_USER`, else the effective user's name (the
/// owner of `/proc/self`, looked up in `/etc/passwd`).
fn operator(given: Option<&str>) -> Operator {
    use std::os::unix::fs::MetadataExt;
    let uid = std::fs::metadata("/proc/self").map_or(u32::MAX, |m| m.uid());
    let from_passwd = || {
        let text = std::fs::read_to_string("/etc/passwd").ok()?;
        let accounts = tractorsec_facts::collect::passwd::parse(&text, "/etc/passwd").ok()?;
        accounts.into_iter().find(|a| a.uid == uid).map(|a| a.name)
    };
    let name = given
        .map(str::to_string)
        .or_else(|| std::env::var("SUDO_USER").ok())
        .or_else(from_passwd)
        .unwrap_or_else(|| format!("uid {uid}"));
    Operator { name, uid }
}

/// A percentage line on stderr, redrawn at most every 200 ms, only when
/// stderr is a terminal.
struct TerminalProgress {
    shown: bool,
    last: Mutex<Option<Instant>>,
}

impl TerminalProgress {
    fn new(out: &Output) -> Self {
        Self {
            shown: !out.quiet && std::io::stderr().is_terminal(),
            last: Mutex::new(None),
        }
    }

    fn clear(&self) {
        if self.shown {
            eprint!("\r\x1b[2K");
        }
    }
}

impl Progress for TerminalProgress {
    fn report(&self, phase: &str, fraction: f64) {
        if !self.shown {
            return;
        }
        let Ok(mut last) = self.last.lock() else {
            return;
        };
        if last.is_some_and(|t| t.elapsed() < Duration::from_millis(200)) && fraction < 1.0 {
            return;
        }
        *last = Some(Instant::now());
        eprint!("\r\x1b[2K{phase} {:5.1}%", fraction * 100.0);
    }
}
