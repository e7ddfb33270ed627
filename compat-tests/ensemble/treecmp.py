"""Dumps each member's whole tree through a session connected to that member alone, and reports the
first differences by path.

Why per member: a client reading through one member sees only that member's replica, so this is the
end-to-end check that every replica applied the same txns the same way (data, ACL, every Stat field).
Each dump starts with `sync("/")`, so a follower has applied everything the leader committed before.

Known per-member difference (protocol.md Addendum): `/zookeeper/config` has each member's local wall
clock as mtime (set when the member loaded its config, again after a SNAP sync); every other field
of it must match. Nothing else is excused.
"""

import logging

logging.getLogger("kazoo").setLevel(logging.CRITICAL)

STAT_FIELDS = ("czxid", "mzxid", "ctime", "mtime", "version", "cversion", "aversion", "ephemeralOwner",
               "dataLength", "numChildren", "pzxid")
# path -> fields that legitimately differ between members, and why.
PER_MEMBER = {"/zookeeper/config": {"mtime": "local clock at config load / SNAP (protocol.md Addendum)"}}


def dump(ens, member, timeout=60):
    """{path: {"data": hex|None, "acl": [...], "stat": {...}}} as `member` serves it."""
    zk = ens.client(member, auth=True)
    try:
        zk.sync("/")
        rows = {}
        frontier = ["/"]
        while frontier:
            gets = [(p, zk.get_async(p), zk.get_acls_async(p), zk.get_children_async(p)) for p in frontier]
            frontier = []
            for p, g, a, c in gets:
                data, st = g.get(timeout=timeout)
                acls, _ = a.get(timeout=timeout)
                kids = c.get(timeout=timeout)
                rows[p] = {
                    "data": None if data is None else data.hex(),
                    "acl": [[x.perms, x.id.scheme, x.id.id] for x in acls],
                    "stat": dict(zip(STAT_FIELDS, (st.czxid, st.mzxid, st.ctime, st.mtime, st.version, st.cversion,
                                                   st.aversion, st.ephemeralOwner, st.dataLength, st.numChildren,
                                                   st.pzxid))),
                }
                for k in kids:
                    frontier.append(("/" if p == "/" else p + "/") + k)
        return rows
    finally:
        zk.stop()
        zk.close()


def compare(dumps):
    """dumps: {member label: rows}. Returns (list of difference strings sorted by path, excused notes)."""
    labels = sorted(dumps)
    paths = sorted(set().union(*(set(d) for d in dumps.values())))
    diffs, excused = [], []
    for p in paths:
        have = [lb for lb in labels if p in dumps[lb]]
        if len(have) != len(labels):
            diffs.append("%s: present on %s, missing on %s" % (p, have, [lb for lb in labels if lb not in have]))
            continue
        rows = [dumps[lb][p] for lb in labels]
        for key in ("data", "acl"):
            vals = [r[key] for r in rows]
            if any(v != vals[0] for v in vals):
                diffs.append("%s %s: %s" % (p, key, ", ".join("%s=%s" % (lb, v) for lb, v in zip(labels, vals))))
        for f in STAT_FIELDS:
            vals = [r["stat"][f] for r in rows]
            if any(v != vals[0] for v in vals):
                why = PER_MEMBER.get(p, {}).get(f)
                line = "%s stat.%s: %s" % (p, f, ", ".join("%s=%s" % (lb, v) for lb, v in zip(labels, vals)))
                (excused if why else diffs).append(line + (" (expected: %s)" % why if why else ""))
    return diffs, excused


def compare_members(ens, members=None, max_report=12):
    """Dumps every given (default: every live) member and compares. Returns (summary, diffs)."""
    members = members or ens.live()
    dumps = {"m%d" % m.sid: dump(ens, m) for m in members}
    diffs, excused = compare(dumps)
    n = len(next(iter(dumps.values())))
    summary = ["tree comparison over %s: %d znodes each, %d differences%s"
               % (sorted(dumps), n, len(diffs), "" if not diffs else " (first %d below)" % min(len(diffs), max_report))]
    summary += ["  DIFF " + d for d in diffs[:max_report]]
    summary += ["  excused " + e for e in excused]
    return "\n".join(summary), diffs
