//! Erasing a drive with proof: which device, whether it may be erased
//! ([`refusal`]), how ([`method`]), doing it ([`overwrite`] from the host or
//! NVMe [`sanitize`]), checking it ([`sampling`]) and the signed record
//! ([`certificate`]). Reference *devices-and-images.md*, PART A, §A1–A3.

mod aligned;
pub mod certificate;
pub mod method;
pub mod overwrite;
pub mod pattern;
pub mod refusal;
pub mod sampling;
pub mod sanitize;
pub mod target;
pub mod topology;

use std::fs::File;
use std::time::Instant;

use certificate::{CommandRecord, PatternRecord, Sanitization, WriteRecord};
use method::Method;
use pattern::Fill;
use sampling::{Expect, SamplePlan, Verification};
use sha2::{Digest, Sha256};

use crate::nvme::admin::NvmeAdmin;
use crate::nvme::command::{NSID_ALL, SanitizeAction};
use crate::nvme::identify::IdentifyController;
use crate::nvme::sanitize_log::SanitizeStatus;

/// Open a whole block device for erasing: read-write, `O_DIRECT` (no page
/// cache between us and the drive) and `O_EXCL`, which the kernel refuses
/// while the device is mounted, swap, or held by dm/md, and which keeps it
/// from being mounted or claimed during the erase.
pub fn open_exclusive(path: &std::path::Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_DIRECT | libc::O_EXCL)
        .open(path)
}

/// Everything an erase needs, decided before anything is written.
pub struct Plan<'a> {
    /// The method.
    pub method: Method,
    /// Device size in bytes.
    pub size: u64,
    /// Which units verification reads.
    pub samples: SamplePlan,
    /// Seed of the overwrite pattern's filler.
    pub filler_seed: u64,
    /// The NVMe controller and its Identify data (NVMe methods).
    pub nvme: Option<(&'a mut dyn NvmeAdmin, &'a IdentifyController, u32)>,
}

/// What the erase did and what verification found.
pub struct Outcome {
    /// For the certificate.
    pub sanitization: Sanitization,
    /// The final Sanitize Status log (Sanitize methods).
    pub sanitize_log: Option<SanitizeStatus>,
    /// Verification.
    pub verification: Verification,
}

