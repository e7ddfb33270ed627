#!/usr/bin/env bash
# The whole CI test suite: installs the reference tools, checks formatting and lints, runs the
# unit tests, builds the release binary and runs the client-compatibility suites against ruzk.
# Ends with one line "N passed, N failed" (tests counted from cargo test and pytest; a step
# without its own test count, like fmt or clippy, counts as one) and exits non-zero on any failure.
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
LOG_DIR="$(mktemp -d /tmp/ruzk-test.XXXXXX)"
PASSED=0
FAILED=0
FAILED_STEPS=()

# step NAME KIND CMD...   KIND: plain | cargo-test | pytest
step() {
  local name="$1" kind="$2"
  shift 2
  local log="$LOG_DIR/$name.log"
  echo "=== $name: $*"
  local start=$SECONDS rc=0
  "$@" 2>&1 | tee "$log" || rc=$?
  local p=0 f=0 counted=0
  case "$kind" in
    cargo-test)
      while read -r a b; do p=$((p + a)); f=$((f + b)); counted=1; done < <(
        sed -nE 's/^test result: [A-Za-z]+\. ([0-9]+) passed; ([0-9]+) failed.*/\1 \2/p' "$log")
      ;;
    pytest)
      while read -r line; do
        counted=1
        a=$(sed -nE 's/.*[^0-9]([0-9]+) passed.*/\1/p; s/^([0-9]+) passed.*/\1/p' <<<"$line" | head -1)
        b=$(sed -nE 's/.*[^0-9]([0-9]+) failed.*/\1/p; s/^([0-9]+) failed.*/\1/p' <<<"$line" | head -1)
        e=$(sed -nE 's/.*[^0-9]([0-9]+) errors?.*/\1/p' <<<"$line" | head -1)
        p=$((p + ${a:-0})); f=$((f + ${b:-0} + ${e:-0}))
      done < <(sed 's/=//g' "$log" | grep -E '^ *[0-9]+ (passed|failed|errors?)(,.*)? in [0-9.]+s')
      ;;
  esac
  if [ $counted -eq 0 ]; then
    if [ $rc -eq 0 ]; then p=1; else f=1; fi
  elif [ $rc -ne 0 ] && [ $f -eq 0 ]; then
    f=1  # the runner failed outside any counted test (build error, server did not start, ...)
  fi
  PASSED=$((PASSED + p)); FAILED=$((FAILED + f))
  if [ $rc -ne 0 ] || [ $f -ne 0 ]; then FAILED_STEPS+=("$name"); fi
  echo "=== $name: exit $rc, $p passed, $f failed, $((SECONDS - start)) s"
}

step install plain bash compat-tests/install.sh
step fmt plain cargo fmt --check
step clippy plain cargo clippy --all-targets -- -D warnings
step unused-deps plain bash scripts/check-unused-deps.sh
step cargo-test cargo-test cargo test
step build-release plain cargo build --release
step fuzz plain bash scripts/fuzz.sh --ci
if [ -x target/release/ruzk ]; then
  PY="$ROOT/compat-tests/.venv/bin/python"
  step compat-ruzk pytest bash compat-tests/run.sh ruzk
  step differential plain env RUZK_BIN="$ROOT/target/release/ruzk" bash compat-tests/differential/ci.sh standalone
  step crash-safety plain "$PY" compat-tests/durability/crash_safety.py --ruzk target/release/ruzk --rounds 25
  step datadir-interop plain env PY="$PY" bash compat-tests/durability/interop.sh target/release/ruzk 110000
  step storage-java-loads-ruzk plain bash compat-tests/storage/java-loads-ruzk-datadir.sh target/release/ruzk
  step storage-server-interop plain bash compat-tests/storage/server-datadir-interop.sh target/release/ruzk
  step storage-tools-match-java plain bash compat-tests/storage/tools-match-java.sh target/release/ruzk
  step storage-recover-matches-java plain bash compat-tests/storage/recover-matches-java.sh target/release/ruzk
  step storage-purge-matches-java plain bash compat-tests/storage/purge-matches-java.sh target/release/ruzk
  step bench-smoke plain bash scripts/bench-smoke-ruzk.sh
  # Client SASL (DIGEST-MD5, sasl ACLs, auth enforcement) against Java 3.8.0 and ruzk: ~80 s.
  step sasl-client plain "$PY" compat-tests/sasl/check.py target/release/ruzk
  # The ensemble: election against Java, Zab suites on ruzk-only and mixed ensembles, the client
  # suite through followers, rolling replacement, and the ensemble differential.
  step election-java plain bash compat-tests/election/run.sh
  step ensemble-suites pytest "$ROOT/compat-tests/.venv/bin/pytest" -q -rfE compat-tests/ensemble \
    --topology ruzk3,ruzk5,mixed_java_leader,mixed_ruzk_leader,observer_ruzk
  step ensemble-sync-crossed pytest "$ROOT/compat-tests/.venv/bin/pytest" -q -rfE compat-tests/ensemble/test_sync.py \
    compat-tests/ensemble/test_observers.py --topology mixed_alt_ruzk_leader,mixed_alt_java_leader,observer_java_ruzk_leader
  step ensemble-rolling pytest "$ROOT/compat-tests/.venv/bin/pytest" -q -rfE compat-tests/ensemble/test_rolling.py --topology rolling
  step compat-ruzk-ensemble pytest bash compat-tests/run.sh ruzk-ensemble
  step compat-mixed-ensemble pytest bash compat-tests/run.sh mixed-ensemble
  step compat-mixed-ruzk-leader-ensemble pytest bash compat-tests/run.sh mixed-ruzk-leader-ensemble
  step differential-ensembles plain bash compat-tests/differential/ci.sh ensembles
  # Fault injection (partitions, delays, kill -9, SIGSTOP, torn tail, full disk) on ruzk3 and a mixed
  # ensemble, rolling replacement under load, and two runs that must be caught: about 5 min (281 s measured beside a soak).
  step faults plain bash compat-tests/faults/ci.sh
else
  echo "=== compat-ruzk: skipped, no release binary"; FAILED=$((FAILED + 1)); FAILED_STEPS+=("compat-ruzk")
fi

echo
if [ ${#FAILED_STEPS[@]} -gt 0 ]; then echo "failed steps: ${FAILED_STEPS[*]} (logs in $LOG_DIR)"; fi
echo "$PASSED passed, $FAILED failed"
[ ${#FAILED_STEPS[@]} -eq 0 ] && [ "$FAILED" -eq 0 ]
