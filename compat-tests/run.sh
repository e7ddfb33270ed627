#!/usr/bin/env bash
# Runs the client-compatibility suites (kazoo, Java client, Curator, C client, bad input)
# against Debian's Java ZooKeeper 3.8.0, against ruzk, or both, one fresh server each.
# Usage: compat-tests/run.sh [java|ruzk|both] [extra pytest args...]
# Exit status is non-zero if any suite fails on any target.
set -u
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
TARGET="${1:-both}"
shift || true
PYTEST_ARGS=("$@")
VENV="$HERE/.venv"
JAVA_PORT="${COMPAT_JAVA_PORT:-21201}"
RUZK_PORT="${COMPAT_RUZK_PORT:-21202}"
SUPER_USER=super
SUPER_PASS=compat-super-secret

if [ ! -x "$VENV/bin/pytest" ]; then
  echo "run.sh: $VENV missing; run compat-tests/install.sh first" >&2
  exit 2
fi

SUPER_DIGEST="$("$VENV/bin/python" -c 'import hashlib,base64,sys;u,p=sys.argv[1:];print(u+":"+base64.b64encode(hashlib.sha1((u+":"+p).encode()).digest()).decode())' "$SUPER_USER" "$SUPER_PASS")"
SYSPROPS=(
  "-Dzookeeper.DigestAuthenticationProvider.superDigest=$SUPER_DIGEST"
  "-Dznode.container.checkIntervalMs=1000"
  "-Dzookeeper.extendedTypesEnabled=true"
  "-Dzookeeper.admin.enableServer=false"
)

WORK=""
server_pid() { cat "$WORK/server.pid" 2>/dev/null; }
cleanup() {
  local pid
  pid="$(server_pid)"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
  fi
  [ -n "$WORK" ] && rm -f "$WORK/server.pid"
}
trap 'cleanup; [ -n "$WORK" ] && rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM

write_cfg() { # dir port
  mkdir -p "$1/data"
  cat >"$1/zoo.cfg" <<CFG
tickTime=2000
initLimit=10
syncLimit=5
dataDir=$1/data
clientPort=$2
clientPortAddress=127.0.0.1
maxClientCnxns=0
4lw.commands.whitelist=*
admin.enableServer=false
extendedTypesEnabled=true
CFG
}

wait_ready() { # port pid log
  local deadline=$((SECONDS + 60))
  while [ $SECONDS -lt $deadline ]; do
    if [ -z "$2" ] || ! kill -0 "$2" 2>/dev/null; then
      echo "run.sh: server exited early; log:" >&2; tail -50 "$3" >&2; return 1
    fi
    if [ "$("$VENV/bin/python" - "$1" <<'PY'
import socket, sys
try:
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)
    s.sendall(b"ruok"); s.settimeout(2)
    print(s.recv(16).decode(errors="replace"))
except Exception:
    print("")
PY
)" = "imok" ]; then return 0; fi
    sleep 0.3
  done
  echo "run.sh: server on port $1 not ready after 60 s; log:" >&2; tail -50 "$3" >&2
  return 1
}

