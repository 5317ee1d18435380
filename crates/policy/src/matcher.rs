//! Typed matchers: what a check expects of an observed value.

use regex::Regex;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A literal in a profile: a string, an integer or a boolean.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Scalar {
    /// An integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
    /// A string.
    Str(String),
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::Int(i) => write!(f, "{i}"),
            Scalar::Bool(b) => f.write_str(if *b { "yes" } else { "no" }),
            Scalar::Str(s) => write!(f, "{s}"),
        }
    }
}

impl Scalar {
    /// True when `value` is this literal: numerically for integers,
    /// case-insensitively for booleans and yes/no words, exactly otherwise.
    fn is(&self, value: &str) -> bool {
        let value = value.trim();
        match self {
            Scalar::Int(i) => parse_int(value) == Some(*i),
            Scalar::Bool(b) => match value.to_ascii_lowercase().as_str() {
                "1" | "y" | "yes" | "true" | "on" => *b,
                "0" | "n" | "no" | "false" | "off" => !*b,
                _ => false,
            },
            Scalar::Str(s) => s == value,
        }
    }
}

/// An integer in decimal or `0x` hexadecimal; for multi-field values
/// (`4 4 1 7`) the first field.
pub(crate) fn parse_int(value: &str) -> Option<i64> {
    let first = value.split_whitespace().next()?;
    match first.strip_prefix("0x") {
        Some(hex) => i64::from_str_radix(hex, 16).ok(),
        None => first.parse().ok(),
    }
}

/// A compiled regular expression that (de)serialises as its source text.
#[derive(Debug, Clone)]
pub struct Pattern(Regex);

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_str() == other.0.as_str()
    }
}

impl<'de> Deserialize<'de> for Pattern {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Regex::new(&s)
            .map(Pattern)
            .map_err(|e| serde::de::Error::custom(format!("bad regex {s:?}: {e}")))
    }
}

impl Serialize for Pattern {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.as_str())
    }
}

impl Pattern {
    /// True when the pattern matches somewhere in `text`.
    pub fn is_match(&self, text: &str) -> bool {
        self.0.is_match(text)
    }

    /// The source text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

/// Permission bits written in octal in a profile (`"0660"`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mode(pub u32);

impl<'de> Deserialize<'de> for Mode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        u32::from_str_radix(&s, 8)
            .ok()
            .filter(|m| *m <= 0o7777)
            .map(Mode)
            .ok_or_else(|| serde::de::Error::custom(format!("bad octal mode {s:?}")))
    }
}

impl Serialize for Mode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{:04o}", self.0))
    }
}

/// What is observed, for a matcher to judge.
#[derive(Debug, Clone, Copy)]
pub enum Subject<'a> {
    /// One value, or none when absent.
    Scalar(Option<&'a str>),
    /// A set of words (mount options, LSMs, CPU flags).
    List(&'a [String]),
    /// A file or device node's ownership and permissions.
    File {
        /// Permission bits.
        mode: u32,
        /// Owner uid.
        uid: u32,
        /// Group gid.
        gid: u32,
        /// Owner name when known.
        owner: Option<&'a str>,
        /// Group name when known.
        group: Option<&'a str>,
    },
}

impl Subject<'_> {
    fn kind(&self) -> &'static str {
        match self {
            Subject::Scalar(_) => "a value",
            Subject::List(_) => "a list",
            Subject::File { .. } => "a file",
        }
    }
}

/// An expectation about a [`Subject`]; in TOML a one-key table
/// (`{ equals = 2 }`, `{ mode_at_most = "0660" }`) or a bare word
/// (`"absent"`, `"present"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Matcher {
    /// The value equals the literal.
    Equals(Scalar),
    /// The value equals one of the literals.
    OneOf(Vec<Scalar>),
    /// The value is an integer ≥ the bound.
    AtLeast(i64),
    /// The value is an integer ≤ the bound.
    AtMost(i64),
    /// The value is absent.
    Absent,
    /// The value is present (any value).
    Present,
    /// The value matches the regular expression.
    Regex(Pattern),
    /// The list holds the word (or the value equals it).
    Contains(String),
    /// The integer value has each of these bit numbers clear.
    BitsClear(Vec<u32>),
    /// The file's permission bits are within these.
    ModeAtMost(Mode),
    /// The file is owned by this user (name or uid).
    Owner(String),
    /// The file's group is this group (name or gid).
    Group(String),
    /// Every matcher holds.
    All(Vec<Matcher>),
    /// At least one matcher holds.
    Any(Vec<Matcher>),
    /// The matcher does not hold.
    Not(Box<Matcher>),
}

