#!/usr/bin/env bash
# Side-by-side benchmark: a full `tractorsec audit` of this host (built-in
# tractoros profile) against `lynis audit system --quick`, plus the time to
# evaluate a stored snapshot. Prints medians and the ratio.
#
#   bash scripts/bench-audit.sh [RUNS] [LYNIS_RUNS]
#
# Needs root for a full audit (as in production); installs lynis and
# hyperfine from Debian when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-30}
LYNIS_RUNS=${2:-3}
for p in lynis hyperfine; do
  command -v "$p" >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$p"; }
done
cargo build --release --quiet -p tractorsec
BIN=${CARGO_TARGET_DIR:-target}/release/tractorsec
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

"$BIN" audit --fail-on never > /dev/null  # warm the page cache
hyperfine --style none --warmup 3 --runs "$RUNS" --export-json "$WORK/ts.json" \
  "$BIN audit --fail-on never --format json --output $WORK/report.json" > /dev/null
ts_ms=$(python3 -c "import json,statistics;r=json.load(open('$WORK/ts.json'))['results'][0];print(round(statistics.median(r['times'])*1000,2))")
controls=$(python3 -c "import json;print(len(json.load(open('$WORK/report.json'))['findings']))")

"$BIN" facts --output "$WORK/facts.json"
for _ in $(seq "$RUNS"); do
  "$BIN" audit --facts "$WORK/facts.json" --fail-on never --timings --format json --output "$WORK/r2.json" 2>&1 >/dev/null \
    | awk '/^timing evaluate/ {print $3}'
done > "$WORK/eval.txt"
eval_ms=$(median < "$WORK/eval.txt")
hyperfine --style none --warmup 3 --runs "$RUNS" --export-json "$WORK/snap.json" \
  "$BIN audit --facts $WORK/facts.json --fail-on never --format json --output $WORK/r3.json" > /dev/null
snap_ms=$(python3 -c "import json,statistics;r=json.load(open('$WORK/snap.json'))['results'][0];print(round(statistics.median(r['times'])*1000,2))")

# Rendering: the render phase of each format, from the stored snapshot.
render_total=0
render_rows=()
for fmt in text json sarif junit prometheus html ocsf; do
  for _ in $(seq "$RUNS"); do
    "$BIN" audit --facts "$WORK/facts.json" --fail-on never --timings --format "$fmt" --output "$WORK/r.$fmt" 2>&1 >/dev/null \
      | awk '/^timing render/ {print $3}'
  done > "$WORK/render.$fmt.txt"
  ms=$(median < "$WORK/render.$fmt.txt")
  render_rows+=("$fmt $ms $(stat -c %s "$WORK/r.$fmt")")
  render_total=$(echo "$render_total + $ms" | bc -l)
done

# Signing and verifying a report: tractorsec vs minisign, same key, same file.
if command -v minisign >/dev/null; then
  "$BIN" key generate --secret "$WORK/k.key" --public "$WORK/k.pub" --quiet
  "$BIN" audit --facts "$WORK/facts.json" --fail-on never --format json --output "$WORK/s.json"
  hyperfine --style none --warmup 3 --runs "$RUNS" --export-json "$WORK/sign.json" \
    "$BIN audit --facts $WORK/facts.json --fail-on never --format json --output $WORK/s.json" \
    "$BIN audit --facts $WORK/facts.json --fail-on never --format json --output $WORK/s.json --sign $WORK/k.key --quiet" \
    "minisign -S -s $WORK/k.key -m $WORK/s.json -t tractorsec" \
    "$BIN signature verify $WORK/s.json --pubkey $WORK/k.pub --quiet" \
    "minisign -Vq -p $WORK/k.pub -m $WORK/s.json" < /dev/null > /dev/null
  read -r unsigned_ms signed_ms minisign_sign_ms verify_ms minisign_verify_ms < <(python3 -c "import json,statistics;print(*[round(statistics.median(r['times'])*1000,2) for r in json.load(open('$WORK/sign.json'))['results']])")
fi

lynis_times=()
for _ in $(seq "$LYNIS_RUNS"); do
  s=$(date +%s.%N)
  lynis audit system --quick --no-colors --logfile "$WORK/lynis.log" --report-file "$WORK/lynis.dat" > /dev/null 2>&1 || true
  e=$(date +%s.%N)
  lynis_times+=("$(echo "($e - $s) * 1000" | bc -l)")
done
lynis_ms=$(printf '%s\n' "${lynis_times[@]}" | median)
lynis_run=$(awk -F= '/^tests_executed=/ {print gsub(/\|/,"|",$2)}' "$WORK/lynis.dat" 2>/dev/null || echo "?")

printf '%-48s %12s\n' "measurement" "median"
printf '%-48s %10.2f ms\n' "tractorsec audit, live host ($controls controls)" "$ts_ms"
printf '%-48s %10.2f ms\n' "lynis audit system --quick ($lynis_run tests run)" "$lynis_ms"
printf '%-48s %10.0fx\n' "ratio lynis / tractorsec" "$(echo "$lynis_ms / $ts_ms" | bc -l)"
printf '%-48s %10.3f ms\n' "evaluate a stored snapshot (in process)" "$eval_ms"
printf '%-48s %10.2f ms\n' "audit --facts FILE, whole process" "$snap_ms"
for row in "${render_rows[@]}"; do
  set -- $row
  printf '%-48s %10.3f ms  (%s bytes)\n' "render --format $1 (in process)" "$2" "$3"
done
printf '%-48s %10.3f ms\n' "render every format, sum" "$render_total"
if [ -n "${signed_ms:-}" ]; then
  printf '%-48s %10.2f ms\n' "audit --facts, JSON report" "$unsigned_ms"
  printf '%-48s %10.2f ms\n' "the same with --sign" "$signed_ms"
  printf '%-48s %10.2f ms\n' "minisign -S of that report" "$minisign_sign_ms"
  printf '%-48s %10.2f ms\n' "tractorsec signature verify" "$verify_ms"
  printf '%-48s %10.2f ms\n' "minisign -V" "$minisign_verify_ms"
fi
