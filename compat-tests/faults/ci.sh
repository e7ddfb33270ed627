#!/usr/bin/env bash
# The bounded CI run of compat-tests/faults (about 5 minutes on 2 cores): the checker and proxy unit tests,
# one round of every fault kind on ruzk3 and on a mixed ensemble (2 ruzk + 1 Java), rolling
# replacement Java -> ruzk -> Java under load, and two runs that must FAIL the checks (a harness
# switch that loses an acknowledged write, and ruzk's test-only commit-without-quorum switch).
set -uo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PY="${PY:-$ROOT/compat-tests/.venv/bin/python}"
export RUZK_BIN="${RUZK_BIN:-$ROOT/target/release/ruzk}"
rc=0
part() {
  local name="$1"; shift
  local t=$SECONDS
  echo "--- faults/$name: $*"
  if "$@"; then echo "--- faults/$name: ok, $((SECONDS - t)) s"; else echo "--- faults/$name: FAILED, $((SECONDS - t)) s"; rc=1; fi
}
part unit "$PY" -m pytest -q -p no:cacheprovider "$HERE/test_linearizability.py" "$HERE/test_proxy.py"
part rounds "$PY" "$HERE/run.py" --topology ruzk3,mixed_2ruzk_1java --kinds all --rounds-per-kind 1 --keep-going \
  --seed "${FAULTS_SEED:-1}"
part rolling "$PY" "$HERE/run.py" --rolling --seed "${FAULTS_SEED:-1}"
part break-truth-caught "$PY" "$HERE/run.py" --topology ruzk3 --kinds kill-follower --break-truth --expect-caught
part ruzk-bug-caught env RUZK_TEST_ONLY_BREAK=commit_without_quorum "$PY" "$HERE/run.py" --topology ruzk3 \
  --kinds partition-leader --rounds-per-kind 2 --expect-caught
exit $rc
