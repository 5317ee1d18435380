#!/usr/bin/env bash
# Side-by-side benchmark of tree sealing (issue: seal a tree, verify drift):
# our seal (crates/seal/examples/seal.rs, BLAKE3 and SHA-256) against
# `aide --init` (SHA-256, 2 workers), `b3sum` over the same files, and
# `cat` of every file (the read floor); plus a full verify and a
# `verify --quick` of the unchanged tree with a warm cache. Warm page
# cache throughout. Prints medians, ratios and peak RSS.
#
#   bash scripts/bench-seal.sh [RUNS] [DIR]
#
# DIR defaults to /usr, read in place (nothing is written to it). Needs
# aide, b3sum and GNU time (apt install aide b3sum time).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
DIR=$(realpath "${2:-/usr}")
for p in aide b3sum; do
  command -v "$p" >/dev/null || { echo "missing $p (apt install $p)" >&2; exit 2; }
done
[ -x /usr/bin/time ] || { echo "missing /usr/bin/time (apt install time)" >&2; exit 2; }
cargo build --release --quiet -p tractorsec-seal --example seal
SEAL=${CARGO_TARGET_DIR:-target}/release/examples/seal
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

files=$(find "$DIR" -xdev -type f | wc -l)
entries=$(find "$DIR" -xdev | wc -l)
gib=$(find "$DIR" -xdev -type f -printf '%s\n' | awk '{s+=$1} END {printf "%.2f", s / 1073741824}')
find "$DIR" -xdev -type f -print0 > "$WORK/files0"

cat > "$WORK/aide.conf" <<CONF
database_out=file:$WORK/aide-db/aide.db.new
gzip_dbout=no
num_workers=2
report_url=stdout
log_level=error
Sel = p+ftype+l+u+g+s+sha256+xattrs
${DIR}\$ Sel
${DIR}/ Sel
CONF
mkdir -p "$WORK/aide-db"

median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

# measure NAME RUNS COMMAND…: runs it RUNS times (after one warm-up run),
# records wall seconds and peak RSS (KiB) of each run.
declare -A MED RSS
measure() {
  local name=$1 runs=$2; shift 2
  "$@" > /dev/null 2>&1 || true   # warm-up (and the page cache)
  : > "$WORK/$name.t"; : > "$WORK/$name.m"
  for _ in $(seq "$runs"); do
    local t0 t1
    t0=$(date +%s.%N)
    /usr/bin/time -f %M -o "$WORK/$name.rss" "$@" > /dev/null 2> "$WORK/$name.err" \
      || { [ "$name" = verify ] || [ "$name" = quick ] || { cat "$WORK/$name.err" >&2; exit 1; }; }
    t1=$(date +%s.%N)
    awk -v a="$t1" -v b="$t0" 'BEGIN {printf "%.6f\n", a - b}' >> "$WORK/$name.t"
    tail -1 "$WORK/$name.rss" >> "$WORK/$name.m"
  done
  MED[$name]=$(median < "$WORK/$name.t")
  RSS[$name]=$(median < "$WORK/$name.m")
}

measure cat "$RUNS" sh -c "xargs -0 cat < '$WORK/files0' > /dev/null"
measure b3sum "$RUNS" sh -c "xargs -0 b3sum --num-threads 2 < '$WORK/files0'"
measure b3sum_p2 "$RUNS" sh -c "xargs -0 -P 2 -n 2000 b3sum --num-threads 1 < '$WORK/files0'"
measure seal "$RUNS" "$SEAL" seal "$DIR" -o "$WORK/manifest"
measure seal_sha256 "$RUNS" "$SEAL" seal "$DIR" --sha256 -o "$WORK/manifest-sha256"
measure aide 1 aide --init --config="$WORK/aide.conf"
"$SEAL" seal "$DIR" -o "$WORK/manifest" 2>/dev/null
measure verify "$RUNS" "$SEAL" verify "$DIR" "$WORK/manifest"
"$SEAL" verify "$DIR" "$WORK/manifest" --quick "$WORK/quick.cache" > /dev/null || true  # fill the cache
measure quick "$RUNS" "$SEAL" verify "$DIR" "$WORK/manifest" --quick "$WORK/quick.cache"
"$SEAL" verify "$DIR" "$WORK/manifest" --quick "$WORK/quick.cache" | head -1 > "$WORK/quick.summary" || true

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
printf '\ntree: %s — %d entries, %d regular files, %s GiB; %d runs each (aide 1), %d cores, warm cache\n\n' \
  "$DIR" "$entries" "$files" "$gib" "$RUNS" "$(nproc)"
printf '%-44s %10s %12s\n' measurement "median s" "peak RSS MiB"
row() { printf '%-44s %10.3f %12.1f\n' "$1" "${MED[$2]}" "$(awk -v k="${RSS[$2]}" 'BEGIN {print k / 1024}')"; }
row "cat every file > /dev/null (read floor)" cat
row "b3sum --num-threads 2 (xargs)" b3sum
row "b3sum, 2 processes (xargs -P 2)" b3sum_p2
row "seal (blake3)" seal
row "seal --sha256" seal_sha256
row "aide --init (sha256, num_workers=2)" aide
row "verify (full re-hash, blake3)" verify
row "verify --quick, unchanged tree, warm cache" quick
best_b3=$(printf '%s\n%s\n' "${MED[b3sum]}" "${MED[b3sum_p2]}" | sort -n | head -1)
printf '\nseal / best b3sum:          %sx   (target <= 1.3x)\n' "$(ratio "${MED[seal]}" "$best_b3")"
printf 'seal / cat floor:           %sx\n' "$(ratio "${MED[seal]}" "${MED[cat]}")"
printf 'aide --init / seal:         %sx  (target >= 10x)\n' "$(ratio "${MED[aide]}" "${MED[seal]}")"
printf 'aide --init / seal --sha256: %sx\n' "$(ratio "${MED[aide]}" "${MED[seal_sha256]}")"
printf 'verify --quick:             %.3f s for %d entries (target < 1 s for 100k+)\n' "${MED[quick]}" "$entries"
printf 'quick verify said:          %s\n' "$(cat "$WORK/quick.summary")"
printf 'manifest: %d bytes, %d lines\n' "$(stat -c %s "$WORK/manifest")" "$(wc -l < "$WORK/manifest")"
