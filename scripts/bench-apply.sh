#!/usr/bin/env bash
# `tractorsec apply --dry-run` of the full built-in profile on a copy of the
# weakened fixture host (device nodes made with mknod, so run as root), next
# to `tractorsec audit` of the same root: planning costs little more than
# auditing. Also times a real apply + rollback of that copy.
#
#   bash scripts/bench-apply.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-30}
command -v hyperfine >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends hyperfine; }
cargo build --release --quiet -p tractorsec
BIN=$(realpath "${CARGO_TARGET_DIR:-target}/release/tractorsec")
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
R=$WORK/root
cp -a tests/fixtures/hosts/weakened/root "$R"
while read -r path kind major minor mode uid gid; do
  mkdir -p "$R$(dirname "$path")"
  mknod "$R$path" "$kind" "$major" "$minor"; chown "$uid:$gid" "$R$path"; chmod "$mode" "$R$path"
done < tests/fixtures/hosts/weakened/devnodes.txt
changes=$("$BIN" apply --root "$R" --dry-run --format json | python3 -c 'import json,sys;print(len(json.load(sys.stdin)["changes"]))')
hyperfine --style none --warmup 3 --runs "$RUNS" --export-json "$WORK/h.json" \
  "$BIN apply --root $R --dry-run --output $WORK/plan.txt" \
  "$BIN audit --root $R --fail-on never --format json --output $WORK/report.json" \
  "$BIN apply --root $R --quiet --output $WORK/applied.txt && $BIN rollback --root $R --quiet" > /dev/null
python3 - "$WORK/h.json" "$changes" <<'PY'
import json, statistics, sys
r = json.load(open(sys.argv[1]))["results"]
m = [statistics.median(x["times"]) * 1000 for x in r]
print(f"{'measurement':<58} {'median':>10}")
print(f"{'apply --dry-run, weakened host (' + sys.argv[2] + ' changes planned)':<58} {m[0]:>7.2f} ms")
print(f"{'audit of the same root':<58} {m[1]:>7.2f} ms")
print(f"{'apply (journaled, fsynced) + rollback':<58} {m[2]:>7.2f} ms")
PY