impl Matcher {
    /// Judge `subject`; `Err` when this matcher does not apply to it.
    pub fn matches(&self, subject: Subject<'_>) -> Result<bool, String> {
        let wrong = || {
            Err(format!(
                "matcher `{self}` does not apply to {}",
                subject.kind()
            ))
        };
        Ok(match (self, subject) {
            (Matcher::All(ms), _) => {
                for m in ms {
                    if !m.matches(subject)? {
                        return Ok(false);
                    }
                }
                true
            }
            (Matcher::Any(ms), _) => {
                for m in ms {
                    if m.matches(subject)? {
                        return Ok(true);
                    }
                }
                false
            }
            (Matcher::Not(m), _) => !m.matches(subject)?,
            (Matcher::Absent, Subject::Scalar(v)) => v.is_none(),
            (Matcher::Present, Subject::Scalar(v)) => v.is_some(),
            (Matcher::Absent, Subject::List(l)) => l.is_empty(),
            (Matcher::Present, Subject::List(l)) => !l.is_empty(),
            (Matcher::Equals(s), Subject::Scalar(v)) => v.is_some_and(|v| s.is(v)),
            (Matcher::OneOf(ss), Subject::Scalar(v)) => {
                v.is_some_and(|v| ss.iter().any(|s| s.is(v)))
            }
            (Matcher::AtLeast(n), Subject::Scalar(v)) => {
                v.and_then(parse_int).is_some_and(|i| i >= *n)
            }
            (Matcher::AtMost(n), Subject::Scalar(v)) => {
                v.and_then(parse_int).is_some_and(|i| i <= *n)
            }
            (Matcher::Regex(p), Subject::Scalar(v)) => v.is_some_and(|v| p.is_match(v)),
            (Matcher::Regex(p), Subject::List(l)) => l.iter().any(|w| p.is_match(w)),
            (Matcher::Contains(w), Subject::List(l)) => l.iter().any(|x| x == w),
            (Matcher::Contains(w), Subject::Scalar(v)) => {
                v.is_some_and(|v| v.split([' ', ',']).any(|x| x == w))
            }
            (Matcher::BitsClear(bits), Subject::Scalar(v)) => match v.and_then(parse_int) {
                Some(i) => bits.iter().all(|b| *b < 63 && i & (1 << b) == 0),
                None => false,
            },
            (Matcher::ModeAtMost(max), Subject::File { mode, .. }) => mode & !max.0 == 0,
            (Matcher::Owner(o), Subject::File { uid, owner, .. }) => names_id(o, uid, owner),
            (Matcher::Group(g), Subject::File { gid, group, .. }) => names_id(g, gid, group),
            _ => return wrong(),
        })
    }
}

