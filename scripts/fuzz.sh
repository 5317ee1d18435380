#!/usr/bin/env bash
# Run every cargo-fuzz target for a bounded time (default 30 s each) and
# report which ran clean. Seeds each corpus from the fixture hosts.
#
#   bash scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET…]
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
SECS=${1:-30}
shift || true
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
rustup toolchain list | grep -q nightly || rustup toolchain install nightly --profile minimal
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo +nightly fuzz list)
H=../tests/fixtures/hosts
seed() { # target, files…
  local dir=corpus/$1; shift; mkdir -p "$dir"
  for f in "$@"; do [ -f "$f" ] && cp "$f" "$dir/seed-$(echo "$f" | md5sum | cut -c1-12)"; done; return 0
}
seed kconfig $H/*/root/boot/config-*
seed sysctl_d $H/*/root/etc/sysctl.d/*.conf
seed modprobe $H/*/root/etc/modprobe.d/*.conf
seed cmdline $H/*/root/proc/cmdline
seed mountinfo $H/*/root/proc/self/mountinfo
seed modules $H/*/root/proc/modules
seed cpuinfo $H/*/root/proc/cpuinfo
seed os_release $H/*/root/etc/os-release
seed passwd $H/*/root/etc/passwd
seed shadow $H/*/root/etc/shadow
seed group $H/*/root/etc/group
seed login_defs $H/*/root/etc/login.defs
seed sshd_config $H/*/root/etc/ssh/sshd_config $H/*/root/etc/ssh/sshd_config.d/*
seed systemd_unit $H/*/root/usr/lib/systemd/system/*.service
seed dpkg_status $H/*/root/var/lib/dpkg/status
seed proc_net $H/*/root/proc/net/tcp $H/*/root/proc/net/tcp6 $H/*/root/proc/net/udp
seed nvidia_params $H/*/root/proc/driver/nvidia/params
seed audit_rules $H/*/root/etc/audit/rules.d/*
seed journald_conf $H/*/root/etc/systemd/journald.conf
seed profile ../crates/policy/profiles/*.toml
seed report_render seeds/report-small.json
seed proc_swaps seeds/proc-swaps.txt
seed erase_certificate seeds/erase-certificate.json
W=$H/weakened/root/etc
mkdir -p corpus/remedy_render && cat $W/fstab $W/ssh/sshd_config 2>/dev/null | tr -d '\0' > corpus/remedy_render/seed-host || true
mkdir -p corpus/diff_json && { cat seeds/report-small.json; printf '\0'; sed s/fail/pass/ seeds/report-small.json; } > corpus/diff_json/seed-reports
seed minisign_pubkey ../crates/evidence/tests/fixtures/minisign/*.pub
seed minisign_seckey ../crates/evidence/tests/fixtures/minisign/*.key
seed minisign_signature ../crates/evidence/tests/fixtures/minisign/*.minisig
cargo +nightly fuzz build -O >/dev/null
clean=0; failed=()
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  if cargo +nightly fuzz run -O "$t" "corpus/$t" -- -max_total_time="$SECS" -rss_limit_mb=2048 > "/tmp/fuzz-$t.log" 2>&1; then
    runs=$(grep -oE 'Done [0-9]+ runs' "/tmp/fuzz-$t.log" | awk '{print $2}' || true)
    printf '%-16s clean  %8ss  %12s execs\n' "$t" "$SECS" "${runs:-?}"
    clean=$((clean + 1))
  else
    printf '%-16s FAILED (see /tmp/fuzz-%s.log, fuzz/artifacts/%s)\n' "$t" "$t" "$t"
    failed+=("$t")
  fi
done
echo "fuzz: ${clean} clean, ${#failed[@]} failed of ${#targets[@]} targets, ${SECS}s each"
[ ${#failed[@]} -eq 0 ]
