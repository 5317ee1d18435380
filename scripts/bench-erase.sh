#!/usr/bin/env bash
# Side-by-side benchmark: overwriting a loop device with `tractorsec erase`
# (methods zero and overwrite, whole command: refusal checks, O_DIRECT
# writes, flush, 1,002-sample read-back, certificate) against
# `dd if=/dev/zero of=DEV bs=4M count=SIZE/4M oflag=direct` on the same device. Runs
# alternate (dd, zero, overwrite, dd, …) so drift in the backing disk hits
# all alike. Prints the median throughput of each and the ratio to dd.
#
#   bash scripts/bench-erase.sh [RUNS] [SIZE_MIB]      (as root)
#
# The loop device is backed by a file under /var/tmp (a real disk, not
# tmpfs) and removed afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
SIZE_MIB=${2:-1024}
cargo build --release --quiet -p tractorsec
BIN=${CARGO_TARGET_DIR:-target}/release/tractorsec
WORK=$(mktemp -d /var/tmp/bench-erase.XXXXXX)
IMG=$WORK/disk.img
head -c "$((SIZE_MIB * 1024 * 1024))" /dev/urandom > "$IMG"
DEV=$(losetup -f --show --direct-io=on "$IMG")
trap 'losetup -d "$DEV"; rm -rf "$WORK"' EXIT
BYTES=$((SIZE_MIB * 1024 * 1024))

# Wall seconds of one command.
secs() {
  local t0 t1
  t0=$(date +%s.%N)
  "$@" > /dev/null 2>&1
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc -l
}
median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

: > "$WORK/dd"; : > "$WORK/zero"; : > "$WORK/overwrite"
secs dd if=/dev/zero of="$DEV" bs=4M count="$((SIZE_MIB / 4))" oflag=direct > /dev/null # warm-up
for _ in $(seq "$RUNS"); do
  secs dd if=/dev/zero of="$DEV" bs=4M count="$((SIZE_MIB / 4))" oflag=direct >> "$WORK/dd"
  secs "$BIN" erase "$DEV" --method zero --confirm "$IMG" -o "$WORK/cert.json" >> "$WORK/zero"
  grep -q '"result": "erased"' "$WORK/cert.json"
  secs "$BIN" erase "$DEV" --method overwrite --confirm "$IMG" -o "$WORK/cert.json" >> "$WORK/overwrite"
  grep -q '"result": "erased"' "$WORK/cert.json"
done
dd_s=$(median < "$WORK/dd")
mibs() { echo "scale=1; $BYTES / 1048576 / $1" | bc -l; }
echo "device: $DEV over $IMG ($SIZE_MIB MiB), $RUNS runs each, medians"
printf '%-44s %8.3f s %8s MiB/s\n' "dd if=/dev/zero bs=4M oflag=direct" "$dd_s" "$(mibs "$dd_s")"
for m in zero overwrite; do
  s=$(median < "$WORK/$m")
  printf '%-44s %8.3f s %8s MiB/s  %s of dd\n' "tractorsec erase --method $m" "$s" "$(mibs "$s")" \
    "$(echo "scale=1; 100 * $dd_s / $s" | bc -l)%"
done
