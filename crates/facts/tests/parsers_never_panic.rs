//! Every pure parser survives arbitrary input: it returns a value or a
//! `ParseError`, never panics. (A cheap stand-in for the cargo-fuzz targets,
//! run on every `cargo test`.)

use std::collections::BTreeMap;
use tractorsec_facts::collect::{
    cmdline, cpu, host, kconfig, modprobe, modules, mountinfo, security, sysctl, sysctl_d,
};

/// Characters that matter to the parsers, plus multi-byte text.
const ALPHABET: &[&str] = &[
    "a",
    "Z",
    "_",
    "-",
    "0",
    "7",
    "9",
    " ",
    "\t",
    "\n",
    "\r",
    "=",
    "\"",
    "'",
    "\\",
    "$",
    "{",
    "}",
    "[",
    "]",
    "#",
    ";",
    ":",
    ",",
    ".",
    "/",
    "CONFIG_",
    "Uid:",
    " - ",
    "é",
    "\u{1F600}",
    "--",
    "\\040",
    "is not set",
    "install ",
    "options ",
    "alias ",
    "${",
    "export ",
];

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn inputs() -> Vec<String> {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    (0..4000)
        .map(|_| {
            let len = (rng.next() % 40) as usize;
            (0..len)
                .map(|_| ALPHABET[(rng.next() % ALPHABET.len() as u64) as usize])
                .collect()
        })
        .collect()
}

#[test]
fn parsers_never_panic_on_arbitrary_text() {
    for text in inputs() {
        let f = "fuzz";
        let _ = host::parse(&text, f);
        let _ = host::parse_hostname(&text);
        let _ = cmdline::parse(&text, f);
        let _ = cmdline::parse_grub(&text, f);
        let _ = cmdline::parse_grub_into(&text, f, &mut BTreeMap::new());
        let _ = tractorsec_facts::text::version_cmp(&text, "6.1.0-13");
        let _ = kconfig::parse(&text, f);
        let _ = sysctl::parse(&text, f);
        let _ = sysctl::key_for_path(&text);
        let _ = sysctl_d::parse(&text, f);
        let _ = modules::parse(&text, f);
        let _ = modprobe::parse(&text, f);
        let _ = security::parse_lockdown(&text, f);
        let _ = security::parse_lsm(&text, f);
        let _ = security::parse_sig_enforce(&text, f);
        let _ = security::parse_euid(&text, f);
        let _ = cpu::parse(&text, f);
        let _ = mountinfo::parse(&text, f);
    }
}

#[test]
fn parse_errors_name_the_file() {
    let f = "/some/file";
    let errors = [
        host::parse("x", f).err(),
        cmdline::parse("a=\"", f).err(),
        kconfig::parse("x", f).err(),
        sysctl_d::parse("x", f).err(),
        modules::parse("x", f).err(),
        modprobe::parse("x y", f).err(),
        cpu::parse("x", f).err(),
        mountinfo::parse("x", f).err(),
    ];
    for (i, e) in errors.into_iter().enumerate() {
        let e = e.unwrap_or_else(|| panic!("parser {i} accepted garbage"));
        assert_eq!(e.file, f);
        assert_eq!(e.line, 1, "{e}");
        assert!(e.to_string().starts_with("/some/file:1: "), "{e}");
    }
}
