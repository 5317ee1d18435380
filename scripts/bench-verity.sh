#!/usr/bin/env bash
# Side-by-side benchmark: dm-verity `format` and `verify` of a 1 GiB data
# file with tractorsec-seal (crates/seal/examples/verity.rs, until
# `tractorsec verity` is wired up) against `veritysetup`. Both use the same
# salt and UUID, so their hash devices must be byte-identical (checked).
# Prints median wall times, the ratio, and the peak RSS of each.
#
#   bash scripts/bench-verity.sh [RUNS] [SIZE_MIB]
#
# Installs cryptsetup-bin and time from Debian when missing; uses hyperfine
# when it is installed, else loops over /usr/bin/time.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
SIZE_MIB=${2:-1024}
need() { # command, package
  command -v "$1" >/dev/null || [ -x "$1" ] || {
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$2"
  }
}
need veritysetup cryptsetup-bin
need /usr/bin/time time
cargo build --release --quiet --example verity -p tractorsec-seal
BIN=${CARGO_TARGET_DIR:-target}/release/examples/verity
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

SALT=0e6d61b606199258d461dff858134a208c16f2a807f6f4233519a4ad16aa2aec
UUID=4b900bc5-dbc9-48ee-ac13-54b853c193ca
head -c "$((SIZE_MIB * 1024 * 1024))" /dev/urandom > "$WORK/data.img"

VS_FORMAT="veritysetup format --salt $SALT --uuid $UUID $WORK/data.img $WORK/vs.img"
OURS_FORMAT="$BIN format $WORK/data.img $WORK/ours.img --salt $SALT --uuid $UUID"
root=$($VS_FORMAT | awk '/^Root hash:/ {print $3}')
ours_root=$($OURS_FORMAT | awk '/^Root hash:/ {print $3}')
[ "$root" = "$ours_root" ] || { echo "root hashes differ: $root vs $ours_root" >&2; exit 1; }
cmp -s "$WORK/vs.img" "$WORK/ours.img" || { echo "hash devices differ" >&2; exit 1; }
VS_VERIFY="veritysetup verify $WORK/data.img $WORK/vs.img $root"
OURS_VERIFY="$BIN verify $WORK/data.img $WORK/ours.img $root"

median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

# Median wall time in seconds of a command line over $RUNS runs (after one warm-up).
time_median() {
  if command -v hyperfine >/dev/null; then
    hyperfine --style none --warmup 1 --runs "$RUNS" --export-json "$WORK/h.json" "$1" > /dev/null 2> "$WORK/h.err"
    ! grep -q outliers "$WORK/h.err" || echo "note: hyperfine saw outliers for: ${1%% *} $2 (busy machine?)" >&2
    python3 -c "import json,statistics;print(round(statistics.median(json.load(open('$WORK/h.json'))['results'][0]['times']),3))"
  else
    $1 > /dev/null
    for _ in $(seq "$RUNS"); do
      /usr/bin/time -f %e -o "$WORK/t" $1 > /dev/null
      cat "$WORK/t"
    done | median
  fi
}

# Peak resident set size in MiB of one run.
peak_rss() {
  /usr/bin/time -f %M -o "$WORK/rss" $1 > /dev/null
  awk '{printf "%.1f", $1 / 1024}' "$WORK/rss"
}

echo "dm-verity, ${SIZE_MIB} MiB data, sha256, 4 KiB blocks, $RUNS runs, $(nproc) CPUs"
printf '%-8s %-12s %10s %12s\n' step tool median_s peak_rss_mib
for step in format verify; do
  if [ "$step" = format ]; then vs_cmd=$VS_FORMAT; ours_cmd=$OURS_FORMAT; else vs_cmd=$VS_VERIFY; ours_cmd=$OURS_VERIFY; fi
  vs_s=$(time_median "$vs_cmd" "$step")
  ours_s=$(time_median "$ours_cmd" "$step")
  printf '%-8s %-12s %10s %12s\n' "$step" veritysetup "$vs_s" "$(peak_rss "$vs_cmd")"
  printf '%-8s %-12s %10s %12s\n' "$step" tractorsec "$ours_s" "$(peak_rss "$ours_cmd")"
  printf '%-8s ratio veritysetup/tractorsec: %sx\n' "$step" "$(echo "scale=2; $vs_s / $ours_s" | bc -l)"
done
