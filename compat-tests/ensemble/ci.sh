#!/usr/bin/env bash
# The bounded ensemble CI subset: the `ci`-marked ensemble tests on every given topology, the client
# suite against a 3-member ensemble (clients on a follower), and a short ensemble differential.
# Usage: compat-tests/ensemble/ci.sh [TOPOLOGIES]   (default java3,observer_java: all Java, passes today)
#        compat-tests/ensemble/ci.sh ruzk3,mixed_java_leader,mixed_ruzk_leader,observer_ruzk   (once ruzk runs ensembles)
# Every wait in these suites has a deadline; this script adds an outer timeout per step too.
set -u
HERE="$(cd "$(dirname "$0")" && pwd)"
CT="$(cd "$HERE/.." && pwd)"
TOPOS="${1:-java3,observer_java}"
VENV="$CT/.venv"
status=0
t0=$SECONDS

step() { # name timeout cmd...
  local name="$1" limit="$2"
  shift 2
  local s=$SECONDS
  echo "=== ensemble ci: $name"
  timeout --kill-after=30 "$limit" "$@" || { echo "=== ensemble ci: $name FAILED (status $?)"; status=1; }
  echo "=== ensemble ci: $name took $((SECONDS - s)) s"
}

step "ensemble suites -m ci on $TOPOS" 1800 "$VENV/bin/pytest" -q -rfE -m ci "$HERE" --topology "$TOPOS"
case ",$TOPOS," in
  *,java3,*) step "run.sh java-ensemble" 900 bash "$CT/run.sh" java-ensemble
             step "differential java3 vs java3" 600 "$CT/differential/run.sh" --a java3 --b java3 --seeds 1 --ops 500 ;;
esac
case ",$TOPOS," in
  *,mixed_java_leader,*) step "run.sh mixed-ensemble" 900 bash "$CT/run.sh" mixed-ensemble
                         step "differential java3 vs mixed_java_leader" 600 "$CT/differential/run.sh" \
                           --a java3 --b mixed_java_leader --seeds 1 --ops 500 ;;
esac
case ",$TOPOS," in
  *,mixed_ruzk_leader,*) step "differential java3 vs mixed_ruzk_leader" 600 "$CT/differential/run.sh" \
                           --a java3 --b mixed_ruzk_leader --seeds 1 --ops 500 ;;
esac
case ",$TOPOS," in
  *,ruzk3,*) step "run.sh ruzk-ensemble" 900 bash "$CT/run.sh" ruzk-ensemble
             step "differential java3 vs ruzk3" 600 "$CT/differential/run.sh" --a java3 --b ruzk3 --seeds 1 --ops 500 ;;
esac
echo "=== ensemble ci: done in $((SECONDS - t0)) s, status $status"
exit $status
