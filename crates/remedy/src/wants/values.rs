//! Values that satisfy a scalar matcher: what to write so that a check of a
//! sysctl, a command-line parameter, an sshd or journald keyword or an
//! NVIDIA driver parameter passes.

use tractorsec_policy::{Matcher, Scalar, Subject};

/// How a boolean literal is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bools {
    /// `1` / `0` (sysctl, kernel parameters, driver options).
    Digits,
    /// `yes` / `no` (sshd, journald).
    Words,
}

/// What a value may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shape {
    /// How booleans are written.
    pub bools: Bools,
    /// Whether "absent" (remove the setting) is a possible answer.
    pub absent_ok: bool,
    /// Whether the empty value (a bare kernel flag) is a possible answer.
    pub empty_ok: bool,
}

impl Shape {
    /// A setting that must have a non-empty value (sysctl, driver option).
    pub const VALUE: Shape = Shape {
        bools: Bools::Digits,
        absent_ok: false,
        empty_ok: false,
    };
    /// A keyword of a configuration file (sshd, journald).
    pub const WORD: Shape = Shape {
        bools: Bools::Words,
        absent_ok: false,
        empty_ok: false,
    };
    /// A kernel command-line parameter: a value, a bare flag, or removed.
    pub const CMDLINE: Shape = Shape {
        bools: Bools::Digits,
        absent_ok: true,
        empty_ok: true,
    };
}

/// A literal as it is written into a setting.
pub(crate) fn literal(s: &Scalar, bools: Bools) -> String {
    match (s, bools) {
        (Scalar::Int(i), _) => i.to_string(),
        (Scalar::Bool(b), Bools::Digits) => if *b { "1" } else { "0" }.to_string(),
        (Scalar::Bool(b), Bools::Words) => if *b { "yes" } else { "no" }.to_string(),
        (Scalar::Str(s), _) => s.clone(),
    }
}

/// An integer in decimal or `0x` hexadecimal (the first field of a
/// multi-field value), as the matchers read it.
pub(crate) fn parse_int(value: &str) -> Option<i64> {
    let first = value.split_whitespace().next()?;
    match first.strip_prefix("0x") {
        Some(hex) => i64::from_str_radix(hex, 16).ok(),
        None => first.parse().ok(),
    }
}

/// Candidate values for `m`, best first; `None` means "absent".
///
/// - `equals v` → `v`; `one_of [a, b]` → `a`, then `b`;
/// - `at_least n` / `at_most n` → `n`;
/// - `absent` → absent; `present` → the empty value (a bare flag);
/// - `not …` → absent (removing the setting);
/// - `bits_clear [..]` → the current value with those bits cleared;
/// - `all [..]` → the children's candidates, upper bounds (`at_most`)
///   first: of a range, the loosest limit that still holds is the least
///   disruptive change (`oops_limit` in `[1, 100]` → 100);
/// - `any [..]` → the children's candidates in order;
/// - anything else (regex, lists, files) → none.
fn candidates(m: &Matcher, current: Option<&str>, bools: Bools) -> Vec<Option<String>> {
    match m {
        Matcher::Equals(s) => vec![Some(literal(s, bools))],
        Matcher::OneOf(ss) => ss.iter().map(|s| Some(literal(s, bools))).collect(),
        Matcher::AtLeast(n) | Matcher::AtMost(n) => vec![Some(n.to_string())],
        Matcher::Absent | Matcher::Not(_) => vec![None],
        Matcher::Present => vec![Some(String::new())],
        Matcher::BitsClear(bits) => {
            let Some(v) = current.and_then(parse_int) else {
                return Vec::new();
            };
            let mask = bits
                .iter()
                .filter(|b| **b < 63)
                .fold(0i64, |acc, b| acc | (1 << b));
            vec![Some((v & !mask).to_string())]
        }
        Matcher::All(ms) => {
            let upper = ms.iter().filter(|m| matches!(m, Matcher::AtMost(_)));
            let rest = ms.iter().filter(|m| !matches!(m, Matcher::AtMost(_)));
            upper
                .chain(rest)
                .flat_map(|m| candidates(m, current, bools))
                .collect()
        }
        Matcher::Any(ms) => ms
            .iter()
            .flat_map(|m| candidates(m, current, bools))
            .collect(),
        _ => Vec::new(),
    }
}

