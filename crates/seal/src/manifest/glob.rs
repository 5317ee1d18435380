//! Exclude patterns: shell-style globs matched against a whole relative
//! path (`usr/share/doc/x`, no leading `./` or `/`).
//!
//! - `*` matches any bytes within one component (never `/`);
//! - `?` matches one byte other than `/`;
//! - `[abc]`, `[a-z]`, `[!a-z]` (or `[^…]`) match one byte (never `/`) in
//!   or out of the set; a `]` first in the set is literal;
//! - `**/` matches zero or more whole directories (`**/*.log` matches
//!   `x.log` and `a/b/x.log`); any other `**` matches any bytes, `/`
//!   included (`var/cache/**`);
//! - `\` makes the next character literal.
//!
//! Matching simulates the pattern as an automaton, so it takes time
//! proportional to pattern length × path length, whatever the pattern.

/// One step of a compiled pattern.
#[derive(Debug, Clone)]
enum Token {
    Byte(u8),
    /// `?`
    One,
    /// `*`
    Star,
    /// `**` not followed by `/`
    Any,
    /// `**/`: zero or more bytes ending in `/`, or nothing
    AnyDirs,
    /// `[…]`: ranges, negated
    Class(Vec<(u8, u8)>, bool),
}

/// A compiled exclude pattern.
#[derive(Debug, Clone)]
pub struct Glob {
    tokens: Vec<Token>,
}

impl Glob {
    /// Compiles `pattern`; the error says what is wrong with it.
    pub fn new(pattern: &str) -> Result<Glob, String> {
        if pattern.is_empty() {
            return Err("empty pattern".into());
        }
        if pattern.starts_with('/') {
            return Err(format!(
                "pattern `{pattern}` is absolute; patterns match paths relative to the sealed root (write `{}`)",
                pattern.trim_start_matches('/')
            ));
        }
        let bytes = pattern.as_bytes();
        let mut tokens = Vec::new();
        let mut i = 0;
        while let Some(&b) = bytes.get(i) {
            match b {
                b'*' if bytes.get(i + 1) == Some(&b'*') => {
                    if bytes.get(i + 2) == Some(&b'/') {
                        tokens.push(Token::AnyDirs);
                        i += 3;
                    } else {
                        tokens.push(Token::Any);
                        i += 2;
                    }
                    // `***` and more: the same as `**`.
                    while bytes.get(i) == Some(&b'*') {
                        i += 1;
                    }
                }
                b'*' => {
                    tokens.push(Token::Star);
                    i += 1;
                }
                b'?' => {
                    tokens.push(Token::One);
                    i += 1;
                }
                b'\\' => {
                    let Some(&next) = bytes.get(i + 1) else {
                        return Err(format!("pattern `{pattern}` ends in a lone `\\`"));
                    };
                    tokens.push(Token::Byte(next));
                    i += 2;
                }
                b'[' => {
                    let (class, end) = parse_class(bytes, i + 1)
                        .ok_or_else(|| format!("pattern `{pattern}` has an unclosed `[`"))?;
                    tokens.push(class);
                    i = end;
                }
                _ => {
                    tokens.push(Token::Byte(b));
                    i += 1;
                }
            }
        }
        Ok(Glob { tokens })
    }

    /// Whether the whole of `path` matches.
    pub fn matches(&self, path: &[u8]) -> bool {
        let n = self.tokens.len();
        let mut active = vec![false; n + 1];
        active[0] = true;
        self.close(&mut active);
        let mut next = vec![false; n + 1];
        for &b in path {
            next.iter_mut().for_each(|x| *x = false);
            let mut any = false;
            for (t, token) in self.tokens.iter().enumerate() {
                if !active[t] {
                    continue;
                }
                let (stay, advance) = match token {
                    Token::Byte(c) => (false, *c == b),
                    Token::One => (false, b != b'/'),
                    Token::Star => (b != b'/', false),
                    Token::Any => (true, false),
                    Token::AnyDirs => (true, b == b'/'),
                    Token::Class(ranges, negated) => {
                        let inside = ranges.iter().any(|&(lo, hi)| lo <= b && b <= hi);
                        (false, b != b'/' && inside != *negated)
                    }
                };
                if stay {
                    next[t] = true;
                    any = true;
                }
                if advance {
                    next[t + 1] = true;
                    any = true;
                }
            }
            if !any {
                return false;
            }
            std::mem::swap(&mut active, &mut next);
            self.close(&mut active);
        }
        active[n]
    }

