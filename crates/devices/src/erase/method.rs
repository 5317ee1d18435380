//! Erase methods, how `auto` picks one, and what each is worth under
//! NIST SP 800-88r2 / IEEE 2883-2022 (reference §A3): NVMe Sanitize and
//! Format with cryptographic erase are Purge; writing every logical block
//! from the host is Clear, because it never reaches over-provisioned flash.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::target::{Target, TargetKind};
use crate::nvme::identify::IdentifyController;

/// What the operator asked for (`--method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requested {
    /// The strongest method the device supports.
    Auto,
    /// Cryptographic erase (NVMe Sanitize, else Format with SES=2).
    Crypto,
    /// NVMe Sanitize Block Erase.
    Block,
    /// Overwrite: NVMe Sanitize Overwrite, else a pattern from the host.
    Overwrite,
    /// Zeros written from the host.
    Zero,
}

/// The method an erase runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// NVMe Sanitize, SANACT=4 (Crypto Erase).
    SanitizeCryptoErase,
    /// NVMe Sanitize, SANACT=2 (Block Erase).
    SanitizeBlockErase,
    /// NVMe Format NVM with SES=2 (Cryptographic Erase).
    FormatCryptoErase,
    /// NVMe Sanitize, SANACT=3 (Overwrite), one pass.
    SanitizeOverwrite,
    /// Every logical block written from the host with an offset-stamped
    /// pattern.
    HostOverwrite,
    /// Every logical block written from the host with zeros.
    HostZero,
}

/// NIST SP 800-88 sanitization category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum Category {
    /// Logical techniques on all user-addressable locations.
    Clear,
    /// Recovery infeasible with state-of-the-art laboratory techniques.
    Purge,
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Clear => "Clear",
            Self::Purge => "Purge",
        })
    }
}

impl fmt::Display for Method {
    /// The name the certificate uses (`sanitize-crypto-erase`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::text::serde_name(self))
    }
}

impl Method {
    /// The NIST category it achieves.
    #[must_use]
    pub fn category(self) -> Category {
        match self {
            Self::HostOverwrite | Self::HostZero => Category::Clear,
            _ => Category::Purge,
        }
    }

    /// Whether it runs as an NVMe admin command (else host writes).
    #[must_use]
    pub fn is_nvme_command(self) -> bool {
        !matches!(self, Self::HostOverwrite | Self::HostZero)
    }

    /// One sentence for the certificate and the terminal.
    #[must_use]
    pub fn description(self) -> &'static str {
        match self {
            Self::SanitizeCryptoErase => {
                "NVMe Sanitize Crypto Erase: the drive replaces the media encryption keys of the whole NVM subsystem, including over-provisioned and retired blocks"
            }
            Self::SanitizeBlockErase => {
                "NVMe Sanitize Block Erase: the drive erases every physical block of the whole NVM subsystem, including over-provisioned and retired blocks"
            }
            Self::FormatCryptoErase => {
                "NVMe Format NVM with Secure Erase Setting 2: the drive replaces the media encryption keys of the formatted namespaces"
            }
            Self::SanitizeOverwrite => {
                "NVMe Sanitize Overwrite, one pass: the drive overwrites every physical block of the whole NVM subsystem"
            }
            Self::HostOverwrite => {
                "every logical block written once from the host with an offset-stamped pattern, O_DIRECT, then the write cache flushed; over-provisioned flash is not reached"
            }
            Self::HostZero => {
                "every logical block written once from the host with zeros, O_DIRECT, then the write cache flushed; over-provisioned flash is not reached"
            }
        }
    }
}

/// Why the requested method cannot run on this device.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MethodError {
    /// Crypto and block erase are NVMe commands.
    #[error("--method {0} needs an NVMe drive; {1} is not one (use --method overwrite or zero)")]
    NotNvme(&'static str, String),
    /// The controller does not support it.
    #[error("{device} does not support {wanted}: {why}")]
    Unsupported {
        /// The device.
        device: String,
        /// What was asked.
        wanted: &'static str,
        /// Which capability bits say no.
        why: String,
    },
    /// Identify Controller could not be read, so nothing NVMe-specific can
    /// be chosen safely.
    #[error("{0}: Identify Controller failed ({1}); choose --method overwrite or zero")]
    NoIdentify(String, String),
}