/// The value to set so that `m` holds (`Ok(None)`: remove the setting), or
/// why there is none. Every answer is checked against the matcher itself.
pub(crate) fn value_for(
    m: &Matcher,
    current: Option<&str>,
    shape: Shape,
) -> Result<Option<String>, String> {
    candidates(m, current, shape.bools)
        .into_iter()
        .filter(|c| match c {
            None => shape.absent_ok,
            Some(v) if v.is_empty() => shape.empty_ok,
            Some(_) => true,
        })
        .find(|c| m.matches(Subject::Scalar(c.as_deref())) == Ok(true))
        .ok_or_else(|| format!("no value follows from `{m}`"))
}

#[cfg(test)]
mod tests {
    use super::super::testing::m;
    use super::*;

    fn v(text: &str, current: Option<&str>, shape: Shape) -> Result<Option<String>, String> {
        value_for(&m(text), current, shape)
    }

    #[test]
    fn equals_gives_the_literal_with_booleans_as_the_setting_writes_them() {
        assert_eq!(
            v(r#"{"equals": 2}"#, Some("0"), Shape::VALUE),
            Ok(Some("2".into()))
        );
        assert_eq!(
            v(r#"{"equals": true}"#, None, Shape::VALUE),
            Ok(Some("1".into()))
        );
        assert_eq!(
            v(r#"{"equals": false}"#, None, Shape::WORD),
            Ok(Some("no".into()))
        );
        assert_eq!(
            v(r#"{"equals": true}"#, None, Shape::WORD),
            Ok(Some("yes".into()))
        );
        assert_eq!(
            v(r#"{"equals": "persistent"}"#, None, Shape::WORD),
            Ok(Some("persistent".into()))
        );
    }

    #[test]
    fn one_of_gives_the_first_and_bounds_give_the_bound() {
        assert_eq!(
            v(
                r#"{"one_of": ["integrity", "confidentiality"]}"#,
                None,
                Shape::CMDLINE
            ),
            Ok(Some("integrity".into()))
        );
        assert_eq!(
            v(r#"{"at_least": 3}"#, Some("-1"), Shape::VALUE),
            Ok(Some("3".into()))
        );
        assert_eq!(
            v(r#"{"at_most": 0}"#, Some("15493"), Shape::VALUE),
            Ok(Some("0".into()))
        );
    }

    #[test]
    fn a_range_gives_its_upper_bound() {
        let range = r#"{"all": [{"at_least": 1}, {"at_most": 100}]}"#;
        assert_eq!(
            v(range, Some("10000"), Shape::VALUE),
            Ok(Some("100".into()))
        );
        assert_eq!(v(range, Some("0"), Shape::VALUE), Ok(Some("100".into())));
        // An empty range has no answer.
        let empty = r#"{"all": [{"at_least": 5}, {"at_most": 2}]}"#;
        assert!(v(empty, None, Shape::VALUE).is_err());
    }

    #[test]
    fn absent_present_and_not_on_the_command_line() {
        assert_eq!(v(r#""absent""#, Some(""), Shape::CMDLINE), Ok(None));
        assert_eq!(
            v(r#""present""#, None, Shape::CMDLINE),
            Ok(Some(String::new()))
        );
        assert_eq!(
            v(r#"{"not": {"equals": "off"}}"#, Some("off"), Shape::CMDLINE),
            Ok(None)
        );
        // Neither removal nor an empty value is a sysctl value.
        assert!(v(r#""absent""#, Some("1"), Shape::VALUE).is_err());
        assert!(v(r#"{"not": {"equals": 0}}"#, Some("0"), Shape::VALUE).is_err());
    }

    #[test]
    fn bits_clear_clears_the_bits_of_the_current_value() {
        let clear = r#"{"bits_clear": [0, 1, 2]}"#;
        assert_eq!(v(clear, Some("438"), Shape::VALUE), Ok(Some("432".into())));
        assert!(v(clear, None, Shape::VALUE).is_err());
    }

    #[test]
    fn an_sshd_site_value_has_no_answer() {
        let site = r#"{"all": ["present", {"not": {"equals": "none"}}]}"#;
        assert!(v(site, Some("none"), Shape::WORD).is_err());
        assert!(v(r#"{"regex": "^hidepid=2$"}"#, None, Shape::CMDLINE).is_err());
    }
}
