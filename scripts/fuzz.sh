#!/usr/bin/env bash
# Builds the fuzz targets (fuzz/) and runs each for a bounded time on seeds made from the
# repository's own test data (golden client sessions, Java's logs and snapshots, config files).
#
#   bash scripts/fuzz.sh --ci               # CI: every target 10 s, after a fresh build
#   bash scripts/fuzz.sh --seconds 600      # on demand: every target 10 minutes
#   bash scripts/fuzz.sh --seconds 60 follower leader   # only these targets
#
# Works on the stable toolchain without cargo-fuzz: libfuzzer-sys brings libFuzzer, and the
# coverage instrumentation cargo-fuzz would ask for is set here by hand (-Cpasses=sancov-module
# ...); `--target` keeps those flags off build scripts and proc macros, which cannot link
# against libFuzzer. There is no AddressSanitizer (it needs nightly's -Zsanitizer), which safe
# Rust hardly needs: panics, overflows (overflow-checks on), hangs and memory blow-ups are caught.
# A crash leaves its input in fuzz/artifacts/<target>/ and fails the run; turn it into a test in
# tests/fuzz_regressions.rs. The growing corpus stays in fuzz/corpus/ (not committed).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SECS=60
TARGETS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --ci) SECS=10; shift ;;
    --seconds) SECS="$2"; shift 2 ;;
    -*) echo "usage: $0 [--ci | --seconds N] [TARGET...]" >&2; exit 2 ;;
    *) TARGETS+=("$1"); shift ;;
  esac
done
ALL=(client_stream txn_entry txnlog_file snapshot quorum_packets follower leader election config)
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=("${ALL[@]}")

TRIPLE="$(rustc -vV | sed -n 's/^host: //p')"
export RUSTFLAGS="--cfg fuzzing -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares"
cd "$ROOT/fuzz"
start=$SECONDS
echo "fuzz: building ${#ALL[@]} targets for $TRIPLE"
# Not --locked: fuzz/Cargo.lock pins the fuzzing crates, but ruzk's own dependencies move with
# the main Cargo.toml, and cargo adds what is new to this lock without moving existing pins.
nice cargo build --release --bins --target "$TRIPLE"
echo "fuzz: built in $((SECONDS - start)) s"
BIN="$ROOT/fuzz/target/$TRIPLE/release"

rm -rf "$ROOT/fuzz/seeds"
"$BIN/write_seeds" "$ROOT" "$ROOT/fuzz/seeds"

# The txn-log target writes its input to a scratch file under TMPDIR.
SCRATCH="$(mktemp -d /tmp/ruzk-fuzz.XXXXXX)"
failed=()
for t in "${TARGETS[@]}"; do
  corpus="$ROOT/fuzz/corpus/$t" artifacts="$ROOT/fuzz/artifacts/$t"
  mkdir -p "$corpus" "$artifacts"
  log="$(mktemp /tmp/ruzk-fuzz-$t.XXXXXX)"
  rc=0
  # -timeout: one input running past 10 s is a hang; -rss_limit_mb: a blow-up is a failure.
  TMPDIR="$SCRATCH" "$BIN/$t" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "$corpus" "$ROOT/fuzz/seeds/$t" >"$log" 2>&1 || rc=$?
  runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -1)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1)
  echo "fuzz: $t: exit $rc, ${runs:-?} runs, ${cov:-no coverage line}, corpus $(ls "$corpus" | wc -l) inputs"
  if [ $rc -ne 0 ]; then
    failed+=("$t")
    grep -E 'panicked|ERROR: libFuzzer|SUMMARY|Test unit written' "$log" | head -20 || true
    for a in "$artifacts"/*; do [ -f "$a" ] && { echo "--- $a"; xxd "$a" | head -20; }; done
  fi
  rm -f "$log"
done
rm -rf "$SCRATCH"
echo "fuzz: done in $((SECONDS - start)) s"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED targets: ${failed[*]} (inputs in fuzz/artifacts/)"
  exit 1
fi