/// Pick the method for `requested` on `target`, whose Identify Controller
/// data is `identify` (NVMe only; `Err` holds why it could not be read).
pub fn choose(
    requested: Requested,
    target: &Target,
    identify: Option<&Result<IdentifyController, String>>,
) -> Result<Method, MethodError> {
    let nvme = matches!(target.kind, TargetKind::Nvme { .. });
    let needs_nvme = |name| {
        if nvme {
            Ok(())
        } else {
            Err(MethodError::NotNvme(name, target.path.clone()))
        }
    };
    match requested {
        Requested::Zero => return Ok(Method::HostZero),
        Requested::Crypto => needs_nvme("crypto")?,
        Requested::Block => needs_nvme("block")?,
        Requested::Auto | Requested::Overwrite if !nvme => return Ok(Method::HostOverwrite),
        Requested::Auto | Requested::Overwrite => {}
    }
    let id = match identify {
        Some(Ok(id)) => id,
        Some(Err(e)) => return Err(MethodError::NoIdentify(target.path.clone(), e.clone())),
        None => {
            return Err(MethodError::NoIdentify(
                target.path.clone(),
                "not read".into(),
            ));
        }
    };
    let (ces, bes, ows) = (
        id.sanicap.crypto_erase(),
        id.sanicap.block_erase(),
        id.sanicap.overwrite(),
    );
    let format_ce = id.oacs.format_nvm() && id.fna.crypto_erase_supported();
    let unsupported = |wanted, why: String| MethodError::Unsupported {
        device: target.path.clone(),
        wanted,
        why,
    };
    Ok(match requested {
        Requested::Auto if ces => Method::SanitizeCryptoErase,
        Requested::Auto if bes => Method::SanitizeBlockErase,
        Requested::Auto if format_ce => Method::FormatCryptoErase,
        Requested::Auto if ows => Method::SanitizeOverwrite,
        Requested::Auto => Method::HostOverwrite,
        Requested::Crypto if ces => Method::SanitizeCryptoErase,
        Requested::Crypto if format_ce => Method::FormatCryptoErase,
        Requested::Crypto => {
            return Err(unsupported(
                "cryptographic erase",
                format!(
                    "SANICAP 0x{:08x} has no Crypto Erase (bit 0), and Format NVM with SES=2 is not offered (OACS bit 1 = {}, FNA bit 2 = {})",
                    id.sanicap.0,
                    u8::from(id.oacs.format_nvm()),
                    u8::from(id.fna.crypto_erase_supported())
                ),
            ));
        }
        Requested::Block if bes => Method::SanitizeBlockErase,
        Requested::Block => {
            return Err(unsupported(
                "block erase",
                format!("SANICAP 0x{:08x} has no Block Erase (bit 1)", id.sanicap.0),
            ));
        }
        Requested::Overwrite if ows => Method::SanitizeOverwrite,
        Requested::Overwrite => Method::HostOverwrite,
        Requested::Zero => Method::HostZero,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nvme::identify::tests::build;

    fn nvme() -> Target {
        Target {
            path: "/dev/nvme0n1".into(),
            name: "nvme0n1".into(),
            dev: "259:0".into(),
            kind: TargetKind::Nvme {
                controller: "nvme0".into(),
            },
            size_bytes: 1 << 40,
            logical_block_size: 4096,
            model: None,
            serial: Some("S".into()),
            firmware: None,
            wwid: None,
            reaches: vec!["nvme0n1".into()],
        }
    }

    fn id(oacs: u16, sanicap: u32, fna: u8) -> Option<Result<IdentifyController, String>> {
        Some(Ok(IdentifyController::parse(
            &build("S", "M", "F", oacs, sanicap, fna),
            "t",
        )
        .expect("parse")))
    }

    #[test]
    fn auto_picks_the_strongest_supported() {
        let t = nvme();
        let pick =
            |oacs, sanicap, fna| choose(Requested::Auto, &t, id(oacs, sanicap, fna).as_ref());
        assert_eq!(pick(0x2, 0b111, 0x4), Ok(Method::SanitizeCryptoErase));
        assert_eq!(pick(0x2, 0b110, 0x4), Ok(Method::SanitizeBlockErase));
        assert_eq!(pick(0x2, 0b100, 0x4), Ok(Method::FormatCryptoErase));
        assert_eq!(
            pick(0x2, 0b100, 0x0),
            Ok(Method::SanitizeOverwrite),
            "FNA b2 clear: no Format CE"
        );
        assert_eq!(
            pick(0x0, 0b100, 0x4),
            Ok(Method::SanitizeOverwrite),
            "no Format NVM at all"
        );
        assert_eq!(pick(0x2, 0, 0), Ok(Method::HostOverwrite));
        assert_eq!(Method::HostOverwrite.category(), Category::Clear);
        assert_eq!(
            Method::SanitizeCryptoErase.to_string(),
            "sanitize-crypto-erase"
        );
        assert_eq!(Method::FormatCryptoErase.category(), Category::Purge);
    }

    #[test]
    fn explicit_methods_need_their_capability() {
        let t = nvme();
        let crypto = choose(Requested::Crypto, &t, id(0x2, 0b010, 0).as_ref());
        let err = crypto.expect_err("no CES, no FNA b2").to_string();
        assert!(
            err.contains("SANICAP 0x00000002 has no Crypto Erase"),
            "{err}"
        );
        assert_eq!(
            choose(Requested::Crypto, &t, id(0x2, 0, 0x4).as_ref()),
            Ok(Method::FormatCryptoErase)
        );
        assert!(choose(Requested::Block, &t, id(0x2, 0b101, 0x4).as_ref()).is_err());
        assert_eq!(
            choose(Requested::Overwrite, &t, id(0, 0, 0).as_ref()),
            Ok(Method::HostOverwrite)
        );
        assert_eq!(choose(Requested::Zero, &t, None), Ok(Method::HostZero));
        let failed = Some(Err("permission denied".to_string()));
        assert!(
            choose(Requested::Auto, &t, failed.as_ref()).is_err(),
            "never guess on NVMe"
        );
    }

    #[test]
    fn other_devices_get_host_writes_only() {
        let mut t = nvme();
        t.kind = TargetKind::Block;
        assert_eq!(choose(Requested::Auto, &t, None), Ok(Method::HostOverwrite));
        assert_eq!(
            choose(Requested::Overwrite, &t, None),
            Ok(Method::HostOverwrite)
        );
        assert_eq!(
            choose(Requested::Crypto, &t, None),
            Err(MethodError::NotNvme("crypto", "/dev/nvme0n1".into()))
        );
        assert!(choose(Requested::Block, &t, None).is_err());
    }
}