    /// Adds the states reachable without consuming a byte.
    fn close(&self, active: &mut [bool]) {
        for (t, token) in self.tokens.iter().enumerate() {
            if active[t] && matches!(token, Token::Star | Token::Any | Token::AnyDirs) {
                active[t + 1] = true;
            }
        }
    }
}

/// Parses a `[…]` set starting just after the `[`; returns the token and
/// the index just after the `]`.
fn parse_class(bytes: &[u8], mut i: usize) -> Option<(Token, usize)> {
    let negated = matches!(bytes.get(i), Some(b'!' | b'^'));
    if negated {
        i += 1;
    }
    let mut ranges = Vec::new();
    let mut first = true;
    loop {
        let mut b = *bytes.get(i)?;
        if b == b']' && !first {
            return Some((Token::Class(ranges, negated), i + 1));
        }
        first = false;
        if b == b'\\' {
            i += 1;
            b = *bytes.get(i)?;
        }
        i += 1;
        if bytes.get(i) == Some(&b'-') && bytes.get(i + 1).is_some_and(|c| *c != b']') {
            let mut hi = *bytes.get(i + 1)?;
            i += 2;
            if hi == b'\\' {
                hi = *bytes.get(i)?;
                i += 1;
            }
            ranges.push((b.min(hi), b.max(hi)));
        } else {
            ranges.push((b, b));
        }
    }
}

/// A set of exclude patterns; a path is excluded when any matches.
#[derive(Debug, Clone, Default)]
pub struct ExcludeSet {
    globs: Vec<Glob>,
}

impl ExcludeSet {
    /// Compiles every pattern; the error names the bad one.
    pub fn new(patterns: &[String]) -> Result<ExcludeSet, String> {
        let globs = patterns
            .iter()
            .map(|p| Glob::new(p))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ExcludeSet { globs })
    }

    /// Whether `path` (relative, `/`-separated) is excluded.
    pub fn excludes(&self, path: &[u8]) -> bool {
        self.globs.iter().any(|g| g.matches(path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, path: &str) -> bool {
        Glob::new(pattern).unwrap().matches(path.as_bytes())
    }

    #[test]
    fn star_stays_within_a_component() {
        assert!(m("*.log", "x.log"));
        assert!(!m("*.log", "a/x.log"));
        assert!(m("var/*/x", "var/a/x"));
        assert!(!m("var/*/x", "var/a/b/x"));
        assert!(m("var/cache", "var/cache"));
        assert!(!m("var/cache", "var/cache/x"));
    }

    #[test]
    fn double_star_crosses_directories() {
        assert!(m("**/*.log", "x.log"));
        assert!(m("**/*.log", "a/b/x.log"));
        assert!(!m("**/*.log", "a/b/x.logs"));
        assert!(m("var/cache/**", "var/cache/a/b"));
        assert!(!m("var/cache/**", "var/cachex/a"));
        assert!(m("a/**/z", "a/z"));
        assert!(m("a/**/z", "a/b/c/z"));
        assert!(m("**", "anything/at/all"));
    }

    #[test]
    fn classes_and_escapes() {
        assert!(m("f[0-9]", "f7"));
        assert!(!m("f[!0-9]", "f7"));
        assert!(m("f[!0-9]", "fx"));
        assert!(!m("f[!0-9]", "f/"));
        assert!(m("[]]", "]"));
        assert!(m("a\\*", "a*"));
        assert!(!m("a\\*", "ab"));
        assert!(m("?", "x"));
        assert!(!m("?", "/"));
    }

    #[test]
    fn bad_patterns_are_errors() {
        assert!(Glob::new("").is_err());
        assert!(Glob::new("/etc").is_err());
        assert!(Glob::new("a[bc").is_err());
        assert!(Glob::new("a\\").is_err());
    }

    #[test]
    fn many_stars_stay_fast() {
        let pattern = "*a*a*a*a*a*a*a*a*a*a*a*a*b";
        let path = "a".repeat(4000);
        assert!(!m(pattern, &path));
    }
}
