#!/usr/bin/env bash
# Syscalls, wake-ups and CPU per request of one ruzk server binary under `ruzk bench`'s
# pipelined read and write loads (8 connections x 64 in flight, 1 KiB values), the numbers
# issue 14 asks for. Usage: bench/conn-syscalls.sh SERVER_BIN [BENCH_BIN] > table.md
#   SERVER_BIN  the ruzk binary to measure (e.g. one built from main, then this branch)
#   BENCH_BIN   the load generator (default target/release/ruzk; keep it the same across runs)
# Per load: one run without tracing for server CPU per op (utime+stime from /proc/PID/stat
# over the run / replies); one under `perf stat` syscall tracepoints (cheap, so the server
# batches as it does untraced): syscalls, socket reads and writes, `write` (eventfd wake-ups of
# tokio's I/O driver, and the txn log), futex calls and futex wakes, context switches per
# request; one under `strace -c -f` (the traditional count; it slows the server, which then
# finds more requests per read, so its per-request figures flatter batching code).
# About 1-2 minutes. Prints a markdown table, one row per load.
set -euo pipefail
SERVER=$(realpath "$1")
BENCH=$(realpath "${2:-target/release/ruzk}")
OPS=${OPS:-200000}
TRACE_OPS=${TRACE_OPS:-100000}
PORT=${PORT:-21790}
WORK=$(mktemp -d /tmp/ruzk-conn-syscalls.XXXXXX)
printf 'tickTime=2000\ndataDir=%s\nclientPort=%s\nclientPortAddress=127.0.0.1\nmaxClientCnxns=0\n' \
  "$WORK/data" "$PORT" >"$WORK/zoo.cfg"
"$SERVER" server "$WORK/zoo.cfg" >"$WORK/server.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done
B=("$BENCH" bench --server 127.0.0.1:$PORT --no-progress --conns 8 --inflight 64 --warmup 0)
"${B[@]}" --workload paper-read --setup --keys 1000 --ops 1 >/dev/null

cpu_ticks() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
replies() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ops_total"])' "$1"; }
HZ=$(getconf CLK_TCK)
WAKE_OPS='op == 1 || op == 129 || op == 10 || op == 138 || op == 5 || op == 133'
EV=(-e raw_syscalls:sys_enter -e syscalls:sys_enter_recvfrom -e syscalls:sys_enter_sendto
  -e syscalls:sys_enter_writev -e syscalls:sys_enter_write -e syscalls:sys_enter_epoll_wait
  -e syscalls:sys_enter_futex -e syscalls:sys_enter_futex --filter "$WAKE_OPS" -e context-switches)

echo "| load | server CPU µs/op | syscalls/req | recvfrom/req | sendto+writev/req | write/req | epoll_wait/req | futex/req | futex wakes/req | ctx switches/req | strace: syscalls/req | strace: recvfrom/req | strace: futex/req |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
for load in read write; do
  c0=$(cpu_ticks)
  "${B[@]}" --workload "paper-$load" --ops "$OPS" --json-out "$WORK/cpu.json" >/dev/null
  c1=$(cpu_ticks)
  n=$(replies "$WORK/cpu.json")
  cpu=$(python3 -c "print(f'{($c1-$c0)/$HZ*1e6/$n:.2f}')")

  perf stat -x, -o "$WORK/perf.txt" "${EV[@]}" -p "$PID" &
  S=$!
  sleep 1
  "${B[@]}" --workload "paper-$load" --ops "$TRACE_OPS" --json-out "$WORK/perf.json" >/dev/null
  kill -INT $S
  wait $S || true
  np=$(replies "$WORK/perf.json")

  # -f with the process id: strace attaches to every thread of the server
  strace -c -f -o "$WORK/strace-c.txt" -p "$PID" 2>/dev/null &
  S=$!
  sleep 1
  "${B[@]}" --workload "paper-$load" --ops "$TRACE_OPS" --json-out "$WORK/tr.json" >/dev/null
  kill -INT $S
  wait $S || true
  ns=$(replies "$WORK/tr.json")

  python3 - "$load" "$cpu" "$WORK/perf.txt" "$np" "$WORK/strace-c.txt" "$ns" <<'EOF'
import sys
load, cpu, perf, np, strace, ns = sys.argv[1:7]
np, ns = int(np), int(ns)
# perf -x, lines: value,unit,event,...; the two futex events come in order (all, then wakes)
vals = []
for line in open(perf):
    f = line.strip().split(",")
    if len(f) > 2 and f[0].strip().isdigit():
        vals.append(int(f[0]))
total, recv, send, writev, write, epoll, futex, wakes, cs = vals[:9]
calls = {}
for line in open(strace):
    f = line.split()
    if len(f) >= 5 and f[0][0].isdigit() and not line.startswith("100.00"):
        try:
            calls[f[-1]] = int(f[3])
        except ValueError:
            pass
st = lambda *ks: sum(calls.get(k, 0) for k in ks) / ns
print(f"| {load} | {cpu} | {total/np:.3f} | {recv/np:.3f} | {(send+writev)/np:.3f} | {write/np:.3f} | {epoll/np:.3f} "
      f"| {futex/np:.3f} | {wakes/np:.3f} | {cs/np:.3f} | {sum(calls.values())/ns:.3f} | {st('recvfrom'):.3f} | {st('futex'):.3f} |")
EOF
done
