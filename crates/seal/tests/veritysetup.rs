//! Cross-checks with the real `veritysetup` (cryptsetup 2.6): what we format
//! it verifies and is byte-identical to what it formats; what it formats we
//! verify; corruption and wrong roots are caught by both, at the same place.
#![allow(clippy::unwrap_used)]

use std::fs::OpenOptions;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use tractorsec_facts::text::{hex, unhex};
use tractorsec_seal::verity::uuid_string;

use tractorsec_seal::verity::{FormatOptions, Geometry, HashAlgorithm, Verdict, format, verify};

const VERITYSETUP: &str = "/usr/sbin/veritysetup";
const UUID: [u8; 16] = [
    0x4b, 0x90, 0x0b, 0xc5, 0xdb, 0xc9, 0x48, 0xee, 0xac, 0x13, 0x54, 0xb8, 0x53, 0xc1, 0x93, 0xca,
];
const GIVEN_SALT: &str = "0e6d61b606199258d461dff858134a20";

/// The veritysetup binary, or `None` (with a note) when it is not
/// installed. Under CI a missing veritysetup is a failure, not a skip.
fn veritysetup() -> Option<&'static Path> {
    let path = Path::new(VERITYSETUP);
    if path.exists() {
        return Some(path);
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "{VERITYSETUP} is not installed; CI must run these tests (apt-get install cryptsetup-bin)"
        );
    }
    eprintln!("note: skipping veritysetup cross-check: {VERITYSETUP} is not installed");
    None
}

#[derive(Debug, Clone, Copy)]
enum Salt {
    /// Ours picks 32 random bytes; veritysetup gets them with `--salt`.
    Random,
    /// A fixed hex salt.
    Given,
    /// `--salt -`.
    None,
}

/// Deterministic pseudo-random data, `blocks` 4 KiB blocks.
fn make_data(dir: &Path, blocks: u64, seed: u64) -> PathBuf {
    let mut x = seed | 1;
    let mut bytes = Vec::with_capacity(blocks as usize * 4096);
    for _ in 0..blocks * 512 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        bytes.extend_from_slice(&x.to_le_bytes());
    }
    let path = dir.join("data.img");
    std::fs::write(&path, bytes).unwrap();
    path
}

fn flip(path: &Path, offset: u64) {
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap();
    let mut b = [0u8; 1];
    f.read_exact_at(&mut b, offset).unwrap();
    b[0] ^= 0x5a;
    f.write_all_at(&b, offset).unwrap();
}

struct Run {
    rc: i32,
    stdout: String,
    stderr: String,
}

fn vs(tool: &Path, args: &[&str]) -> Run {
    let out = Command::new(tool).args(args).output().unwrap();
    Run {
        rc: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn field<'a>(stdout: &'a str, name: &str) -> &'a str {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(name))
        .unwrap_or_else(|| panic!("no {name} in {stdout}"))
        .trim()
}

fn vs_verify(tool: &Path, data: &Path, hash: &Path, root: &[u8]) -> Run {
    vs(
        tool,
        &[
            "verify",
            data.to_str().unwrap(),
            hash.to_str().unwrap(),
            &hex(root),
        ],
    )
}

/// The position veritysetup printed for a corruption, if any.
fn position(stderr: &str) -> Option<u64> {
    [
        "Verification failed at position ",
        "Spare area is not zeroed at position ",
    ]
    .iter()
    .find_map(|p| {
        let rest = &stderr[stderr.find(p)? + p.len()..];
        rest.split('.').next()?.parse().ok()
    })
}

/// Our verdict and veritysetup's exit code and message must say the same.
fn assert_agree(ours: Verdict, theirs: &Run, what: &str) {
    match ours {
        Verdict::Ok => assert_eq!(theirs.rc, 0, "{what}: {}", theirs.stderr),
        Verdict::WrongRoot => {
            assert_eq!(theirs.rc, 1, "{what}: {}", theirs.stderr);
            assert!(
                theirs.stderr.contains("Verification of root hash failed"),
                "{what}: {}",
                theirs.stderr
            );
        }
        Verdict::CorruptData { offset, .. } | Verdict::CorruptHash { offset, .. } => {
            assert_eq!(
                theirs.rc, 2,
                "{what}: ours {ours:?}, theirs {}",
                theirs.stderr
            );
            assert_eq!(
                position(&theirs.stderr),
                Some(offset),
                "{what}: ours {ours:?}, theirs {}",
                theirs.stderr
            );
        }
    }
}

