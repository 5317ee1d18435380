//! Accounts (`/etc/passwd`, `/etc/login.defs`), password lock state
//! (`/etc/shadow`), groups (`/etc/group`) and `authorized_keys` files.
//!
//! Password hashes are never kept: the shadow parser looks at the password
//! field only to classify it, and no error message quotes a line (an old
//! `/etc/passwd` may still hold hashes).

use crate::error::{FactError, FactErrorKind, ParseError};
use crate::model::{Account, Accounts, AuthorizedKeys, Group, PasswordState, Source};
use crate::root::{Root, join};
use std::collections::BTreeMap;

/// The account database.
pub const PASSWD: &str = "/etc/passwd";
/// The shadow password database.
pub const SHADOW: &str = "/etc/shadow";
/// The group database.
pub const GROUP: &str = "/etc/group";
/// Login policy (`UID_MIN`).
pub const LOGIN_DEFS: &str = "/etc/login.defs";
/// `UID_MIN` when login.defs does not set it.
pub const DEFAULT_UID_MIN: u32 = 1000;

/// The lines of a colon-separated database that carry an entry, with their
/// 1-based numbers: blank lines, `#` comments and NIS compat lines (`+`/`-`)
/// are skipped.
fn entries(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines().enumerate().filter_map(|(i, line)| {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let skip = line.trim().is_empty()
            || line.starts_with('#')
            || line.starts_with('+')
            || line.starts_with('-');
        (!skip).then_some((i + 1, line))
    })
}

fn fields<'a>(
    line: &'a str,
    want: usize,
    file: &str,
    number: usize,
) -> Result<Vec<&'a str>, ParseError> {
    let fields: Vec<&str> = line.split(':').collect();
    if fields.len() != want {
        return Err(ParseError::new(
            file,
            number,
            format!(
                "expected {want} colon-separated fields, found {}",
                fields.len()
            ),
        ));
    }
    Ok(fields)
}

fn id(value: &str, what: &str, file: &str, number: usize) -> Result<u32, ParseError> {
    value
        .parse()
        .map_err(|_| ParseError::new(file, number, format!("{what} is not a number")))
}

fn field<'a>(fields: &[&'a str], index: usize) -> &'a str {
    fields.get(index).copied().unwrap_or_default()
}

/// Parse `/etc/passwd` (7 fields a line) into accounts in file order.
pub fn parse(text: &str, file: &str) -> Result<Vec<Account>, ParseError> {
    let mut users = Vec::new();
    for (number, line) in entries(text) {
        let f = fields(line, 7, file, number)?;
        let name = field(&f, 0);
        if name.is_empty() {
            return Err(ParseError::new(file, number, "empty user name"));
        }
        users.push(Account {
            name: name.to_string(),
            uid: id(field(&f, 2), "uid", file, number)?,
            gid: id(field(&f, 3), "gid", file, number)?,
            home: field(&f, 5).to_string(),
            shell: field(&f, 6).to_string(),
        });
    }
    Ok(users)
}

/// `UID_MIN` from login.defs text ([`DEFAULT_UID_MIN`] when unset).
pub fn parse_uid_min(text: &str, file: &str) -> Result<u32, ParseError> {
    let mut uid_min = DEFAULT_UID_MIN;
    for (index, line) in text.lines().enumerate() {
        let mut words = line.split_whitespace();
        if words.next() != Some("UID_MIN") {
            continue;
        }
        let value = words.next().unwrap_or_default();
        uid_min = value
            .parse()
            .map_err(|_| ParseError::new(file, index + 1, "UID_MIN is not a number"))?;
    }
    Ok(uid_min)
}

/// Classify a shadow password field.
pub fn password_state(field: &str) -> PasswordState {
    if field.is_empty() {
        PasswordState::Empty
    } else if field.starts_with('!') || field.starts_with('*') {
        PasswordState::Locked
    } else {
        PasswordState::Set
    }
}

