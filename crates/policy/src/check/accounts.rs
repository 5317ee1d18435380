//! Account checks: interactive users, uid 0, passwords, groups, SSH keys.

use super::outcome::Outcome;
use tractorsec_facts::{Accounts, Facts, PasswordState};

const PASSWD: &str = "/etc/passwd";
const SHADOW: &str = "/etc/shadow";

fn has_login_shell(shell: &str) -> bool {
    !(shell.is_empty()
        || shell.ends_with("/nologin")
        || shell.ends_with("/false")
        || shell == "/bin/sync"
        || shell == "/usr/bin/sync")
}

fn accounts(facts: &Facts) -> Result<&Accounts, Outcome> {
    facts.accounts.get().map_err(Outcome::missing_required)
}

pub(super) fn interactive(facts: &Facts, allowed: &[String]) -> Outcome {
    let acc = match accounts(facts) {
        Ok(a) => a,
        Err(o) => return o,
    };
    let bad: Vec<String> = acc
        .users
        .iter()
        .filter(|u| u.uid >= acc.uid_min && u.uid != 65534 && has_login_shell(&u.shell))
        .filter(|u| !allowed.contains(&u.name))
        .map(|u| format!("{} (uid {}, {})", u.name, u.uid, u.shell))
        .collect();
    Outcome::problems(
        &bad,
        format!("no interactive account with uid >= {}", acc.uid_min),
        "interactive",
        format!("no login shell for uid >= {} except allowed", acc.uid_min),
        vec![PASSWD.into(), "/etc/login.defs".into()],
    )
}

pub(super) fn uid0(facts: &Facts, allowed: &[String]) -> Outcome {
    let acc = match accounts(facts) {
        Ok(a) => a,
        Err(o) => return o,
    };
    let bad: Vec<String> = acc
        .users
        .iter()
        .filter(|u| u.uid == 0 && !allowed.contains(&u.name))
        .map(|u| u.name.clone())
        .collect();
    Outcome::problems(
        &bad,
        "only allowed accounts have uid 0",
        "uid 0",
        format!("uid 0 only for {}", allowed.join(", ")),
        vec![PASSWD.into()],
    )
}

pub(super) fn empty_password(facts: &Facts) -> Outcome {
    let shadow = match facts.shadow.get() {
        Ok(s) => s,
        Err(e) => return Outcome::missing_required(e),
    };
    let bad: Vec<String> = shadow
        .iter()
        .filter(|(_, s)| **s == PasswordState::Empty)
        .map(|(n, _)| n.clone())
        .collect();
    Outcome::problems(
        &bad,
        "no empty password field",
        "empty password",
        "no empty password field",
        vec![SHADOW.into()],
    )
}

pub(super) fn locked(facts: &Facts, user: &str) -> Outcome {
    let shadow = match facts.shadow.get() {
        Ok(s) => s,
        Err(e) => return Outcome::missing_required(e),
    };
    let state = shadow.get(user);
    let observed = match state {
        Some(PasswordState::Locked) => format!("{user}: locked"),
        Some(PasswordState::Set) => format!("{user}: password set"),
        Some(PasswordState::Empty) => format!("{user}: empty password"),
        None => format!("{user}: no shadow entry"),
    };
    Outcome::verdict(
        state == Some(&PasswordState::Locked),
        observed,
        format!("{user}: locked"),
        vec![SHADOW.into()],
    )
}

pub(super) fn group_members(facts: &Facts, groups: &[String], allowed: &[String]) -> Outcome {
    let all = match facts.groups.get() {
        Ok(g) => g,
        Err(e) => return Outcome::missing_required(e),
    };
    // Members through their primary group count too: without passwd, no verdict.
    let users = match accounts(facts) {
        Ok(a) => &a.users,
        Err(o) => return o,
    };
    let mut bad = Vec::new();
    for g in all.iter().filter(|g| groups.contains(&g.name)) {
        let primary: Vec<String> = users
            .iter()
            .filter(|u| u.gid == g.gid)
            .map(|u| u.name.clone())
            .collect();
        for m in g.members.iter().chain(primary.iter()) {
            if m != "root" && !allowed.contains(m) {
                bad.push(format!("{}: {m}", g.name));
            }
        }
    }
    bad.sort();
    bad.dedup();
    Outcome::problems(
        &bad,
        format!(
            "{} have no members but root and allowed users",
            groups.join(", ")
        ),
        "members",
        "no members but root and allowed users",
        vec!["/etc/group".into(), PASSWD.into()],
    )
}

pub(super) fn authorized_keys(facts: &Facts, allowed: &[String]) -> Outcome {
    let keys = match facts.authorized_keys.get() {
        Ok(k) => k,
        Err(e) => return Outcome::missing_required(e),
    };
    let uid_min = match accounts(facts) {
        Ok(a) => a.uid_min,
        Err(o) => return o,
    };
    let human: Vec<&tractorsec_facts::AuthorizedKeys> = keys
        .iter()
        .filter(|k| k.uid >= uid_min && k.uid != 65534 && !allowed.contains(&k.user))
        .collect();
    let bad: Vec<String> = human
        .iter()
        .map(|k| format!("{} ({} keys)", k.path, k.keys))
        .collect();
    let mut evidence: Vec<String> = human.iter().map(|k| k.path.clone()).collect();
    evidence.push(PASSWD.into());
    Outcome::problems(
        &bad,
        "no authorized_keys in human accounts",
        "",
        "keys only through central tooling",
        evidence,
    )
}
