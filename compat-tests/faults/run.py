#!/usr/bin/env python3
"""Fault-injection rounds on real ensembles (ruzk-only and mixed with Java 3.8.0) and rolling
replacement Java -> ruzk -> Java under load; prints the figures and exits non-zero on any lost
acknowledged write, linearizability violation, differing replica or harness failure.

  run.py --topology ruzk3,mixed_2ruzk_1java --kinds all --rounds-per-kind 1     # the CI mode
  run.py --topology ruzk3 --rounds 1000                                         # a soak (soak.sh)
  run.py --rolling                                                              # rolling replacement
  run.py --topology ruzk3 --kinds kill-follower --break-truth --expect-caught   # the checks can fail

A round: wait until the ensemble serves, start the workers on fresh keys, apply one nemesis, heal,
wait until every member serves writes again, stop the workers, then the checks of checks.py.
"""

import argparse
import json
import os
import random
import signal
import sys
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from cluster import TOPOLOGIES, FaultEnsemble  # noqa: E402
import ensemble  # noqa: E402
import logscan  # noqa: E402
from checks import break_truth, final_checks  # noqa: E402
from nemesis import KINDS, Ctx  # noqa: E402
from workload import Workload, make_client  # noqa: E402
from kazoo.recipe.cache import TreeCache  # noqa: E402


def log(msg):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


def ensure_prefix(ens, prefix, step):
    m = ens.leader() or ens.live()[0]
    c = make_client(ens.connect_string())
    try:
        c.start(timeout=30)
        c.ensure_path(prefix + "/acks")
    except Exception as e:  # noqa: BLE001
        ens.fail(m, step, "waited 30 s to create %s/acks (%s: %s)" % (prefix, type(e).__name__, e),
                 "modes %s" % {x.sid: x.mode() for x in ens.live()})
    finally:
        c.stop()
        c.close()


def run_round(ens, kind, n, rng, args, totals):
    name = "round %d (%s, %s)" % (n, ens.name, kind)
    t0 = time.monotonic()
    ens.wait_healthy(timeout=120, step="%s: before the fault" % name)
    prefix = "/faults/r%d" % n
    ensure_prefix(ens, prefix, "%s: setup" % name)
    wl = Workload(ens, prefix, nworkers=args.workers, seed=rng.randrange(1 << 30))
    wl.start()
    time.sleep(0.5)
    ctx = Ctx(ens, rng, name)
    try:
        what = KINDS[kind](ctx)
        ens.proxy.heal()
        for m in ens:
            if m.paused:
                m.resume()
        try:
            ens.wait_healthy(timeout=120, step="%s: after the fault (%s)" % (name, kind))
        except ensemble.WaitTimeout:
            m = ens[ens.tmpfs_sid] if kind == "full-disk" else None
            if m is None or m.running():
                raise
            # The full-disk member died even later than the nemesis watched: restart it once.
            log("  %s exited (status %s) after the disk was freed; restarting it" % (m.name, m.proc.returncode))
            m.proc = None
            m.start()
            ens.wait_healthy(timeout=120, step="%s: after the fault (%s), member %d restarted" % (name, kind, m.sid))
        time.sleep(args.settle)
    finally:
        stuck = wl.stop()
    if stuck:
        ens.fail(None, name, "workers %s to stop within 60 s" % stuck, "they are blocked in a kazoo call")
    if wl.start_errors():
        ens.fail(None, name, "every worker to get a session", "; ".join(wl.start_errors()))
    broke = break_truth(ens, wl) if args.break_truth else None
    figures, failures = final_checks(ens, wl, name)
    secs = time.monotonic() - t0
    k = totals.setdefault((ens.name, kind), {"rounds": 0, "acked_writes": 0, "lost": 0, "violations": 0,
                                             "unknown": 0, "ops": 0, "seconds": 0.0, "failures": 0})
    k["rounds"] += 1
    for f in ("acked_writes", "lost", "violations", "unknown", "ops"):
        k[f] += figures[f]
    k["seconds"] += secs
    k["failures"] += 1 if failures else 0
    log("%s: %d ops, %d acked writes (%d appends), %d unknown, %d lost, %d violations, %d znodes compared, "
        "%.1f s (check %.2f s) — %s%s" % (name, figures["ops"], figures["acked_writes"], figures["acked_appends"],
                                          figures["unknown"], figures["lost"], figures["violations"],
                                          figures["znodes_compared"], secs, figures["check_s"], what,
                                          "; BREAK SWITCH: " + broke if broke else ""))
    if getattr(ens, "scanner", None) is not None:
        # Report-only: a fault round makes Java log lines the ensemble suites forbid (a member killed
        # mid-write, a partition cutting an election message), so these are leads, not verdicts.
        try:
            rep = ens.scanner.scan()
            found = {}
            for f in rep.forbidden():
                found[(f.sid, f.rule)] = found.get((f.sid, f.rule), 0) + 1
            if found:
                k["java_log_findings"] = k.get("java_log_findings", 0) + sum(found.values())
                log("  Java log scan (report only): %s" % ", ".join(
                    "member %d %s x%d" % (sid, rule, c) for (sid, rule), c in sorted(found.items())))
        except Exception as e:  # noqa: BLE001 - the scan must never fail a round
            log("  Java log scan skipped: %s" % e)
    errs = wl.errors()
    if errs or wl.lost_sessions():
        log("  client errors: %s; sessions expired: %d" % (", ".join("%s x%d" % kv for kv in sorted(errs.items())),
                                                          len(wl.lost_sessions())))
    for f in failures[:20]:
        log("  " + f.replace("\n", "\n    "))
    if failures or args.history_dir:
        out_dir = args.history_dir or ens.dir
        os.makedirs(out_dir, exist_ok=True)
        path = os.path.join(out_dir, "history-r%d.json" % n)
        with open(path, "w") as f:
            json.dump({"round": name, "what": what, "ops": wl.history,
                       "appends": {p: [a[0].decode(), a[1], a[2], a[3]] for p, a in wl.appends().items()}},
                      f, default=lambda b: b.decode(errors="replace") if isinstance(b, bytes) else str(b))
        log("  history written to %s" % path)
    return failures