/// Parse `/etc/shadow` into user → [`PasswordState`]. Only the state is
/// kept; the hash is neither stored nor quoted in errors.
pub fn parse_shadow(text: &str, file: &str) -> Result<BTreeMap<String, PasswordState>, ParseError> {
    let mut states = BTreeMap::new();
    for (number, line) in entries(text) {
        let mut parts = line.split(':');
        let name = parts.next().unwrap_or_default();
        let state = parts.next().map(password_state);
        let count = 2 + parts.count();
        match state {
            Some(state) if count == 9 && !name.is_empty() => {
                states.insert(name.to_string(), state);
            }
            _ if name.is_empty() => {
                return Err(ParseError::new(file, number, "empty user name"));
            }
            _ => {
                let found = if state.is_some() { count } else { 1 };
                return Err(ParseError::new(
                    file,
                    number,
                    format!("expected 9 colon-separated fields, found {found}"),
                ));
            }
        }
    }
    Ok(states)
}

/// Parse `/etc/group` (4 fields a line) into groups in file order.
pub fn parse_group(text: &str, file: &str) -> Result<Vec<Group>, ParseError> {
    let mut groups = Vec::new();
    for (number, line) in entries(text) {
        let f = fields(line, 4, file, number)?;
        let name = field(&f, 0);
        if name.is_empty() {
            return Err(ParseError::new(file, number, "empty group name"));
        }
        groups.push(Group {
            name: name.to_string(),
            gid: id(field(&f, 2), "gid", file, number)?,
            members: field(&f, 3)
                .split(',')
                .map(str::trim)
                .filter(|m| !m.is_empty())
                .map(str::to_string)
                .collect(),
        });
    }
    Ok(groups)
}

/// Number of key lines in an `authorized_keys` file (not blank, not `#`).
pub fn count_keys(text: &str) -> usize {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .count()
}

fn read_parsed<T>(
    root: &Root,
    path: &str,
    parse: impl Fn(&str, &str) -> Result<T, ParseError>,
) -> Result<T, FactError> {
    root.parse_file(path, parse)
}

/// Read accounts and `UID_MIN`.
pub fn collect_accounts(root: &Root) -> Source<Accounts> {
    let accounts = || -> Result<Accounts, FactError> {
        let users = read_parsed(root, PASSWD, parse)?;
        let uid_min = match root.read_optional(LOGIN_DEFS)? {
            Some(text) => parse_uid_min(&text, LOGIN_DEFS)
                .map_err(|e| FactError::malformed(LOGIN_DEFS, &e))?,
            None => DEFAULT_UID_MIN,
        };
        Ok(Accounts { uid_min, users })
    };
    accounts().into()
}

/// Read password lock states (needs root on a live system).
pub fn collect_shadow(root: &Root) -> Source<BTreeMap<String, PasswordState>> {
    read_parsed(root, SHADOW, parse_shadow).into()
}

/// Read groups.
pub fn collect_groups(root: &Root) -> Source<Vec<Group>> {
    read_parsed(root, GROUP, parse_group).into()
}

