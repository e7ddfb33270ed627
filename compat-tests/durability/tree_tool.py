#!/usr/bin/env python3
"""Builds a large tree of every node type through a real client, and dumps a whole tree
(path, data, ACL, full Stat) for comparison between servers.

  tree_tool.py build HOST:PORT N     create about N znodes, then exit WITHOUT closing the
                                     sessions that own ephemerals (they must survive the move)
  tree_tool.py dump HOST:PORT OUT    write every znode as one JSON line, sorted by path
"""
import json, logging, os, sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "differential"))
import zkraw  # noqa: E402  (stdlib raw client: kazoo 2.11 cannot create containers or TTL nodes)

from kazoo.client import KazooClient
from kazoo.security import make_digest_acl, OPEN_ACL_UNSAFE

SUPER = ("super", "interop-super-secret")
logging.getLogger("kazoo").setLevel(logging.CRITICAL)


def client(hostport, auth=True, timeout=40):
    zk = KazooClient(hosts=hostport, timeout=timeout)
    zk.start(timeout=30)
    if auth:
        zk.add_auth("digest", "%s:%s" % SUPER)
    return zk


def pipelined(zk, calls, window=2000):
    pending = []
    for fn, args, kw in calls:
        pending.append(fn(*args, **kw))
        if len(pending) >= window:
            for r in pending:
                r.get(timeout=60)
            pending = []
    for r in pending:
        r.get(timeout=60)


def build(hostport, n):
    zk = client(hostport)
    user_acl = [make_digest_acl("alice", "pw", all=True)]
    zk.create("/big", b"root of the interop tree")
    dirs = max(1, n // 100)
    pipelined(zk, [(zk.create_async, ("/big/d%05d" % d, b"dir-%d" % d), {}) for d in range(dirs)])
    calls = []
    for d in range(dirs):
        for j in range(100):
            calls.append((zk.create_async, ("/big/d%05d/n%03d" % (d, j), os.urandom(100)), {}))
    pipelined(zk, calls)
    # Versions, ACL versions, deletes (cversion vs numChildren), null vs empty data.
    pipelined(zk, [(zk.set_async, ("/big/d%05d/n000" % d, b"v2"), {}) for d in range(0, dirs, 3)])
    pipelined(zk, [(zk.delete_async, ("/big/d%05d/n099" % d,), {}) for d in range(0, dirs, 5)])
    pipelined(zk, [(zk.set_acls_async, ("/big/d%05d/n001" % d, OPEN_ACL_UNSAFE), {}) for d in range(0, dirs, 7)])
    zk.create("/types", b"")
    for i in range(20):
        zk.create("/types/seq-", b"s", sequence=True)
    zk.create("/types/acl", b"secret", acl=user_acl)
    zk.create("/types/acl/child", b"x", acl=user_acl)
    raw = zkraw.Conn(int(hostport.rsplit(":", 1)[1]), host=hostport.rsplit(":", 1)[0])
    raw.connect()
    open_acl = zkraw.W().int(1).int(31).ustring("world").ustring("anyone").bytes()
    for op, path, flags, ttl in [(19, "/types/container", 4, None), (21, "/types/ttl", 5, 3600000),
                                 (21, "/types/ttlseq-", 6, 3600000)]:
        w = zkraw.W().ustring(path).buffer(b"special")
        body = w.bytes() + open_acl + zkraw.W().int(flags).bytes()
        if ttl is not None:
            body += zkraw.W().long(ttl).bytes()
        hdr, _, _ = raw.request(op, body)
        if hdr["err"] != 0:
            sys.exit("creating %s failed: %d" % (path, hdr["err"]))
    raw.request(-11)
    raw.close_socket()
    zk.create("/types/container/kid", b"k")
    zk.create("/types/empty", b"")
    t = zk.transaction()
    t.create("/types/multi-ok", b"m")
    t.set_data("/types/empty", b"now-set")
    t.commit()
    t = zk.transaction()
    t.create("/types/multi-fail", b"m")
    t.check("/types/empty", 99)
    t.commit()  # fails mid-way: nothing applied, a zxid used
    # Sessions that own ephemerals and stay open across the move.
    owners = []
    for s in range(3):
        # Long-lived (the config allows 600 s), so dumping a big tree cannot outlast them.
        o = client(hostport, auth=False, timeout=300)
        for e in range(5):
            o.create("/types/eph-%d-%d" % (s, e), b"e", ephemeral=True)
        o.create("/types/ephseq-%d-" % s, b"e", ephemeral=True, sequence=True)
        owners.append(o)
    zk.stop()
    zk.close()
    print("built %d dirs x 100 znodes plus special nodes" % dirs)
    sys.stdout.flush()
    # Leave without closeSession so the sessions and their ephemerals are on disk.
    os._exit(0)


def dump(hostport, out):
    zk = client(hostport)
    rows = {}
    frontier = ["/"]
    while frontier:
        gets = [(p, zk.get_async(p), zk.get_acls_async(p), zk.get_children_async(p)) for p in frontier]
        frontier = []
        for p, g, a, c in gets:
            data, st = g.get(timeout=60)
            acls, _ = a.get(timeout=60)
            kids = c.get(timeout=60)
            rows[p] = {
                "path": p,
                "data": None if data is None else data.hex(),
                "acl": [[x.perms, x.id.scheme, x.id.id] for x in acls],
                "stat": [st.czxid, st.mzxid, st.ctime, st.mtime, st.version, st.cversion, st.aversion,
                         st.ephemeralOwner, st.dataLength, st.numChildren, st.pzxid],
            }
            for k in kids:
                frontier.append(("/" if p == "/" else p + "/") + k)
    with open(out, "w") as f:
        for p in sorted(rows):
            f.write(json.dumps(rows[p], sort_keys=True) + "\n")
    zk.stop()
    print("dumped %d znodes to %s" % (len(rows), out))


if __name__ == "__main__":
    cmd, hp = sys.argv[1], sys.argv[2]
    if cmd == "build":
        build(hp, int(sys.argv[3]))
    elif cmd == "dump":
        dump(hp, sys.argv[3])
    else:
        sys.exit("unknown command " + cmd)
