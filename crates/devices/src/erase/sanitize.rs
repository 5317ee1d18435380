//! Running an NVMe Sanitize to the end, as nvme-cli's `sanitize --wait`
//! does (reference §A1, "Polling"): check the capability, refuse when one
//! is already running, send the command, then read the Sanitize Status log
//! once a second until SPROG says done. Progress going backwards is an
//! error, and so is no progress for longer than the drive's own estimate.
//! Also Format NVM with cryptographic erase, which completes synchronously.

use std::time::{Duration, Instant};

use crate::nvme::admin::{self, AdminError, NvmeAdmin};
use crate::nvme::command::{self, AdminCommand, FormatNvm, SanitizeAction, SecureErase};
use crate::nvme::identify::IdentifyController;
use crate::nvme::sanitize_log::SanitizeStatus;

/// How long without progress is tolerated when the drive reports no
/// estimate for the operation.
pub const NO_ESTIMATE_LIMIT: Duration = Duration::from_secs(3600);
/// Time between two reads of the Sanitize Status log.
pub const POLL_INTERVAL: Duration = Duration::from_secs(1);
/// Timeout given to the kernel for Format NVM (User Data or Crypto Erase
/// can take minutes).
pub const FORMAT_TIMEOUT_MS: u32 = 3_600_000;

/// Time as the state machine sees it: the real clock, or a fake one that
/// advances when it "sleeps".
pub trait Clock {
    /// Time since some fixed start.
    fn elapsed(&self) -> Duration;
    /// Wait.
    fn sleep(&mut self, d: Duration);
}

/// The wall clock.
pub struct SystemClock(Instant);

impl SystemClock {
    /// A clock starting now.
    #[must_use]
    pub fn new() -> Self {
        Self(Instant::now())
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    fn elapsed(&self) -> Duration {
        self.0.elapsed()
    }
    fn sleep(&mut self, d: Duration) {
        std::thread::sleep(d);
    }
}

/// Why a sanitize did not complete.
#[derive(Debug, thiserror::Error)]
pub enum SanitizeError {
    /// SANICAP does not offer the action.
    #[error("the controller does not support {0} (SANICAP 0x{1:08x})")]
    CapabilityMissing(&'static str, u32),
    /// Another sanitize is running.
    #[error(
        "a sanitize is already in progress ({0:.1}% done); wait for it or check `nvme sanitize-log`"
    )]
    AlreadyInProgress(f64),
    /// The command could not be encoded.
    #[error("encoding {0}: {1}")]
    Encode(&'static str, command::CommandError),
    /// An admin command failed.
    #[error("{step}: {source}")]
    Admin {
        /// What was being done.
        step: &'static str,
        /// Why it failed.
        source: AdminError,
    },
    /// The drive reports the sanitize failed.
    #[error("the drive reports the sanitize failed (SSTAT 0x{:04x}); the controller stays in sanitize failure mode until another sanitize succeeds", .0.sstat)]
    Failed(Box<SanitizeStatus>),
    /// SPROG went down.
    #[error("sanitize progress went backwards, from {from} to {to} (of 65536)")]
    Backwards {
        /// Earlier progress.
        from: u16,
        /// Later, smaller progress.
        to: u16,
    },
    /// SPROG did not move for longer than the estimate.
    #[error(
        "no sanitize progress for {stalled_s} s (stuck at {progress} of 65536), past the drive's limit of {limit_s} s"
    )]
    Stalled {
        /// Progress it is stuck at.
        progress: u16,
        /// Seconds without progress.
        stalled_s: u64,
        /// The limit (the drive's estimate, or [`NO_ESTIMATE_LIMIT`]).
        limit_s: u64,
    },
}

/// A sanitize that completed.
#[derive(Debug, Clone)]
pub struct Completed {
    /// The command sent.
    pub command: AdminCommand,
    /// The Sanitize Status log once done.
    pub final_log: SanitizeStatus,
    /// The drive's estimate in seconds, when it gave one.
    pub estimate_s: Option<u32>,
    /// Log reads after the command.
    pub polls: u32,
}

fn admin_err(step: &'static str) -> impl FnOnce(AdminError) -> SanitizeError {
    move |source| SanitizeError::Admin { step, source }
}