def faults(args):
    kinds = list(KINDS) if args.kinds == "all" else args.kinds.split(",")
    for k in kinds:
        if k not in KINDS:
            raise SystemExit("unknown fault kind %r; known: %s" % (k, ", ".join(KINDS)))
    topos = args.topology.split(",")
    rng = random.Random(args.seed)
    totals = {}
    all_failures = []
    n = 0
    t0 = time.monotonic()
    if args.rounds:
        # A soak: cycle through the kinds and topologies, a fresh ensemble every --restart-every rounds.
        plan = [(topos[(i // args.restart_every) % len(topos)], kinds[i % len(kinds)]) for i in range(args.rounds)]
    else:
        plan = [(t, k) for t in topos for k in kinds for _ in range(args.rounds_per_kind)]
    i = 0
    stopped_early = None
    while i < len(plan) and not (all_failures and not args.keep_going):
        if args.max_seconds and time.monotonic() - t0 > args.max_seconds:
            stopped_early = "stopped by --max-seconds %d after %d of %d planned rounds" % (args.max_seconds, n, len(plan))
            log(stopped_early)
            break
        topo = plan[i][0]
        batch = []
        while i < len(plan) and plan[i][0] == topo and len(batch) < args.restart_every:
            batch.append(plan[i][1])
            i += 1
        # The full disk goes to a ruzk member: Java 3.8.0 can leave a txn log without its header after
        # ENOSPC and then refuse to start until someone deletes it (README, findings).
        kinds_here = TOPOLOGIES[topo]
        tmpfs = next((sid for sid in (2, 1, 3) if kinds_here[sid - 1] == "ruzk"), 2) if "full-disk" in batch else None
        with FaultEnsemble(TOPOLOGIES[topo], name=topo, tmpfs_sid=tmpfs) as ens:
            log("ensemble %s: %s in %s (tmpfs dataDir on member %s)"
                % (topo, ", ".join("%d=%s" % (m.sid, m.kind) for m in ens), ens.dir, tmpfs))
            ens.scanner = logscan.LogScanner(ens)
            ens.start()
            try:
                ens.wait_healthy(timeout=120, step="%s: first start" % topo)
            except ensemble.WaitTimeout as e:
                # Counted as a failed round of the first kind; the batch's other kinds are retried.
                n += 1
                all_failures.append("HARNESS/LIVENESS failure starting ensemble %s (round %d):\n%s" % (topo, n, e))
                log(all_failures[-1])
                i -= len(batch) - 1
                ens.keep = True
                continue
            for j, kind in enumerate(batch):
                if args.max_seconds and time.monotonic() - t0 > args.max_seconds:
                    i = len(plan)  # no further batches either
                    stopped_early = "stopped by --max-seconds %d after %d of %d planned rounds" % (
                        args.max_seconds, n, len(plan))
                    log(stopped_early)
                    break
                n += 1
                try:
                    fails = run_round(ens, kind, n, rng, args, totals)
                except Exception as e:  # noqa: BLE001 - a WaitTimeout names member, step and wait itself
                    detail = str(e) if isinstance(e, ensemble.WaitTimeout) else traceback.format_exc()
                    fails = ["HARNESS/LIVENESS failure in round %d (%s, %s):\n%s" % (n, topo, kind, detail)]
                    log(fails[0])
                    # The rest of this batch runs on a fresh ensemble, so one stuck member does not
                    # fail every later round.
                    i -= len(batch) - j - 1
                    all_failures += fails
                    ens.keep = True
                    break
                all_failures += fails
                if args.json_out:
                    # After every round, so a soak stopped at any moment leaves its figures.
                    write_summary(args.json_out, totals, time.monotonic() - t0, all_failures, len(plan), "running")
                if fails:
                    ens.keep = not args.expect_caught
                    if not args.keep_going:
                        break
    secs = time.monotonic() - t0
    summary = summarize(totals, secs, all_failures)
    if args.json_out:
        write_summary(args.json_out, totals, secs, all_failures, len(plan), stopped_early or "finished")
    return summary, all_failures


def write_summary(path, totals, secs, failures, planned, status):
    tot = {"rounds": 0, "acked_writes": 0, "lost": 0, "violations": 0, "unknown": 0, "ops": 0}
    rows = []
    for (topo, kind), k in sorted(totals.items()):
        rows.append(dict(k, topology=topo, kind=kind))
        for f in tot:
            tot[f] += k[f]
    out = {"status": status, "planned_rounds": planned, "total": tot, "seconds": round(secs),
           "failure_reports": len(failures), "failures": [f[:2000] for f in failures[:20]], "rows": rows,
           "written_at": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())}
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(out, f, indent=1)
    os.replace(tmp, path)


def summarize(totals, secs, failures):
    log("==== summary ====")
    tot = {"rounds": 0, "acked_writes": 0, "lost": 0, "violations": 0, "unknown": 0, "ops": 0}
    rows = []
    for (topo, kind), k in sorted(totals.items()):
        log("%-18s %-18s rounds %3d, acked writes %6d, unknown %4d, lost %d, violations %d, %.0f s"
            % (topo, kind, k["rounds"], k["acked_writes"], k["unknown"], k["lost"], k["violations"], k["seconds"]))
        rows.append(dict(k, topology=topo, kind=kind))
        for f in tot:
            tot[f] += k[f]
    log("TOTAL: %d rounds, %d ops, %d acked writes, %d unknown outcomes, %d lost, %d linearizability violations, "
        "%d failure reports, %.0f s" % (tot["rounds"], tot["ops"], tot["acked_writes"], tot["unknown"], tot["lost"],
                                      tot["violations"], len(failures), secs))
    return {"total": tot, "seconds": round(secs), "failures": len(failures)}


class LockWorkload:
    """Two sessions taking a kazoo Lock in turn; counts acquisitions and any moment with two holders
    whose sessions were both connected throughout."""

    def __init__(self, ens, path, session_timeout, clock):
        from kazoo.protocol.states import KazooState
        self.KazooState = KazooState
        self.ens, self.path, self.session_timeout, self.clock = ens, path, session_timeout, clock
        self.lost_at = []
        self.holders = 0
        self.max_holders = 0
        self.acquisitions = 0
        self.errors = {}
        self.lost_sessions = 0
        self.mu = threading.Lock()
        self.stop_event = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(i,), daemon=True) for i in range(2)]

    def run(self, i):
        members = list(self.ens)
        c = make_client(",".join(m.hostport for m in members[i:] + members[:i]), self.session_timeout)
        lost = {"flag": False}

        def listener(state):
            if state == self.KazooState.LOST and not self.stop_event.is_set():  # not our own close
                lost["flag"] = True
                with self.mu:
                    self.lost_sessions += 1
                    self.lost_at.append(self.clock())
        c.add_listener(listener)
        try:
            c.start(timeout=30)
            lock = c.Lock(self.path, "holder-%d" % i)
            while not self.stop_event.is_set():
                try:
                    if not lock.acquire(timeout=5):
                        continue
                    try:
                        lost["flag"] = False
                        with self.mu:
                            self.holders += 1
                            self.acquisitions += 1
                            if self.holders > 1 and not lost["flag"]:
                                self.max_holders = max(self.max_holders, self.holders)
                        time.sleep(0.02)
                        with self.mu:
                            self.holders -= 1
                    finally:
                        lock.release()
                except Exception as e:  # noqa: BLE001
                    with self.mu:
                        self.errors[type(e).__name__] = self.errors.get(type(e).__name__, 0) + 1
                    time.sleep(0.1)
        finally:
            c.stop()
            c.close()

    def start(self):
        for t in self.threads:
            t.start()

    def stop(self):
        self.stop_event.set()
        for t in self.threads:
            t.join(60)


def rolling(args):
    """Java x3 under load; each member in turn replaced by ruzk (followers first, leader last) on the
    same zoo.cfg/myid/dataDir, then the same back to Java."""
    rng = random.Random(args.seed)
    t0 = time.monotonic()
    failures = []
    with FaultEnsemble(TOPOLOGIES["java3"], name="rolling", max_session_ms=30000) as ens:
        ens.start()
        ens.wait_healthy(timeout=120, step="rolling: java3 first start")
        ensure_prefix(ens, "/rolling", "rolling: setup")
        # Sessions must survive every replacement: a Java member takes up to ~8 s to start, and when
        # the last ruzk member (the leader) goes, the two Java members' election and sync can take
        # 10-20 s under load (see README), so the sessions get a 30 s timeout, as operators use.
        # Think time: Java 3.8.0 followers fail their sync when a COMMIT arrives between NEWLEADER
        # and UPTODATE (ZOOKEEPER-4394, a NullPointerException in Learner.syncWithLeader, from a Java
        # or a ruzk leader alike), so a saturating write load keeps a restarted Java member out for
        # many seconds. An application-like rate lets it in; the fault rounds run saturated.
        wl = Workload(ens, "/rolling", nworkers=args.workers, seed=rng.randrange(1 << 30), session_timeout=30.0,
                      think_s=args.rolling_think_ms / 1000.0)
        lk = LockWorkload(ens, "/rolling-lock", 30.0, wl.clock)
        # A watch-driven cache of the append directory on its own session: at the end it must
        # hold every acknowledged append with its data, as the members do.
        cache_client = make_client(",".join(m.hostport for m in reversed(list(ens))), 30.0)
        cache_client.start(timeout=30)
        cache = TreeCache(cache_client, wl.append_dir)
        cache.start()
        wl.start()
        lk.start()
        steps = []
        try:
            time.sleep(2)
            for kind in (args.rolling_kind, "java"):
                lead = ens.leader()
                order = [m for m in ens if m is not lead] + [lead]
                for m in order:
                    before = m.kind
                    ts = time.monotonic()
                    log("rolling: replacing member %d (%s -> %s) at %.1f s" % (m.sid, before, kind, wl.clock()))
                    ens.replace(m.sid, kind)
                    ens.wait_healthy(timeout=120, step="rolling: after replacing member %d (%s -> %s)" % (m.sid, before, kind))
                    steps.append("member %d %s -> %s serving after %.1f s (leader now %d)"
                                 % (m.sid, before, kind, time.monotonic() - ts, ens.leader().sid))
                    log("rolling: " + steps[-1])
                    time.sleep(args.settle + 1)
        except ensemble.WaitTimeout as e:
            failures.append("HARNESS/LIVENESS failure during rolling replacement:\n%s" % e)
            ens.keep = True
        finally:
            wl.stop()
            lk.stop()
        if not failures:
            figures, failures = final_checks(ens, wl, "rolling replacement")
            stall = wl.longest_write_stall()
            lost_sessions = len(wl.lost_sessions())
            log("rolling: %d ops, %d acked writes (%d appends), %d unknown, %d lost, %d violations; longest write "
                "stall %.2f s; lock: %d acquisitions, max simultaneous holders %d, lock errors %s, lost sessions %d; "
                "%.0f s" % (figures["ops"], figures["acked_writes"], figures["acked_appends"], figures["unknown"],
                            figures["lost"], figures["violations"], stall or 0, lk.acquisitions, max(1, lk.max_holders),
                            lk.errors or "none", lk.lost_sessions + lost_sessions, time.monotonic() - t0))
            errs = wl.errors()
            log("rolling: client errors seen: %s" % (", ".join("%s x%d" % kv for kv in sorted(errs.items())) or "none"))
            if lk.max_holders > 1:
                failures.append("LOCK had %d simultaneous holders" % lk.max_holders)
            if lk.acquisitions == 0:
                failures.append("LOCK was never acquired: the lock workload did not run")
            if lk.lost_sessions or lost_sessions:
                failures.append("sessions lost (expired) during the rolling replacement: lock sessions at %s s, "
                                "worker sessions at %s s" % (["%.1f" % t for t in lk.lost_at],
                                                             ["%.1f" % t for t in wl.lost_sessions()]))
            acked = {p: a[0] for p, a in wl.appends().items() if a[1] == "ok"}
            deadline = time.monotonic() + 30
            while True:
                missing = [p for p, d in acked.items() if cache.get_data(p) is None or cache.get_data(p).data != d]
                if not missing or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            log("rolling: the TreeCache of %s holds %d of %d acknowledged appends with their data"
                % (wl.append_dir, len(acked) - len(missing), len(acked)))
            if missing:
                failures.append("CACHE: the TreeCache of %s still lacks %d acknowledged appends after 30 s, e.g. %s"
                                % (wl.append_dir, len(missing), sorted(missing)[:5]))
        cache.close()
        cache_client.stop()
        cache_client.close()
        if failures:
            ens.keep = True
        for f in failures[:20]:
            log("  " + f.replace("\n", "\n    "))
    return failures


def main():
    # SIGTERM unwinds like an exception, so every ensemble is closed and its tmpfs unmounted.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--topology", default="ruzk3,mixed_2ruzk_1java,mixed_1ruzk_2java",
                    help="comma list of %s" % ", ".join(TOPOLOGIES))
    ap.add_argument("--kinds", default="all", help="comma list of %s, or all" % ", ".join(KINDS))
    ap.add_argument("--rounds-per-kind", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=0, help="soak: this many rounds, cycling kinds and topologies")
    ap.add_argument("--restart-every", type=int, default=50, help="a fresh ensemble every N rounds")
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--settle", type=float, default=1.0, help="seconds of load after the ensemble recovered")
    ap.add_argument("--seed", type=int, default=int(os.environ.get("FAULTS_SEED", "1")))
    ap.add_argument("--keep-going", action="store_true", help="do not stop at the first failing round")
    ap.add_argument("--max-seconds", type=int, default=0, help="stop starting rounds after this long (soak)")
    ap.add_argument("--json-out")
    ap.add_argument("--history-dir", help="write every round's history here (failing rounds: always, to the kept ensemble dir)")
    ap.add_argument("--rolling", action="store_true", help="run the rolling replacement instead")
    ap.add_argument("--rolling-kind", default="ruzk", help="what replaces Java in the rolling run (java: the control)")
    ap.add_argument("--rolling-think-ms", type=float, default=40.0, help="pause between one worker's ops (rolling)")
    ap.add_argument("--break-truth", action="store_true",
                    help="TEST ONLY: lose an acknowledged write and invent a value before the checks")
    ap.add_argument("--expect-caught", action="store_true",
                    help="with --break-truth: succeed only if the checks report the loss and the violation")
    args = ap.parse_args()
    log("faults run: seed %d (replay with --seed %d and the same arguments)" % (args.seed, args.seed))
    if args.rolling:
        failures = rolling(args)
    else:
        _summary, failures = faults(args)
    if args.expect_caught:
        lost = any(f.startswith("LOST") for f in failures)
        lin = any(f.startswith("NOT LINEARIZABLE") for f in failures)
        log("break switch: lost write caught: %s; linearizability violation caught: %s" % (lost, lin))
        # The harness switch does both on purpose; a server-side switch must show up as either.
        caught = (lost and lin) if args.break_truth else (lost or lin)
        log("RESULT: %s" % ("the checks caught the break (expected)" if caught else "the break went UNNOTICED"))
        sys.exit(0 if caught else 1)
    log("RESULT: %s" % ("PASS" if not failures else "FAIL (%d failures)" % len(failures)))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
