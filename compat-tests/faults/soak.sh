#!/usr/bin/env bash
# The fault soak: `soak.sh --rounds 1000 [run.py options]`. Cycles every fault kind over ruzk3 and both
# mixed topologies (a fresh ensemble every 50 rounds), keeps going past a failing round, writes the
# figures to soak-result.json (or --json-out) and exits non-zero if any round failed.
set -uo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PY="${PY:-$ROOT/compat-tests/.venv/bin/python}"
export RUZK_BIN="${RUZK_BIN:-$ROOT/target/release/ruzk}"
args=("$@")
case " $* " in *" --rounds "*) ;; *) args+=(--rounds 1000) ;; esac
case " $* " in *" --json-out "*) ;; *) args+=(--json-out "$HERE/soak-result.json") ;; esac
exec "$PY" "$HERE/run.py" --topology ruzk3,mixed_2ruzk_1java,mixed_1ruzk_2java --kinds all \
  --restart-every 50 --keep-going "${args[@]}"