fn names_id(want: &str, id: u32, name: Option<&str>) -> bool {
    match want.parse::<u32>() {
        Ok(n) => n == id,
        Err(_) => name == Some(want),
    }
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let join = |ms: &[Matcher], sep: &str| {
            ms.iter()
                .map(|m| m.to_string())
                .collect::<Vec<_>>()
                .join(sep)
        };
        match self {
            Matcher::Equals(s) => write!(f, "{s}"),
            Matcher::OneOf(ss) => {
                let parts: Vec<String> = ss.iter().map(|s| s.to_string()).collect();
                write!(f, "one of {}", parts.join(", "))
            }
            Matcher::AtLeast(n) => write!(f, ">= {n}"),
            Matcher::AtMost(n) => write!(f, "<= {n}"),
            Matcher::Absent => write!(f, "absent"),
            Matcher::Present => write!(f, "present"),
            Matcher::Regex(p) => write!(f, "matches /{}/", p.as_str()),
            Matcher::Contains(w) => write!(f, "contains {w}"),
            Matcher::BitsClear(b) => {
                let parts: Vec<String> = b.iter().map(|b| b.to_string()).collect();
                write!(f, "bits {} clear", parts.join(","))
            }
            Matcher::ModeAtMost(m) => write!(f, "mode <= {:04o}", m.0),
            Matcher::Owner(o) => write!(f, "owner {o}"),
            Matcher::Group(g) => write!(f, "group {g}"),
            Matcher::All(ms) => write!(f, "({})", join(ms, " and ")),
            Matcher::Any(ms) => write!(f, "({})", join(ms, " or ")),
            Matcher::Not(m) => write!(f, "not {m}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(toml_text: &str) -> Matcher {
        #[derive(Deserialize)]
        struct W {
            expect: Matcher,
        }
        toml::from_str::<W>(toml_text).expect("matcher").expect
    }

    #[test]
    fn equals_compares_integers_numerically() {
        let eq = m("expect = { equals = 2 }");
        assert!(eq.matches(Subject::Scalar(Some("2"))).unwrap());
        assert!(eq.matches(Subject::Scalar(Some(" 2\n"))).unwrap());
        assert!(!eq.matches(Subject::Scalar(Some("1"))).unwrap());
        assert!(!eq.matches(Subject::Scalar(None)).unwrap());
    }

    #[test]
    fn at_least_fails_on_non_numbers_and_absent() {
        let ge = m("expect = { at_least = 2 }");
        assert!(ge.matches(Subject::Scalar(Some("3"))).unwrap());
        assert!(!ge.matches(Subject::Scalar(Some("1"))).unwrap());
        assert!(!ge.matches(Subject::Scalar(Some("abc"))).unwrap());
        assert!(!ge.matches(Subject::Scalar(None)).unwrap());
    }

    #[test]
    fn bits_clear_reads_taint_mask() {
        let clear = m("expect = { bits_clear = [13] }");
        assert!(clear.matches(Subject::Scalar(Some("0"))).unwrap());
        assert!(clear.matches(Subject::Scalar(Some("4096"))).unwrap());
        assert!(!clear.matches(Subject::Scalar(Some("8192"))).unwrap());
    }

    #[test]
    fn mode_at_most_rejects_extra_bits() {
        let mm = m("expect = { mode_at_most = \"0660\" }");
        let file = |mode| Subject::File {
            mode,
            uid: 0,
            gid: 6,
            owner: Some("root"),
            group: Some("disk"),
        };
        assert!(mm.matches(file(0o660)).unwrap());
        assert!(mm.matches(file(0o600)).unwrap());
        assert!(!mm.matches(file(0o666)).unwrap());
        assert!(!mm.matches(file(0o4660)).unwrap());
    }

    #[test]
    fn owner_accepts_name_or_uid() {
        let file = Subject::File {
            mode: 0o600,
            uid: 0,
            gid: 6,
            owner: Some("root"),
            group: None,
        };
        assert!(m("expect = { owner = \"root\" }").matches(file).unwrap());
        assert!(m("expect = { owner = \"0\" }").matches(file).unwrap());
        assert!(!m("expect = { group = \"disk\" }").matches(file).unwrap());
        assert!(m("expect = { group = \"6\" }").matches(file).unwrap());
    }

    #[test]
    fn combinators_nest() {
        let any = m("expect = { any = [ { equals = \"n\" }, \"absent\" ] }");
        assert!(any.matches(Subject::Scalar(None)).unwrap());
        assert!(any.matches(Subject::Scalar(Some("n"))).unwrap());
        assert!(!any.matches(Subject::Scalar(Some("y"))).unwrap());
        let not = m("expect = { not = { equals = \"off\" } }");
        assert!(not.matches(Subject::Scalar(None)).unwrap());
        assert!(!not.matches(Subject::Scalar(Some("off"))).unwrap());
    }

    #[test]
    fn matcher_on_wrong_subject_is_an_error() {
        let mm = m("expect = { mode_at_most = \"0660\" }");
        assert!(mm.matches(Subject::Scalar(Some("1"))).is_err());
    }

    #[test]
    fn bad_regex_and_bad_mode_are_rejected_at_load() {
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct W {
            expect: Matcher,
        }
        assert!(toml::from_str::<W>("expect = { regex = \"(\" }").is_err());
        assert!(toml::from_str::<W>("expect = { mode_at_most = \"0999\" }").is_err());
    }
}
