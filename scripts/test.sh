#!/usr/bin/env bash
# The whole test suite. Installs the Debian packages the tests need when they
# are missing, checks formatting and lints, then runs every test with nextest.
# Tests that need root (device nodes in fixture roots, the unprivileged-run
# check) run here as root; they fail, never skip, when CI=true and not root.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v sysctl >/dev/null || need+=(procps)
command -v setpriv >/dev/null || need+=(util-linux)
command -v mknod >/dev/null || need+=(coreutils)
command -v python3 >/dev/null || need+=(python3)
# Real consumers of the report formats and signatures (issue 3).
command -v minisign >/dev/null || need+=(minisign)
command -v chromium >/dev/null || need+=(chromium)
command -v promtool >/dev/null || need+=(prometheus)
command -v prometheus-node-exporter >/dev/null || need+=(prometheus-node-exporter)
command -v groff >/dev/null || need+=(groff-base)
# Real tools that must accept what `apply` writes (issue 4).
command -v sshd >/dev/null || need+=(openssh-server)
command -v modprobe >/dev/null || need+=(kmod)
command -v unshare >/dev/null || need+=(util-linux)
# Real tools for sealed images (issue 5).
command -v veritysetup >/dev/null || need+=(cryptsetup-bin)
command -v setfattr >/dev/null || need+=(attr)
# Real tools for erase on loop devices (issue 6).
command -v losetup >/dev/null || need+=(mount)
command -v addpart >/dev/null || need+=(util-linux)
command -v mkfs.ext4 >/dev/null || need+=(e2fsprogs)
command -v script >/dev/null || need+=(bsdutils)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
  else
    echo "scripts/test.sh: missing ${need[*]}; install them (needs root)" >&2
    exit 2
  fi
fi
# Independent parsers: JSON Schema, JUnit XML, OCSF models.
if ! python3 -c 'import jsonschema, junitparser, py_ocsf_models' 2>/dev/null; then
  python3 -m pip install --quiet --disable-pip-version-check jsonschema junitparser py-ocsf-models
fi
command -v cargo-nextest >/dev/null || cargo install --locked cargo-nextest

cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo nextest run --workspace --locked --no-fail-fast
