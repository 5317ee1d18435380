//! A minimal `veritysetup`-like front end to `tractorsec_seal::verity`, used
//! by `scripts/bench-verity.sh` until `tractorsec verity` is wired up.
//!
//! ```text
//! verity format DATA HASH [--hash sha256|sha1|sha512] [--salt HEX|-] [--uuid UUID]
//!                         [--data-block-size N] [--hash-block-size N]
//! verity verify DATA HASH ROOT_HEX
//! ```
//!
//! Exit codes follow `veritysetup verify`: 0 ok, 1 wrong root hash,
//! 2 corruption; 3 for usage or I/O errors.

use std::path::Path;
use std::process::ExitCode;
use tractorsec_facts::text::{hex, unhex};
use tractorsec_seal::verity::uuid_string;

use tractorsec_seal::verity::{FormatOptions, HashAlgorithm, Verdict, format, verify};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(code) => ExitCode::from(code),
        Err(msg) => {
            eprintln!("verity: {msg}");
            ExitCode::from(3)
        }
    }
}

fn run(args: &[String]) -> Result<u8, String> {
    match args {
        [cmd, data, hash, rest @ ..] if cmd == "format" => {
            let opts = parse_format_options(rest)?;
            let f = format(Path::new(data), Path::new(hash), &opts).map_err(|e| e.to_string())?;
            println!("UUID:            \t{}", uuid_string(&f.uuid));
            println!("Data blocks:     \t{}", f.data_blocks);
            println!("Hash blocks:     \t{}", f.hash_blocks - 1);
            println!("Hash algorithm:  \t{}", opts.algorithm);
            let salt = if f.salt.is_empty() {
                "-".to_string()
            } else {
                hex(&f.salt)
            };
            println!("Salt:            \t{salt}");
            println!("Root hash:      \t{}", hex(&f.root_hash));
            println!(
                "Hash device size: \t{} [bytes]",
                f.hash_blocks * u64::from(opts.hash_block_size)
            );
            Ok(0)
        }
        [cmd, data, hash, root] if cmd == "verify" => {
            let root = unhex(root).ok_or("ROOT must be hex")?;
            let verdict =
                verify(Path::new(data), Path::new(hash), &root).map_err(|e| e.to_string())?;
            match verdict {
                Verdict::Ok => {
                    println!("ok");
                    Ok(0)
                }
                Verdict::WrongRoot => {
                    eprintln!("Verification of root hash failed.");
                    Ok(1)
                }
                Verdict::CorruptData { block, offset } => {
                    eprintln!("Verification failed at position {offset} (data block {block}).");
                    Ok(2)
                }
                Verdict::CorruptHash { block, offset } => {
                    eprintln!("Verification failed at position {offset} (hash block {block}).");
                    Ok(2)
                }
            }
        }
        _ => Err(
            "usage: verity format DATA HASH [--hash ALG] [--salt HEX|-] [--uuid UUID] \
             [--data-block-size N] [--hash-block-size N] | verity verify DATA HASH ROOT"
                .to_string(),
        ),
    }
}

fn parse_format_options(rest: &[String]) -> Result<FormatOptions, String> {
    let mut opts = FormatOptions::default();
    let mut it = rest.iter();
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--hash" => {
                opts.algorithm = HashAlgorithm::from_name(value)
                    .ok_or_else(|| format!("unsupported hash {value}"))?;
            }
            "--salt" if value == "-" => opts.salt = Some(Vec::new()),
            "--salt" => opts.salt = Some(unhex(value).ok_or("--salt must be hex or -")?),
            "--uuid" => {
                let raw = unhex(&value.replace('-', "")).ok_or("--uuid must be a UUID")?;
                opts.uuid = Some(raw.try_into().map_err(|_| "--uuid must be 16 bytes")?);
            }
            "--data-block-size" => {
                opts.data_block_size = value.parse().map_err(|_| "bad --data-block-size")?;
            }
            "--hash-block-size" => {
                opts.hash_block_size = value.parse().map_err(|_| "bad --hash-block-size")?;
            }
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    Ok(opts)
}