/// Why an erase stopped.
#[derive(Debug, thiserror::Error)]
pub enum EraseError {
    /// Reading or writing the device failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The NVMe command failed or did not complete.
    #[error(transparent)]
    Sanitize(#[from] sanitize::SanitizeError),
    /// An NVMe method without a controller.
    #[error("method {0:?} needs the NVMe controller")]
    NoController(Method),
}

/// Progress reports: bytes or fraction done, for a terminal.
pub trait Progress: Sync {
    /// `fraction` of `phase` is done.
    fn report(&self, phase: &str, fraction: f64);
}

/// Erase `dev` (the whole device, opened read-write with `O_DIRECT` and
/// `O_EXCL`) as `plan` says, then verify by sampling.
pub fn execute(
    dev: &File,
    plan: Plan<'_>,
    clock: &mut dyn sanitize::Clock,
    progress: &dyn Progress,
) -> Result<Outcome, EraseError> {
    let started = Instant::now();
    let host_fill = match plan.method {
        Method::HostOverwrite => Some(Fill::Pattern(pattern::filler(plan.filler_seed))),
        Method::HostZero => Some(Fill::Zeros),
        _ => None,
    };
    if let Some(fill) = host_fill {
        let size = plan.size.max(1) as f64;
        let written = overwrite::overwrite(dev, plan.size, &fill, &|n| {
            progress.report("writing", n as f64 / size);
        })?;
        let verification = sampling::verify(dev, &plan.samples, &Expect::Fill(fill.clone()))?;
        let pattern = match &fill {
            Fill::Pattern(filler) => Some(PatternRecord {
                unit_bytes: pattern::UNIT as u32,
                stamp: "the unit's byte offset on the device, u64 little-endian".into(),
                filler_seed: format!("{:016x}", plan.filler_seed),
                filler_sha256: tractorsec_facts::text::hex(&Sha256::digest(filler)),
            }),
            Fill::Zeros => None,
        };
        return Ok(Outcome {
            sanitization: record(
                plan.method,
                None,
                Some(WriteRecord {
                    fill: fill.name().into(),
                    pattern,
                    passes: 1,
                    bytes: written.bytes,
                    chunk_bytes: overwrite::CHUNK as u32,
                    queue_depth: overwrite::QUEUE_DEPTH as u32,
                    direct_io: true,
                }),
                written.seconds,
            ),
            sanitize_log: None,
            verification,
        });
    }
    let Some((ctrl, identify, nsid)) = plan.nvme else {
        return Err(EraseError::NoController(plan.method));
    };
    // Crypto and block erase leave whatever the drive returns for erased
    // blocks, so the proof is that every sample changed.
    let before = plan.samples.fingerprints(dev)?;
    let source = format!("controller of namespace {nsid}");
    let (command, log) = if plan.method == Method::FormatCryptoErase {
        let broadcast = !identify.fna.broadcast_nsid_unsupported();
        let target = if broadcast { NSID_ALL } else { nsid };
        progress.report("formatting", 0.0);
        (sanitize::format_crypto_erase(ctrl, identify, target)?, None)
    } else {
        let action = match plan.method {
            Method::SanitizeCryptoErase => SanitizeAction::CryptoErase,
            Method::SanitizeBlockErase => SanitizeAction::BlockErase,
            _ => SanitizeAction::Overwrite {
                passes: 1,
                invert_between_passes: false,
                pattern: 0,
            },
        };
        let done = sanitize::sanitize(ctrl, &source, identify, action, clock, &mut |f| {
            progress.report("sanitizing", f);
        })?;
        (done.command, Some(done.final_log))
    };
    // Drop any cached pages of the old contents before reading back (a
    // regular file, in tests, has no buffer cache of its own: ENOTTY).
    match tractorsec_sys::block::flush_buffers(std::os::fd::AsFd::as_fd(dev)) {
        Err(e) if e.raw_os_error() != Some(libc::ENOTTY) => return Err(e.into()),
        _ => {}
    }
    let seconds = started.elapsed().as_secs_f64();
    let verification = sampling::verify(dev, &plan.samples, &Expect::Changed(before))?;
    Ok(Outcome {
        sanitization: record(
            plan.method,
            Some(CommandRecord::from(&command)),
            None,
            seconds,
        ),
        sanitize_log: log,
        verification,
    })
}

fn record(
    method: Method,
    command: Option<CommandRecord>,
    writes: Option<WriteRecord>,
    seconds: f64,
) -> Sanitization {
    Sanitization {
        method,
        description: method.description().into(),
        category: method.category(),
        standard: certificate::STANDARD.into(),
        command,
        writes,
        seconds,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nvme::admin;
    use crate::nvme::command::OPCODE_SANITIZE;
    use sanitize::tests::{FakeClock, controller};
    use std::time::Duration;

    struct Quiet;
    impl Progress for Quiet {
        fn report(&self, _: &str, _: f64) {}
    }

    /// A 1 MiB "namespace" of patterned data in a temp file, and a fake
    /// controller whose Sanitize runs `media` on that file.
    fn drive(
        media: fn(&std::path::Path),
    ) -> (tempfile::NamedTempFile, sanitize::tests::FakeController) {
        let f = tempfile::NamedTempFile::new().expect("temp");
        let data: Vec<u8> = (0..1u32 << 20).map(|i| (i % 253) as u8).collect();
        std::fs::write(f.path(), data).expect("write");
        let path = f.path().to_path_buf();
        let mut ctrl = controller(0b111, &[(0, 2), (40000, 2), (0xFFFF, 1)]);
        ctrl.media = Box::new(move |cmd| {
            if cmd.opcode == OPCODE_SANITIZE {
                media(&path);
            }
        });
        (f, ctrl)
    }

    fn run(f: &tempfile::NamedTempFile, ctrl: &mut sanitize::tests::FakeController) -> Outcome {
        let id = admin::identify(ctrl, "fake").expect("identify");
        let dev = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(f.path())
            .expect("open");
        let plan = Plan {
            method: Method::SanitizeCryptoErase,
            size: 1 << 20,
            samples: SamplePlan::new(77, 1000, 1 << 20),
            filler_seed: 0,
            nvme: Some((ctrl, &id, 1)),
        };
        execute(&dev, plan, &mut FakeClock(Duration::ZERO), &Quiet).expect("erase runs")
    }

    #[test]
    fn crypto_erase_is_proven_by_every_sample_changing() {
        // The drive throws its key away: the data reads back as noise.
        let (f, mut ctrl) = drive(|p| {
            let mut noise = vec![0u8; 1 << 20];
            noise_fill(&mut noise);
            std::fs::write(p, noise).expect("scramble");
        });
        let out = run(&f, &mut ctrl);
        assert!(out.verification.passed(), "{:?}", out.verification);
        assert_eq!(out.verification.samples_read, 1002);
        let command = out.sanitization.command.expect("command recorded");
        assert_eq!(
            (command.opcode.as_str(), command.cdw10.as_str()),
            ("0x84", "0x0000000c")
        );
        assert!(out.sanitize_log.expect("log").result.succeeded());
        assert_eq!(out.sanitization.category, method::Category::Purge);
    }

    #[test]
    fn a_drive_that_reports_success_but_keeps_the_data_fails_verification() {
        let (f, mut ctrl) = drive(|_| {});
        let out = run(&f, &mut ctrl);
        assert!(!out.verification.passed());
        assert_eq!(out.verification.mismatches, 1002);
    }

    /// Deterministic noise, as a drive with a new key returns.
    fn noise_fill(buf: &mut [u8]) {
        let mut rng = pattern::Xoshiro256::new(0xC0FFEE);
        for chunk in buf.chunks_mut(8) {
            let v = rng.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}
