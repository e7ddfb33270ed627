"""End-of-round checks: final reads through every member join the history, which must linearize;
every acknowledged append must be on every member with its data; the round's subtree must be
identical (data and every Stat field) on every member.

The `break_truth` switch exists only to show that these checks fail when something is wrong: it
deletes one acknowledged znode and overwrites one register behind the workers' backs (through a
session nobody records), as a server that lost or invented a write would look to the clients.
"""

import time

from kazoo.exceptions import NoNodeError

import treecmp
from linearizability import check_history
from workload import make_client

STAT_FIELDS = treecmp.STAT_FIELDS


def member_client(ens, m, step):
    c = make_client(m.hostport)
    try:
        c.start(timeout=30)
    except Exception as e:  # noqa: BLE001
        c.close()
        ens.fail(m, step, "waited 30 s for a session on this member alone (%s)" % type(e).__name__,
                 "srvr %r" % ((m.flw("srvr") or "no answer").strip()[:200]))
    return c


def dump_subtree(c, root):
    rows = {}
    frontier = [root]
    while frontier:
        p = frontier.pop()
        try:
            data, st = c.get(p)
            kids = c.get_children(p)
        except NoNodeError:
            continue
        rows[p] = (data, tuple(getattr(st, f) for f in STAT_FIELDS))
        frontier += [p + "/" + k for k in kids]
    return rows


def break_truth(ens, wl):
    """Test-only: loses one acknowledged append and writes one register value nobody wrote."""
    m = ens.live()[0]
    c = member_client(ens, m, "break-truth switch")
    try:
        acked = sorted(p for p, a in wl.appends().items() if a[1] == "ok")
        done = []
        if acked:
            c.delete(acked[0])
            done.append("deleted acked %s" % acked[0])
        key = wl.keys[0]
        if c.exists(key):
            c.set(key, b"never-written-by-a-worker")
        else:
            c.create(key, b"never-written-by-a-worker")
        done.append("wrote an unrecorded value to %s" % key)
        return "; ".join(done)
    finally:
        c.stop()
        c.close()


def final_checks(ens, wl, step):
    """Returns a dict of figures and a list of failure strings (empty when all is well)."""
    failures = []
    dumps = {}
    for m in ens.live():
        c = member_client(ens, m, step + ": final reads")
        try:
            for key in wl.keys:
                t0 = wl.clock()
                c.sync(key)
                try:
                    data, st = c.get(key)
                    res = (data, st.version)
                except NoNodeError:
                    res = "NoNode"
                wl.history.append({"key": key, "f": "read", "arg": None, "invoke": t0, "complete": wl.clock(),
                                   "outcome": "ok", "result": res, "process": "final@m%d" % m.sid})
            c.sync(wl.prefix)
            dumps[m.sid] = dump_subtree(c, wl.prefix)
        finally:
            c.stop()
            c.close()
    t0 = time.monotonic()
    bad = check_history(wl.history)
    check_s = time.monotonic() - t0
    for key, why in bad.items():
        failures.append("NOT LINEARIZABLE %s (%s):\n%s" % (key, step, why))
    appends = wl.appends()
    acked = {p: a for p, a in appends.items() if a[1] == "ok"}
    lost = 0
    for sid, rows in sorted(dumps.items()):
        for p, a in sorted(acked.items()):
            if p not in rows:
                lost += 1
                failures.append("LOST acknowledged write %s (acked at %.3f s) is missing on member %d (%s)"
                                % (p, a[3], sid, step))
            elif rows[p][0] != a[0]:
                lost += 1
                failures.append("CHANGED acknowledged write %s on member %d: %r, acked %r (%s)"
                                % (p, sid, rows[p][0], a[0], step))
        for p in rows:
            if p.startswith(wl.append_dir + "/") and p not in appends:
                failures.append("PHANTOM znode %s on member %d: no worker ever created it (%s)" % (p, sid, step))
    sids = sorted(dumps)
    for p in sorted(set().union(*(set(d) for d in dumps.values()))):
        vals = {sid: dumps[sid].get(p) for sid in sids}
        if len({repr(v) for v in vals.values()}) != 1:
            failures.append("TREES DIFFER at %s (%s): %s" % (
                p, step, "; ".join("member %d: %s" % (sid, v if v is None else (v[0], dict(zip(STAT_FIELDS, v[1]))))
                                   for sid, v in vals.items())))
            if len(failures) > 30:
                break
    figures = {
        "ops": len(wl.history),
        "acked_writes": wl.acked_writes(),
        "acked_appends": len(acked),
        "unknown": sum(1 for o in wl.history if o["outcome"] == "unknown")
        + sum(1 for a in appends.values() if a[1] == "unknown"),
        "reads": sum(1 for o in wl.history if o["f"] == "read"),
        "lost": lost,
        "violations": len(bad),
        "znodes_compared": len(next(iter(dumps.values()))) if dumps else 0,
        "check_s": round(check_s, 2),
    }
    return figures, failures