/// Run `action` on the controller behind `ctrl` until it completes.
/// `progress` gets the fraction done (0.0–1.0) after every poll.
pub fn sanitize(
    ctrl: &mut dyn NvmeAdmin,
    source: &str,
    identify: &IdentifyController,
    action: SanitizeAction,
    clock: &mut dyn Clock,
    progress: &mut dyn FnMut(f64),
) -> Result<Completed, SanitizeError> {
    let caps = identify.sanicap;
    let (supported, what) = match action {
        SanitizeAction::CryptoErase => (caps.crypto_erase(), "Sanitize Crypto Erase"),
        SanitizeAction::BlockErase => (caps.block_erase(), "Sanitize Block Erase"),
        SanitizeAction::Overwrite { .. } => (caps.overwrite(), "Sanitize Overwrite"),
        SanitizeAction::ExitFailureMode => (true, "Exit Failure Mode"),
    };
    if !supported {
        return Err(SanitizeError::CapabilityMissing(what, caps.0));
    }
    let before = admin::sanitize_status(ctrl, source).map_err(admin_err(
        "reading the Sanitize Status log before sanitizing",
    ))?;
    if let Some(p) = before.progress {
        return Err(SanitizeError::AlreadyInProgress(f64::from(p) / 655.36));
    }
    let command = command::sanitize(&command::Sanitize {
        action,
        // Unrestricted completion: a failure can be left with Exit
        // Failure Mode instead of locking the drive until a sanitize succeeds.
        allow_unrestricted_exit: true,
        no_deallocate: false,
    })
    .map_err(|e| SanitizeError::Encode("Sanitize", e))?;
    ctrl.execute(&command, &mut [])
        .map_err(admin_err("sending Sanitize"))?;
    let estimate_s = before.estimate_for(command.cdw10);
    let limit = estimate_s.map_or(NO_ESTIMATE_LIMIT, |s| Duration::from_secs(s.into()));
    let mut last = 0u16;
    let mut last_change = clock.elapsed();
    let mut polls = 0u32;
    loop {
        let log = admin::sanitize_status(ctrl, source)
            .map_err(admin_err("reading the Sanitize Status log"))?;
        polls += 1;
        let now = clock.elapsed();
        match log.progress {
            None => {
                progress(1.0);
                if !log.result.succeeded() {
                    return Err(SanitizeError::Failed(Box::new(log)));
                }
                return Ok(Completed {
                    command,
                    final_log: log,
                    estimate_s,
                    polls,
                });
            }
            Some(p) if p < last => return Err(SanitizeError::Backwards { from: last, to: p }),
            Some(p) => {
                if p > last {
                    last = p;
                    last_change = now;
                } else if now - last_change > limit {
                    return Err(SanitizeError::Stalled {
                        progress: p,
                        stalled_s: (now - last_change).as_secs(),
                        limit_s: limit.as_secs(),
                    });
                }
                progress(f64::from(p) / 65536.0);
            }
        }
        clock.sleep(POLL_INTERVAL);
    }
}

