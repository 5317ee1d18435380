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
        let waivers: Waivers = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(0, |s| {
                text[..s.start.min(text.len())].matches('\n').count() + 1
            });
            err(line, e.message().to_string())
        })?;
        for w in &waivers.waiver {
            let line = text
                .lines()
                .position(|l| l.contains(&format!("\"{}\"", w.control)))
                .map_or(0, |i| i + 1);
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