fn check(blocks: u64, algorithm: HashAlgorithm, salt: Salt, seed: u64) {
    let Some(tool) = veritysetup() else { return };
    let what = format!("{blocks} blocks, {algorithm}, {salt:?} salt");
    let dir = tempfile::tempdir().unwrap();
    let data = make_data(dir.path(), blocks, seed);
    let ours_hash = dir.path().join("ours.img");
    let theirs_hash = dir.path().join("theirs.img");
    let (d, t) = (data.to_str().unwrap(), theirs_hash.to_str().unwrap());

    // (a) Ours formats; veritysetup verifies it and writes the same bytes.
    let opts = FormatOptions {
        algorithm,
        salt: match salt {
            Salt::Random => None,
            Salt::Given => unhex(GIVEN_SALT),
            Salt::None => Some(Vec::new()),
        },
        uuid: Some(UUID),
        ..FormatOptions::default()
    };
    let ours = format(&data, &ours_hash, &opts).unwrap();
    match salt {
        Salt::Random => assert_eq!(ours.salt.len(), 32, "{what}"),
        Salt::Given => assert_eq!(hex(&ours.salt), GIVEN_SALT, "{what}"),
        Salt::None => assert!(ours.salt.is_empty(), "{what}"),
    }
    let run = vs_verify(tool, &data, &ours_hash, &ours.root_hash);
    assert_eq!(
        run.rc, 0,
        "{what}: veritysetup rejects our hash device: {}",
        run.stderr
    );

    let salt_arg = if ours.salt.is_empty() {
        "-".to_string()
    } else {
        hex(&ours.salt)
    };
    let uuid = uuid_string(&UUID);
    let theirs = vs(
        tool,
        &[
            "format",
            "--hash",
            algorithm.name(),
            "--salt",
            &salt_arg,
            "--uuid",
            &uuid,
            d,
            t,
        ],
    );
    assert_eq!(theirs.rc, 0, "{what}: {}", theirs.stderr);
    assert_eq!(
        field(&theirs.stdout, "Root hash:"),
        hex(&ours.root_hash),
        "{what}"
    );
    assert_eq!(
        field(&theirs.stdout, "Data blocks:"),
        ours.data_blocks.to_string(),
        "{what}"
    );
    assert_eq!(
        field(&theirs.stdout, "Hash device size:"),
        format!("{} [bytes]", ours.hash_blocks * 4096),
        "{what}"
    );
    let (ours_bytes, theirs_bytes) = (
        std::fs::read(&ours_hash).unwrap(),
        std::fs::read(&theirs_hash).unwrap(),
    );
    assert_eq!(ours_bytes.len(), theirs_bytes.len(), "{what}");
    assert!(ours_bytes == theirs_bytes, "{what}: hash devices differ");

    // (b) veritysetup formats (its own random salt and UUID when asked);
    // we verify it with its root.
    let root_hex = if matches!(salt, Salt::Random) {
        let own = vs(tool, &["format", "--hash", algorithm.name(), d, t]);
        assert_eq!(own.rc, 0, "{what}: {}", own.stderr);
        field(&own.stdout, "Root hash:").to_string()
    } else {
        field(&theirs.stdout, "Root hash:").to_string()
    };
    assert_eq!(
        verify(&data, &theirs_hash, &unhex(&root_hex).unwrap()).unwrap(),
        Verdict::Ok,
        "{what}"
    );

    // (c) Corruption, on our hash device: both catch it, at the same place.
    let root = ours.root_hash.clone();
    let g = Geometry::new(algorithm, 4096, 4096, blocks).unwrap();
    let mut wrong = root.clone();
    wrong[0] ^= 0xff;
    let v = verify(&data, &ours_hash, &wrong).unwrap();
    assert_eq!(v, Verdict::WrongRoot, "{what}");
    assert_agree(
        v,
        &vs_verify(tool, &data, &ours_hash, &wrong),
        &format!("{what}, wrong root"),
    );

    let mut flips: Vec<(PathBuf, u64, Verdict, &str)> = Vec::new();
    let victim = blocks / 2;
    let data_offset = victim * 4096 + 123;
    flips.push((
        data.clone(),
        data_offset,
        if g.levels.is_empty() {
            Verdict::WrongRoot
        } else {
            Verdict::CorruptData {
                block: victim,
                offset: victim * 4096,
            }
        },
        "data byte",
    ));
    if let (Some(level0), Some(top)) = (g.levels.first(), g.levels.last()) {
        let (ds, slot) = (algorithm.digest_size() as u64, algorithm.slot_size() as u64);
        // The digest of data block `victim` in level 0.
        let at = level0.start_block * 4096 + (victim / 128) * 4096 + (victim % 128) * slot + 7;
        flips.push((
            ours_hash.clone(),
            at,
            Verdict::CorruptData {
                block: victim,
                offset: victim * 4096,
            },
            "level-0 digest",
        ));
        // Entry 1 of the top level (or entry 0 when it has a single child).
        let entry = u64::from(blocks > 128);
        let at = top.start_block * 4096 + entry * slot + 1;
        let expected = if g.levels.len() == 1 {
            Verdict::CorruptData {
                block: entry,
                offset: entry * 4096,
            }
        } else {
            let child = g.levels[g.levels.len() - 2].start_block + entry;
            Verdict::CorruptHash {
                block: child,
                offset: child * 4096,
            }
        };
        flips.push((ours_hash.clone(), at, expected, "top-level digest"));
        // The zero tail of the last level-0 block, when there is one.
        let used = ((blocks - 1) % 128 + 1) * slot;
        if used < 4096 {
            let last = level0.start_block + level0.blocks - 1;
            flips.push((
                ours_hash.clone(),
                last * 4096 + 4095,
                Verdict::CorruptHash {
                    block: last,
                    offset: last * 4096 + used,
                },
                "spare tail",
            ));
        }
        // sha1's slot padding after the digest of data block `victim`.
        if ds < slot {
            let pad =
                level0.start_block * 4096 + (victim / 128) * 4096 + (victim % 128) * slot + ds;
            flips.push((
                ours_hash.clone(),
                pad + 3,
                Verdict::CorruptHash {
                    block: pad / 4096,
                    offset: pad,
                },
                "slot padding",
            ));
        }
    } else if !ours.salt.is_empty() {
        // No tree: changing the salt in the superblock changes the root.
        flips.push((ours_hash.clone(), 88, Verdict::WrongRoot, "superblock salt"));
    }
    for (path, offset, expected, label) in flips {
        flip(&path, offset);
        let v = verify(&data, &ours_hash, &root).unwrap();
        assert_eq!(v, expected, "{what}, {label} at {offset}");
        assert_agree(
            v,
            &vs_verify(tool, &data, &ours_hash, &root),
            &format!("{what}, {label} at {offset}"),
        );
        flip(&path, offset);
        assert_eq!(
            verify(&data, &ours_hash, &root).unwrap(),
            Verdict::Ok,
            "{what}: restored"
        );
    }
}