# write_launchers DIR PORT CMD...: DIR/start.sh starts CMD in the background (pid in DIR/server.pid,
# output appended to DIR/server.log); DIR/restart.sh [SIGNAL] stops it with SIGNAL (default TERM;
# KILL simulates a crash), starts it again and waits until it answers ruok. Tests get the latter
# as ZK_RESTART.
write_launchers() {
  local dir="$1" port="$2"
  shift 2
  {
    echo '#!/usr/bin/env bash'
    printf 'cd %q\n' "$dir"
    printf '%q ' "$@"
    printf '>>%q 2>&1 </dev/null &\n' "$dir/server.log"
    printf 'echo $! >%q\n' "$dir/server.pid"
  } >"$dir/start.sh"
  {
    echo '#!/usr/bin/env bash'
    echo 'set -u'
    printf 'pid="$(cat %q)"\n' "$dir/server.pid"
    echo 'kill -"${1:-TERM}" "$pid" 2>/dev/null'
    echo 'for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done'
    echo 'kill -0 "$pid" 2>/dev/null && { echo "restart.sh: server $pid did not stop" >&2; exit 1; }'
    printf 'bash %q\n' "$dir/start.sh"
    printf 'for _ in $(seq 1 600); do [ "$(%q -c %q %q 2>/dev/null)" = imok ] && exit 0; sleep 0.1; done\n' \
      "$VENV/bin/python" 'import socket,sys;s=socket.create_connection(("127.0.0.1",int(sys.argv[1])),2);s.sendall(b"ruok");print(s.recv(8).decode())' "$port"
    echo 'echo "restart.sh: server not ready after 60 s" >&2; exit 1'
  } >"$dir/restart.sh"
  chmod +x "$dir/start.sh" "$dir/restart.sh"
}

start_java() { # dir port
  write_cfg "$1" "$2"
  write_launchers "$1" "$2" java -Xmx512m "${SYSPROPS[@]}" \
    -cp /usr/share/java/zookeeper.jar:/usr/share/java/zookeeper-jute.jar:/usr/share/java/slf4j-api.jar:/usr/share/java/slf4j-simple.jar \
    org.apache.zookeeper.server.quorum.QuorumPeerMain "$1/zoo.cfg"
  bash "$1/start.sh"
}

start_ruzk() { # dir port
  write_cfg "$1" "$2"
  local bin="$ROOT/target/release/ruzk"
  if [ ! -x "$bin" ]; then
    (cd "$ROOT" && cargo build --release) || return 1
  fi
  write_launchers "$1" "$2" "$bin" server "$1/zoo.cfg" "${SYSPROPS[@]}"
  bash "$1/start.sh"
}

run_target() { # name port
  local name="$1" port="$2"
  WORK="$(mktemp -d "/tmp/compat-$name.XXXXXX")"
  echo "=== compat: target $name on 127.0.0.1:$port (work dir $WORK)"
  "start_$name" "$WORK" "$port" || { echo "run.sh: cannot start $name" >&2; return 1; }
  wait_ready "$port" "$(server_pid)" "$WORK/server.log" || { cleanup; return 1; }
  local rc=0
  ZK_HOST="127.0.0.1:$port" ZK_TARGET="$name" ZK_SUPER="$SUPER_USER:$SUPER_PASS" \
    ZK_RESTART="$WORK/restart.sh" ZK_SERVER_LOG="$WORK/server.log" \
    "$VENV/bin/pytest" -p no:cacheprovider -q -rfE "$HERE/python" "${PYTEST_ARGS[@]}" 2>&1 | tee "$WORK/pytest.log"
  rc=${PIPESTATUS[0]}
  if ! kill -0 "$(server_pid)" 2>/dev/null; then
    echo "run.sh: $name server died during the run; log tail:" >&2; tail -30 "$WORK/server.log" >&2; rc=1
  fi
  cleanup
  if [ $rc -ne 0 ]; then
    cp "$WORK/server.log" "/tmp/compat-$name-last-server.log"
    cp "$WORK/pytest.log" "/tmp/compat-$name-last-pytest.log"
    echo "run.sh: logs kept in /tmp/compat-$name-last-{server,pytest}.log" >&2
  fi
  rm -rf "$WORK"; WORK=""
  return $rc
}

status=0
case "$TARGET" in
  java) run_target java "$JAVA_PORT" || status=1 ;;
  ruzk) run_target ruzk "$RUZK_PORT" || status=1 ;;
  both)
    run_target java "$JAVA_PORT" || status=1
    run_target ruzk "$RUZK_PORT" || status=1 ;;
  *) echo "usage: $0 [java|ruzk|both] [pytest args]" >&2; exit 2 ;;
esac
exit $status