/// Find `~/.ssh/authorized_keys` and `authorized_keys2` of every account,
/// sorted by user and path. A file that cannot be read for lack of
/// privilege makes the whole fact unknown rather than silently empty.
pub fn collect_authorized_keys(
    root: &Root,
    accounts: &Source<Accounts>,
) -> Source<Vec<AuthorizedKeys>> {
    let found = || -> Result<Vec<AuthorizedKeys>, FactError> {
        let accounts = accounts.get().map_err(Clone::clone)?;
        let mut found = Vec::new();
        for user in &accounts.users {
            if !user.home.starts_with('/') {
                continue;
            }
            for name in ["authorized_keys", "authorized_keys2"] {
                let path = join(&join(&user.home, ".ssh"), name);
                match root.read_optional(&path) {
                    Ok(Some(text)) => found.push(AuthorizedKeys {
                        user: user.name.clone(),
                        uid: user.uid,
                        path,
                        keys: count_keys(&text),
                    }),
                    Ok(None) => {}
                    // A path component that is a file, a dangling link, ...
                    Err(e) if e.kind == FactErrorKind::Unreadable => {}
                    Err(e) => return Err(e),
                }
            }
        }
        found.sort_by(|a, b| (&a.user, &a.path).cmp(&(&b.user, &b.path)));
        Ok(found)
    };
    found().into()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::fs;

    const PASSWD_REAL: &str = "root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
sync:x:4:65534:sync:/bin:/bin/sync
_apt:x:42:65534::/nonexistent:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
cloudsdk:x:1000:1000::/home/cloudsdk:/bin/bash
systemd-network:x:998:998:systemd Network Management:/:/usr/sbin/nologin
postgres:x:101:104:PostgreSQL administrator,,,:/var/lib/postgresql:/bin/bash
";

    const HASH: &str = "$y$j9T$Xq3x1bO4yOZ0aQ$7kD3r0s1VzO0pL3cQ0k9yq0p2bQx9p1JzC5lq6bK4tA";

    #[test]
    fn passwd_parses_real_file_in_order() {
        let users = parse(PASSWD_REAL, PASSWD).unwrap();
        assert_eq!(users.len(), 8);
        assert_eq!(users[0].name, "root");
        assert_eq!(users[0].home, "/root");
        assert_eq!(users[5].uid, 1000);
        assert_eq!(users[7].shell, "/bin/bash");
    }

    #[test]
    fn passwd_wrong_field_count_names_file_and_line() {
        let err = parse(
            "root:x:0:0:root:/root:/bin/bash\nbad:x:1:1\n",
            "/etc/passwd",
        )
        .unwrap_err();
        assert_eq!((err.file.as_str(), err.line), ("/etc/passwd", 2));
        assert!(err.message.contains("7"), "{err}");
    }

    #[test]
    fn passwd_non_numeric_uid_is_error_without_quoting_line() {
        let err = parse("a:secret:zero:0::/:/bin/sh\n", "/etc/passwd").unwrap_err();
        assert_eq!(err.line, 1);
        assert!(err.message.contains("uid"));
        assert!(!err.to_string().contains("secret"));
    }

    #[test]
    fn passwd_skips_nis_compat_and_blank_lines() {
        let users = parse(
            "+@admins::::::\n\nroot:x:0:0::/root:/bin/sh\n-bob::::::\n+\n",
            PASSWD,
        )
        .unwrap();
        assert_eq!(users.len(), 1);
    }

    #[test]
    fn login_defs_uid_min_and_default() {
        let text = "# UID_MIN 5\nMAIL_DIR        /var/mail\nUID_MIN\t\t\t 2000\nUID_MAX 60000\n";
        assert_eq!(parse_uid_min(text, LOGIN_DEFS).unwrap(), 2000);
        assert_eq!(
            parse_uid_min("MAIL_DIR /var/mail\n", LOGIN_DEFS).unwrap(),
            1000
        );
        let err = parse_uid_min("\nUID_MIN lots\n", LOGIN_DEFS).unwrap_err();
        assert_eq!(err.line, 2);
    }

    #[test]
    fn shadow_states_from_password_field() {
        let text = format!(
            "root:{HASH}:20228:0:99999:7:::\n\
             daemon:*:20228:0:99999:7:::\n\
             locked:!{HASH}:20228:0:99999:7:::\n\
             new:!!:20228:0:99999:7:::\n\
             star:!*:20228:0:99999:7:::\n\
             open::20228:0:99999:7:::\n"
        );
        let s = parse_shadow(&text, SHADOW).unwrap();
        assert_eq!(s["root"], PasswordState::Set);
        assert_eq!(s["daemon"], PasswordState::Locked);
        assert_eq!(s["locked"], PasswordState::Locked);
        assert_eq!(s["new"], PasswordState::Locked);
        assert_eq!(s["star"], PasswordState::Locked);
        assert_eq!(s["open"], PasswordState::Empty);
    }

    #[test]
    fn shadow_never_keeps_hash() {
        let text = format!("root:{HASH}:20228:0:99999:7:::\n");
        let states = parse_shadow(&text, SHADOW).unwrap();
        let json = serde_json::to_string(&Source::Ok(states)).unwrap();
        assert!(!json.contains(HASH), "{json}");
        assert!(!json.contains("$y$"), "{json}");
        assert_eq!(json, r#"{"ok":{"root":"set"}}"#);
    }

    #[test]
    fn shadow_malformed_error_never_quotes_hash() {
        let text = format!("root:x:0:0:root:/root:/bin/bash\nroot:{HASH}:1\n");
        let err = parse_shadow(&text, "/etc/shadow").unwrap_err();
        assert_eq!((err.file.as_str(), err.line), ("/etc/shadow", 1));
        let err = parse_shadow(&format!("root:{HASH}:1\n"), "/etc/shadow").unwrap_err();
        assert_eq!(err.line, 1);
        assert!(!err.to_string().contains(HASH));
        let err = parse_shadow("justaname\n", "/etc/shadow").unwrap_err();
        assert!(err.message.contains("found 1"), "{err}");
    }

    #[test]
    fn group_members_are_split_on_commas() {
        let g = parse_group("root:x:0:\nsudo:x:27:alice,bob\nvideo:x:44:\n", GROUP).unwrap();
        assert_eq!(g.len(), 3);
        assert!(g[0].members.is_empty());
        assert_eq!(g[1].members, vec!["alice", "bob"]);
        assert_eq!(g[1].gid, 27);
    }

    #[test]
    fn group_bad_line_names_file_and_line() {
        let err = parse_group("root:x:0:\nvideo:x:forty:\n", "/etc/group").unwrap_err();
        assert_eq!((err.file.as_str(), err.line), ("/etc/group", 2));
        let err = parse_group("root:x:0\n", "/etc/group").unwrap_err();
        assert_eq!(err.line, 1);
    }

    #[test]
    fn authorized_keys_counts_key_lines_in_homes_beneath_root() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path();
        fs::create_dir_all(p.join("etc")).unwrap();
        fs::create_dir_all(p.join("root/.ssh")).unwrap();
        fs::create_dir_all(p.join("home/alice/.ssh")).unwrap();
        fs::write(
            p.join("etc/passwd"),
            "root:x:0:0::/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/bash\nnobody:x:65534:65534::/nonexistent:/usr/sbin/nologin\n",
        )
        .unwrap();
        fs::write(
            p.join("root/.ssh/authorized_keys"),
            "# fleet key\nssh-ed25519 AAAAC3Nza root@bastion\n\nfrom=\"10.0.0.0/8\" ssh-rsa AAAAB3 ops\n",
        )
        .unwrap();
        fs::write(
            p.join("home/alice/.ssh/authorized_keys2"),
            "ssh-ed25519 AAAA a\n",
        )
        .unwrap();
        let root = Root::open(p).unwrap();
        let accounts = collect_accounts(&root);
        assert_eq!(accounts.ok().unwrap().uid_min, 1000);
        let keys = collect_authorized_keys(&root, &accounts)
            .ok()
            .unwrap()
            .clone();
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[0].user, "alice");
        assert_eq!(keys[0].path, "/home/alice/.ssh/authorized_keys2");
        assert_eq!(keys[0].keys, 1);
        assert_eq!(
            (keys[1].user.as_str(), keys[1].uid, keys[1].keys),
            ("root", 0, 2)
        );
    }

    #[test]
    fn authorized_keys_inherits_accounts_error() {
        let tmp = tempfile::tempdir().unwrap();
        let root = Root::open(tmp.path()).unwrap();
        let accounts = collect_accounts(&root);
        assert_eq!(accounts.get().unwrap_err().kind, FactErrorKind::NotPresent);
        let keys = collect_authorized_keys(&root, &accounts);
        assert_eq!(keys.get().unwrap_err().kind, FactErrorKind::NotPresent);
    }

    #[test]
    fn collect_shadow_and_groups_read_beneath_root() {
        let tmp = tempfile::tempdir().unwrap();
        fs::create_dir_all(tmp.path().join("etc")).unwrap();
        fs::write(
            tmp.path().join("etc/shadow"),
            format!("root:{HASH}:1:0:99999:7:::\n"),
        )
        .unwrap();
        fs::write(tmp.path().join("etc/group"), "root:x:0:\n").unwrap();
        let root = Root::open(tmp.path()).unwrap();
        assert_eq!(
            collect_shadow(&root).ok().unwrap()["root"],
            PasswordState::Set
        );
        assert_eq!(collect_groups(&root).ok().unwrap()[0].name, "root");
    }
}