/// Format NVM with Secure Erase Setting 2 on namespace `nsid` (or all,
/// `0xFFFFFFFF`), after checking FNA bit 2 says the drive supports it.
pub fn format_crypto_erase(
    ctrl: &mut dyn NvmeAdmin,
    identify: &IdentifyController,
    nsid: u32,
) -> Result<AdminCommand, SanitizeError> {
    if !(identify.oacs.format_nvm() && identify.fna.crypto_erase_supported()) {
        return Err(SanitizeError::CapabilityMissing(
            "Format NVM with cryptographic erase (OACS bit 1 and FNA bit 2)",
            identify.sanicap.0,
        ));
    }
    let command = command::format_nvm(&FormatNvm {
        nsid,
        lba_format: 0,
        metadata_extended: false,
        protection_info: 0,
        pi_first: false,
        secure_erase: SecureErase::Cryptographic,
    })
    .map_err(|e| SanitizeError::Encode("Format NVM", e))?
    .with_timeout_ms(FORMAT_TIMEOUT_MS);
    ctrl.execute(&command, &mut [])
        .map_err(admin_err("sending Format NVM"))?;
    Ok(command)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::nvme::identify::tests::build as identify_bytes;
    use crate::nvme::sanitize_log::tests::build as log_bytes;
    use std::collections::VecDeque;

    /// A controller that answers Identify from canned bytes, Get Log Page
    /// 0x81 from a script (the last entry repeats), and records every
    /// command; Sanitize and Format complete with `status`, after running
    /// `media` (what the drive does to its data).
    pub(crate) struct FakeController {
        pub(crate) identify: Vec<u8>,
        pub(crate) logs: VecDeque<Vec<u8>>,
        pub(crate) status: u32,
        pub(crate) sent: Vec<AdminCommand>,
        pub(crate) media: Box<dyn FnMut(&AdminCommand)>,
    }

    impl NvmeAdmin for FakeController {
        fn execute(&mut self, cmd: &AdminCommand, data: &mut [u8]) -> Result<(), AdminError> {
            self.sent.push(*cmd);
            match cmd.opcode {
                command::OPCODE_IDENTIFY => data.copy_from_slice(&self.identify),
                command::OPCODE_GET_LOG_PAGE => {
                    let log = if self.logs.len() > 1 {
                        self.logs.pop_front()
                    } else {
                        self.logs.front().cloned()
                    };
                    data.copy_from_slice(&log.unwrap_or_else(|| vec![0; 512]));
                }
                command::OPCODE_SANITIZE | command::OPCODE_FORMAT_NVM if self.status != 0 => {
                    return Err(AdminError::Status(self.status));
                }
                command::OPCODE_SANITIZE | command::OPCODE_FORMAT_NVM => (self.media)(cmd),
                _ => return Err(AdminError::Status(0x01)),
            }
            Ok(())
        }
    }

    /// Virtual time: sleeping advances it.
    pub(crate) struct FakeClock(pub(crate) Duration);

    impl Clock for FakeClock {
        fn elapsed(&self) -> Duration {
            self.0
        }
        fn sleep(&mut self, d: Duration) {
            self.0 += d;
        }
    }

    /// Crypto-erase estimate of 10 s; idle log, then `script` of
    /// (SPROG, SSTAT) after the command.
    pub(crate) fn controller(sanicap: u32, script: &[(u16, u16)]) -> FakeController {
        let est = [60, 30, 10, 60, 30, 10, u32::MAX];
        let mut logs = VecDeque::from([log_bytes(0xFFFF, 0, 0, est, 0)]);
        logs.extend(
            script
                .iter()
                .map(|&(sprog, sstat)| log_bytes(sprog, sstat, 0xC, est, 0)),
        );
        FakeController {
            identify: identify_bytes("SN1", "Fake NVMe", "1.0", 0x2, sanicap, 0x4),
            logs,
            status: 0,
            sent: Vec::new(),
            media: Box::new(|_| {}),
        }
    }

    fn run(
        ctrl: &mut FakeController,
        action: SanitizeAction,
    ) -> (Result<Completed, SanitizeError>, Vec<f64>, Duration) {
        let id = admin::identify(ctrl, "fake").expect("identify");
        let mut clock = FakeClock(Duration::ZERO);
        let mut seen = Vec::new();
        let got = sanitize(ctrl, "fake", &id, action, &mut clock, &mut |p| seen.push(p));
        (got, seen, clock.0)
    }

    #[test]
    fn success_polls_until_done_and_keeps_the_final_log() {
        let mut ctrl = controller(0b111, &[(0, 2), (16384, 2), (49152, 2), (0xFFFF, 1)]);
        let (got, seen, _) = run(&mut ctrl, SanitizeAction::CryptoErase);
        let done = got.expect("completes");
        assert_eq!(done.command.cdw10, 0x0000_000C, "crypto erase with AUSE");
        assert_eq!(done.polls, 4);
        assert_eq!(done.estimate_s, Some(10));
        assert!(done.final_log.result.succeeded());
        assert_eq!(seen, [0.0, 0.25, 0.75, 1.0]);
        let sanitizes = ctrl.sent.iter().filter(|c| c.opcode == 0x84).count();
        assert_eq!(sanitizes, 1);
    }

    #[test]
    fn a_failed_sanitize_is_an_error() {
        let mut ctrl = controller(0b111, &[(100, 2), (0xFFFF, 3)]);
        let (got, _, _) = run(&mut ctrl, SanitizeAction::CryptoErase);
        assert!(matches!(got, Err(SanitizeError::Failed(log)) if log.sstat == 3));
    }

    #[test]
    fn progress_going_backwards_is_an_error() {
        let mut ctrl = controller(0b111, &[(100, 2), (30000, 2), (20000, 2), (0xFFFF, 1)]);
        let (got, _, _) = run(&mut ctrl, SanitizeAction::CryptoErase);
        assert!(
            matches!(
                got,
                Err(SanitizeError::Backwards {
                    from: 30000,
                    to: 20000
                })
            ),
            "{got:?}"
        );
    }

    #[test]
    fn no_progress_past_the_estimate_times_out() {
        // Stuck at 1000 forever; the crypto erase estimate is 10 s.
        let mut ctrl = controller(0b111, &[(1000, 2)]);
        let (got, _, elapsed) = run(&mut ctrl, SanitizeAction::CryptoErase);
        match got {
            Err(SanitizeError::Stalled {
                progress,
                stalled_s,
                limit_s,
            }) => {
                assert_eq!((progress, limit_s), (1000, 10));
                assert!(stalled_s > 10);
            }
            other => panic!("expected a stall, got {other:?}"),
        }
        assert!(
            elapsed <= Duration::from_secs(12),
            "gave up late: {elapsed:?}"
        );
    }

    #[test]
    fn slow_but_moving_progress_is_not_a_stall() {
        let script: Vec<(u16, u16)> = (1..=40)
            .map(|i| (i * 1000, 2))
            .chain([(0xFFFF, 1)])
            .collect();
        let mut ctrl = controller(0b111, &script);
        let (got, _, elapsed) = run(&mut ctrl, SanitizeAction::CryptoErase);
        assert!(got.is_ok(), "{got:?}");
        assert!(
            elapsed > Duration::from_secs(10),
            "ran past the estimate while moving"
        );
    }

    #[test]
    fn a_missing_capability_sends_nothing() {
        let mut ctrl = controller(0b010, &[(0xFFFF, 1)]);
        let (got, _, _) = run(&mut ctrl, SanitizeAction::CryptoErase);
        assert!(matches!(
            got,
            Err(SanitizeError::CapabilityMissing("Sanitize Crypto Erase", 2))
        ));
        assert!(ctrl.sent.iter().all(|c| c.opcode != 0x84));
    }

    #[test]
    fn a_sanitize_already_running_is_left_alone() {
        let mut ctrl = controller(0b111, &[]);
        ctrl.logs = VecDeque::from([log_bytes(32768, 2, 0xC, [0; 7], 0)]);
        let (got, _, _) = run(&mut ctrl, SanitizeAction::CryptoErase);
        assert!(matches!(got, Err(SanitizeError::AlreadyInProgress(p)) if (p - 50.0).abs() < 0.1));
        assert!(ctrl.sent.iter().all(|c| c.opcode != 0x84));
    }

    #[test]
    fn a_rejected_command_names_the_status() {
        let mut ctrl = controller(0b111, &[(0xFFFF, 1)]);
        ctrl.status = 0x1D;
        let (got, _, _) = run(&mut ctrl, SanitizeAction::BlockErase);
        let err = got.expect_err("rejected").to_string();
        assert!(
            err.contains("sending Sanitize") && err.contains("Sanitize Failed"),
            "{err}"
        );
    }

    #[test]
    fn format_crypto_erase_needs_fna_bit_2() {
        let mut ctrl = controller(0, &[]);
        let id = admin::identify(&mut ctrl, "fake").expect("identify");
        let cmd = format_crypto_erase(&mut ctrl, &id, 0xFFFF_FFFF).expect("format");
        assert_eq!(
            (cmd.opcode, cmd.cdw10, cmd.nsid),
            (0x80, 0x400, 0xFFFF_FFFF)
        );
        ctrl.identify = identify_bytes("SN1", "Fake", "1.0", 0x2, 0, 0x1);
        let id = admin::identify(&mut ctrl, "fake").expect("identify");
        assert!(format_crypto_erase(&mut ctrl, &id, 1).is_err());
        assert_eq!(ctrl.sent.iter().filter(|c| c.opcode == 0x80).count(), 1);
    }
}