fn check_all(blocks: u64, seed: u64) {
    for algorithm in [HashAlgorithm::Sha256, HashAlgorithm::Sha1] {
        for salt in [Salt::Random, Salt::Given, Salt::None] {
            check(blocks, algorithm, salt, seed);
        }
    }
}

#[test]
fn one_block() {
    check_all(1, 1);
}

#[test]
fn one_full_hash_block_of_128() {
    check_all(128, 2);
}

#[test]
fn odd_129_blocks() {
    check_all(129, 3);
}

#[test]
fn odd_16513_blocks() {
    check_all(16513, 4);
}

#[test]
fn sixty_four_mib() {
    check_all(16384, 5);
}

#[test]
fn sha512_and_small_hash_blocks_match_byte_for_byte() {
    let Some(tool) = veritysetup() else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = make_data(dir.path(), 300, 6);
    let (ours_hash, theirs_hash) = (dir.path().join("ours.img"), dir.path().join("theirs.img"));
    let opts = FormatOptions {
        algorithm: HashAlgorithm::Sha512,
        hash_block_size: 512,
        data_block_size: 1024,
        salt: unhex(GIVEN_SALT),
        uuid: Some(UUID),
    };
    let ours = format(&data, &ours_hash, &opts).unwrap();
    let run = vs(
        tool,
        &[
            "format",
            "--hash",
            "sha512",
            "--hash-block-size",
            "512",
            "--data-block-size",
            "1024",
            "--salt",
            GIVEN_SALT,
            "--uuid",
            &uuid_string(&UUID),
            data.to_str().unwrap(),
            theirs_hash.to_str().unwrap(),
        ],
    );
    assert_eq!(run.rc, 0, "{}", run.stderr);
    assert_eq!(field(&run.stdout, "Root hash:"), hex(&ours.root_hash));
    assert!(std::fs::read(&ours_hash).unwrap() == std::fs::read(&theirs_hash).unwrap());
    assert_eq!(vs_verify(tool, &data, &ours_hash, &ours.root_hash).rc, 0);
}

#[test]
fn partial_last_block_is_refused_where_veritysetup_would_drop_it() {
    let Some(tool) = veritysetup() else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data.img");
    std::fs::write(&data, vec![7u8; 4096 + 904]).unwrap();
    let theirs = dir.path().join("theirs.img");
    let run = vs(
        tool,
        &["format", data.to_str().unwrap(), theirs.to_str().unwrap()],
    );
    // veritysetup hashes only the whole block and leaves 904 bytes unprotected.
    assert_eq!(run.rc, 0, "{}", run.stderr);
    assert_eq!(field(&run.stdout, "Data blocks:"), "1");
    let err = format(
        &data,
        &dir.path().join("ours.img"),
        &FormatOptions::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("not a multiple"), "{err}");
}
