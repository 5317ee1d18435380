//! Small text helpers shared by collectors and checks.

use std::cmp::Ordering;

/// Match a glob with `*`, `?` and `[…]` classes (ranges, `!`/`^` negation)
/// against the whole text. To match many texts, build a [`Glob`] once.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    Glob::new(pattern).matches(text)
}

/// A compiled glob pattern: matching takes linear space, allocates nothing
/// and never backtracks exponentially.
pub struct Glob {
    toks: Vec<Tok>,
}

impl Glob {
    /// Compile a pattern.
    pub fn new(pattern: &str) -> Glob {
        Glob {
            toks: tokens(pattern),
        }
    }

    /// Whether the whole text matches.
    pub fn matches(&self, text: &str) -> bool {
        let toks = &self.toks;
        let (mut pi, mut ti) = (0usize, 0usize);
        // Token index after the last `*`, and the byte index it is retried from.
        let mut star: Option<(usize, usize)> = None;
        while let Some(c) = text[ti..].chars().next() {
            match toks.get(pi) {
                Some(Tok::Star) => {
                    star = Some((pi + 1, ti));
                    pi += 1;
                }
                Some(tok) if tok.matches(c) => {
                    pi += 1;
                    ti += c.len_utf8();
                }
                _ => match star {
                    Some((sp, st)) => {
                        let skip = text[st..].chars().next().map_or(1, char::len_utf8);
                        pi = sp;
                        ti = st + skip;
                        star = Some((sp, ti));
                    }
                    None => return false,
                },
            }
        }
        toks[pi.min(toks.len())..]
            .iter()
            .all(|t| matches!(t, Tok::Star))
    }
}

/// One element of a glob pattern.
enum Tok {
    Star,
    Any,
    Lit(char),
    Class {
        ranges: Vec<(char, char)>,
        negate: bool,
    },
}

impl Tok {
    fn matches(&self, c: char) -> bool {
        match self {
            Tok::Star | Tok::Any => true,
            Tok::Lit(l) => *l == c,
            Tok::Class { ranges, negate } => {
                ranges.iter().any(|(lo, hi)| *lo <= c && c <= *hi) != *negate
            }
        }
    }
}

fn tokens(pattern: &str) -> Vec<Tok> {
    let p: Vec<char> = pattern.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            '*' => out.push(Tok::Star),
            '?' => out.push(Tok::Any),
            '[' => {
                let negate = matches!(p.get(i + 1), Some('!') | Some('^'));
                let first = i + 1 + usize::from(negate);
                // A `]` right after `[` or `[!` is a literal member.
                match p
                    .iter()
                    .skip(first + 1)
                    .position(|c| *c == ']')
                    .map(|k| k + first + 1)
                {
                    Some(close) => {
                        let class = &p[first..close];
                        let mut ranges = Vec::new();
                        let mut k = 0;
                        while k < class.len() {
                            if k + 2 < class.len() && class[k + 1] == '-' {
                                ranges.push((class[k], class[k + 2]));
                                k += 3;
                            } else {
                                ranges.push((class[k], class[k]));
                                k += 1;
                            }
                        }
                        out.push(Tok::Class { ranges, negate });
                        i = close;
                    }
                    None => out.push(Tok::Lit('[')),
                }
            }
            c => out.push(Tok::Lit(c)),
        }
        i += 1;
    }
    out
}

/// Order names like `ls -v` (which `augenrules` uses): runs of digits
/// compare as numbers, the rest byte-wise.
pub fn version_cmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    loop {
        match (a.first(), b.first()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let (da, ra) = split_digits(a);
                let (db, rb) = split_digits(b);
                let (ta, tb) = (trim_zeros(da), trim_zeros(db));
                let by_value = ta.len().cmp(&tb.len()).then_with(|| ta.cmp(tb));
                if by_value != Ordering::Equal {
                    return by_value;
                }
                (a, b) = (ra, rb);
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(y);
                }
                (a, b) = (
                    a.get(1..).unwrap_or_default(),
                    b.get(1..).unwrap_or_default(),
                );
            }
        }
    }
}

fn split_digits(s: &[u8]) -> (&[u8], &[u8]) {
    let n = s.iter().take_while(|c| c.is_ascii_digit()).count();
    s.split_at(n.min(s.len()))
}

fn trim_zeros(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|&&c| c == b'0').count();
    s.get(n..).unwrap_or_default()
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    out
}

/// The bytes a hex string (either case, even length) spells; `None` when it
/// is not one.
pub fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .filter(|p| p.bytes().all(|b| b.is_ascii_hexdigit()))
                .and_then(|p| u8::from_str_radix(p, 16).ok())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_classes_and_stars() {
        assert!(glob_match("/dev/nvidia[0-9]*", "/dev/nvidia0"));
        assert!(glob_match("/dev/nvidia[0-9]*", "/dev/nvidia17"));
        assert!(!glob_match("/dev/nvidia[0-9]*", "/dev/nvidiactl"));
        assert!(glob_match("/dev/nvme[0-9]*n*", "/dev/nvme0n1"));
        assert!(glob_match("*.service", "ssh.service"));
        assert!(glob_match("getty@*", "getty@tty1.service"));
        assert!(!glob_match("[!a]x", "ax"));
        assert!(glob_match("[!a]x", "bx"));
        assert!(glob_match("a*b*c", "aXbYbZc"));
        assert!(!glob_match("*.conf", "a.conf.bak"));
        assert!(glob_match("[", "["));
    }

    #[test]
    fn glob_many_stars_stays_fast() {
        let text = "a".repeat(5000);
        assert!(!glob_match("*a*a*a*a*a*a*a*a*a*a*b", &text));
    }

    #[test]
    fn hex_round_trips_and_rejects_what_is_not_hex() {
        assert_eq!(hex(&[0x00, 0xab, 0xff]), "00abff");
        assert_eq!(unhex("00ABff"), Some(vec![0x00, 0xab, 0xff]));
        assert_eq!(unhex("abc"), None);
        assert_eq!(unhex("+1"), None);
        assert_eq!(unhex("é1"), None);
    }
}
