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
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
  else
    echo "scripts/test.sh: missing ${need[*]}; install them (needs root)" >&2
    exit 2
  fi
fi
if ! python3 -c 'import jsonschema' 2>/dev/null; then
  python3 -m pip install --quiet jsonschema || {
    [ "$(id -u)" = 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-jsonschema
  }
fi
command -v cargo-nextest >/dev/null || cargo install --locked cargo-nextest

cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo nextest run --workspace --locked --no-fail-fast
