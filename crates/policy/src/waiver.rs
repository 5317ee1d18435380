//! Waivers: accepted risks with an owner and an expiry date.

use crate::profile::Profile;
use serde::{Deserialize, Serialize};

/// One accepted risk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Waiver {
    /// Control id waived.
    pub control: String,
    /// Why the risk is accepted.
    pub reason: String,
    /// Who owns the risk.
    pub owner: String,
    /// Last day the waiver is valid, `YYYY-MM-DD`.
    pub expires: String,
}

/// A waivers file: `[[waiver]]` tables.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Waivers {
    /// The waivers.
    #[serde(default)]
    pub waiver: Vec<Waiver>,
}

/// The file as written, with the position of each waiver.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWaivers {
    #[serde(default)]
    waiver: Vec<RawWaiver>,
}

/// A waiver as written; the control's position names the line in errors.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWaiver {
    control: toml::Spanned<String>,
    reason: String,
    owner: String,
    expires: String,
}

/// A waivers file is invalid.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct WaiverError {
    /// The file.
    pub file: String,
    /// 1-based line (0 when unknown).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl Waivers {
    /// Parse a waivers file and check it against the profile: every waiver
    /// names a known control, has a reason and owner, and a valid date.
    pub fn parse(file: &str, text: &str, profile: &Profile) -> Result<Waivers, WaiverError> {
        let err = |line, message: String| WaiverError {
            file: file.to_string(),
            line,
            message,
        };
        let line_of = |offset: usize| {
            text.get(..offset)
                .map_or(0, |t| t.matches('\n').count() + 1)
        };
        let raw: RawWaivers = toml::from_str(text).map_err(|e| {
            err(
                e.span().map_or(0, |s| line_of(s.start)),
                e.message().to_string(),
            )
        })?;
        let mut waivers = Waivers::default();
        for raw in raw.waiver {
            let line = line_of(raw.control.span().start);
            let w = Waiver {
                control: raw.control.into_inner(),
                reason: raw.reason,
                owner: raw.owner,
                expires: raw.expires,
            };
            if profile.control(&w.control).is_none() {
                return Err(err(
                    line,
                    format!("waiver names unknown control {:?}", w.control),
                ));
            }
            if w.reason.trim().is_empty() || w.owner.trim().is_empty() {
                return Err(err(
                    line,
                    format!("waiver for {} needs a reason and an owner", w.control),
                ));
            }
            if !valid_date(&w.expires) {
                return Err(err(
                    line,
                    format!(
                        "waiver for {}: expires {:?} is not YYYY-MM-DD",
                        w.control, w.expires
                    ),
                ));
            }
            waivers.waiver.push(w);
        }
        Ok(waivers)
    }

    /// The waiver for a control.
    pub fn find(&self, control: &str) -> Option<&Waiver> {
        self.waiver.iter().find(|w| w.control == control)
    }
}

fn valid_date(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return false;
    };
    let num = |p: &str, len| p.len() == len && p.bytes().all(|b| b.is_ascii_digit());
    if !(num(y, 4) && num(m, 2) && num(d, 2)) {
        return false;
    }
    let (m, d): (u32, u32) = (m.parse().unwrap_or(0), d.parse().unwrap_or(0));
    (1..=12).contains(&m) && (1..=31).contains(&d)
}
