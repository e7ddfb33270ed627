"""The seeded random operation generator of the differential test.

Owns: the operation mix (WEIGHTS), the paths, ACLs, users and data it draws from, and `Gen`, which
turns a seed plus side A's earlier answers into the next step. Split from difftest.py (which runs and
compares the steps) because the two change for different reasons: new operations land here, new
server kinds and comparisons there.
"""

import zkraw as z

SUPER_PASSWORD = "superpw"
USERS = [("u1", "p1"), ("u2", "p2"), ("u1", "wrong")]

OPEN = [(31, "world", "anyone")]
READ_ONLY = [(1, "world", "anyone")]
CREATOR_ALL = [(31, "auth", "")]
ACL_CHOICES = [
    ("OPEN", OPEN, 60),
    ("READ_ONLY", READ_ONLY, 2),
    ("CREATOR_ALL", CREATOR_ALL, 3),
    ("DIGEST_U1", [(31, "digest", z.digest_id("u1", "p1"))], 3),
    ("WORLD_READ+U2_ALL", [(1, "world", "anyone"), (31, "digest", z.digest_id("u2", "p2"))], 3),
    ("NO_DELETE", [(31 & ~8, "world", "anyone")], 2),
    ("NO_CREATE", [(31 & ~4, "world", "anyone")], 2),
    ("NO_WRITE", [(31 & ~2, "world", "anyone")], 2),
    ("NO_READ", [(31 & ~1, "world", "anyone")], 2),
    ("NO_ADMIN", [(31 & ~16, "world", "anyone")], 2),
    ("IP_LOCAL", [(31, "ip", "127.0.0.1")], 2),
    ("IP_NET", [(31, "ip", "127.0.0.0/8")], 1),
    ("IP_OTHER", [(31, "ip", "10.1.2.3"), (1, "world", "anyone")], 1),
    ("DUPLICATE", OPEN + OPEN + [(1, "world", "anyone")], 1),
    ("AUTH+WORLD_READ", [(31, "auth", ""), (1, "world", "anyone")], 1),
    ("EMPTY", [], 1),
    ("BAD_SCHEME", [(31, "nosuchscheme", "x")], 1),
    ("BAD_DIGEST_ID", [(31, "digest", "nocolon")], 1),
    ("BAD_IP", [(31, "ip", "not.an.ip")], 1),
]

TOP = ["/a", "/b", "/c"]
MID = ["x", "y"]
LEAF = ["p", "q"]
SPECIAL_READ_PATHS = ["/", "/zookeeper", "/zookeeper/config", "/zookeeper/quota", ""]
INVALID_PATHS = ["", "a", "/a/", "/a//x", "/a/.", "/a/x/..", "/a/\u0000z", "/b/./x", "//"]

SLOTS = 4

# Relative frequencies of the generator's choices; `--weight NAME=W` overrides one (for example
# to step past a known divergence and find the next one; the default run uses all of them).
WEIGHTS = {
    "create": 22, "delete": 8, "setData": 8, "exists": 8, "getData": 9, "getChildren": 6,
    "getChildren2": 4, "getACL": 3, "setACL": 4, "getAllChildrenNumber": 2, "getEphemerals": 2,
    "multi": 7, "multiRead": 2, "addWatch": 4, "removeWatch": 2, "auth": 1.5, "whoAmI": 1,
    "sync": 1, "close": 1, "reconnect": 1, "badconnect": 0.3, "ping": 0.5,
    "create.plain": 10, "create.create2": 6, "create.container": 2, "create.ttl": 2, "create.odd": 1,
}
STEP_KINDS = [k for k in WEIGHTS if "." not in k]
CREATE_KINDS = [k.split(".", 1)[1] for k in WEIGHTS if k.startswith("create.")]


def hexdata(b):
    return None if b is None else b.hex()



class Gen:
    """Random operations. Knows only the seed and what side A answered."""

    def __init__(self, rng, weights, fixed_timeout=None):
        self.rng = rng
        self.weights = weights
        self.seq_paths = []
        # Ensemble runs: every session gets this timeout (the draw still happens, so the sequence
        # stays the same). Expiry is driven by each leader's wall clock, so a session that may
        # expire mid-run would expire at a different step on each side.
        self.fixed_timeout = fixed_timeout

    def pick(self, weighted):
        total = sum(w for _, w in weighted)
        x = self.rng.random() * total
        for item, w in weighted:
            x -= w
            if x < 0:
                return item
        return weighted[-1][0]

    def node_path(self):
        r = self.rng
        x = r.random()
        if x < 0.12 and self.seq_paths:
            return r.choice(self.seq_paths)
        depth = self.pick([(1, 4), (2, 4), (3, 2)])
        p = r.choice(TOP)
        if depth >= 2:
            p += "/" + r.choice(MID)
        if depth >= 3:
            p += "/" + r.choice(LEAF)
        return p

    def read_path(self):
        x = self.rng.random()
        if x < 0.06:
            return self.rng.choice(SPECIAL_READ_PATHS)
        if x < 0.08:
            return self.rng.choice(INVALID_PATHS)
        return self.node_path()

    def write_path(self):
        if self.rng.random() < 0.03:
            return self.rng.choice(INVALID_PATHS + ["/", "/zookeeper", "/zookeeper/config", "/zookeeper/quota"])
        return self.node_path()

    def data(self):
        r = self.rng
        return self.pick([(None, 2), (b"", 2), (b"v", 3), (b"hello", 3),
                          (bytes(r.randrange(256) for _ in range(r.randrange(1, 24))), 3)])

    def version(self):
        return self.pick([(-1, 5), (0, 3), (1, 2), (2, 1), (self.rng.randrange(3, 9), 1), (-2, 0.2)])

    def acl(self):
        name_acl = self.pick([((n, a), w) for n, a, w in ACL_CHOICES])
        return name_acl

    def create_req(self):
        """(op, body, desc) for a create of some kind; also used inside multi."""
        r = self.rng
        path = self.write_path()
        data = self.data()
        aname, acl = self.acl()
        kind = self.pick([(k, self.weights["create." + k]) for k in CREATE_KINDS])
        if kind in ("plain", "create2"):
            flags = self.pick([(0, 4), (1, 3), (2, 2), (3, 2)])
            op = z.CREATE if kind == "plain" else z.CREATE2
        elif kind == "container":
            op, flags = z.CREATE_CONTAINER, 4
        elif kind == "ttl":
            op, flags = z.CREATE_TTL, self.pick([(5, 3), (6, 2)])
        else:
            op, flags = self.pick([((z.CREATE, 4), 2), ((z.CREATE2, 5), 1), ((z.CREATE, 6), 1),
                                   ((z.CREATE, 7), 1), ((z.CREATE_TTL, 0), 1), ((z.CREATE_TTL, 5), 1),
                                   ((z.CREATE_CONTAINER, 0), 1), ((z.CREATE_CONTAINER, 1), 1)])
        if flags in (2, 3, 6):
            path = path + "/s-" if r.random() < 0.8 else path
        w = z.W().ustring(path).buffer(data).acls(acl).int(flags)
        ttl = None
        if op == z.CREATE_TTL:
            # A negative TTL with a non-TTL mode crashes Java 3.8.0 (protocol.md Addendum): never.
            ttl = self.pick([(r.randrange(1, 100000), 5), (0, 1), ((1 << 40), 1), (3600000, 1)])
            if flags in (5, 6) and kind == "odd":
                ttl = 0
            w.long(ttl)
        desc = "%s %r flags=%d data=%s acl=%s%s" % (z.OP_NAMES[op], path, flags, hexdata(data), aname,
                                                   "" if ttl is None else " ttl=%d" % ttl)
        return op, w.bytes(), desc

    def write_subop(self):
        kind = self.pick([("create", 4), ("delete", 3), ("setData", 3), ("check", 2)])
        if kind == "create":
            return self.create_req()
        path = self.node_path()
        v = self.version()
        if kind == "delete":
            return z.DELETE, z.W().ustring(path).int(v).bytes(), "delete %r v=%d" % (path, v)
        if kind == "setData":
            d = self.data()
            return (z.SET_DATA, z.W().ustring(path).buffer(d).int(v).bytes(),
                    "setData %r data=%s v=%d" % (path, hexdata(d), v))
        return z.CHECK, z.W().ustring(path).int(v).bytes(), "check %r v=%d" % (path, v)

    def multi(self, subops):
        w = z.W()
        for op, body, _ in subops:
            w.int(op).bool(False).int(-1)
            w.b += body
        w.int(-1).bool(True).int(-1)
        return w.bytes()

    def step(self, side_a):
        r = self.rng
        for slot, conn in enumerate(side_a.slots[:SLOTS]):
            if conn is not None and conn.closed:
                # Reattach a session whose connection the server closed, before it can expire
                # at a wall-clock dependent point.
                return self.reconnect_step(slot)
        slot = r.randrange(SLOTS)
        kind = self.pick([(k, self.weights[k]) for k in STEP_KINDS])
        st = {"kind": "req", "slot": slot}
        if kind == "create":
            st["op"], st["body"], st["desc"] = self.create_req()
        elif kind in ("delete", "setData"):
            st["op"], st["body"], st["desc"] = self.write_subop_of(kind)
        elif kind in ("exists", "getData", "getChildren", "getChildren2"):
            op = {"exists": z.EXISTS, "getData": z.GET_DATA, "getChildren": z.GET_CHILDREN,
                  "getChildren2": z.GET_CHILDREN2}[kind]
            path = self.read_path()
            watch = r.random() < 0.7
            st["op"], st["body"] = op, z.W().ustring(path).bool(watch).bytes()
            st["desc"] = "%s %r watch=%s" % (kind, path, watch)
        elif kind in ("getACL", "getAllChildrenNumber", "sync"):
            op = {"getACL": z.GET_ACL, "getAllChildrenNumber": z.GET_ALL_CHILDREN_NUMBER,
                  "sync": z.SYNC}[kind]
            path = self.read_path()
            st["op"], st["body"], st["desc"] = op, z.W().ustring(path).bytes(), "%s %r" % (kind, path)
        elif kind == "setACL":
            path = self.write_path()
            aname, acl = self.acl()
            v = self.version()
            st["op"] = z.SET_ACL
            st["body"] = z.W().ustring(path).acls(acl).int(v).bytes()
            st["desc"] = "setACL %r acl=%s v=%d" % (path, aname, v)
        elif kind == "getEphemerals":
            prefix = self.pick([("/", 2), ("", 1), (None, 1), ("/a", 2), ("/b/x", 1), ("/c/", 1), ("/zz", 1)])
            st["op"], st["body"] = z.GET_EPHEMERALS, z.W().ustring(prefix).bytes()
            st["desc"] = "getEphemerals %r" % (prefix,)
        elif kind == "multi":
            n = self.pick([(0, 0.3), (1, 2), (2, 3), (3, 3), (4, 2)])
            subs = [self.write_subop() for _ in range(n)]
            st["op"], st["body"] = z.MULTI, self.multi(subs)
            st["desc"] = "multi[%s]" % "; ".join(d for _, _, d in subs)
        elif kind == "multiRead":
            subs = []
            for _ in range(self.pick([(1, 2), (2, 2), (3, 1)])):
                op = r.choice([z.GET_CHILDREN, z.GET_DATA])
                path = self.read_path()
                watch = r.random() < 0.3
                subs.append((op, z.W().ustring(path).bool(watch).bytes(),
                             "%s %r watch=%s" % (z.OP_NAMES[op], path, watch)))
            st["op"], st["body"] = z.MULTI_READ, self.multi(subs)
            st["desc"] = "multiRead[%s]" % "; ".join(d for _, _, d in subs)
        elif kind == "addWatch":
            path = self.read_path()
            mode = r.randrange(2)
            st["op"], st["body"] = z.ADD_WATCH, z.W().ustring(path).int(mode).bytes()
            st["desc"] = "addWatch %r mode=%s" % (path, ["PERSISTENT", "PERSISTENT_RECURSIVE"][mode])
        elif kind == "removeWatch":
            path = self.read_path()
            op = r.choice([z.CHECK_WATCHES, z.REMOVE_WATCHES])
            wtype = r.choice([1, 2, 3])
            st["op"], st["body"] = op, z.W().ustring(path).int(wtype).bytes()
            st["desc"] = "%s %r type=%d" % (z.OP_NAMES[op], path, wtype)
        elif kind == "auth":
            if r.random() < 0.4:
                user, pw = "super", SUPER_PASSWORD
            else:
                user, pw = r.choice(USERS)
            st["op"] = z.AUTH
            st["body"] = z.W().int(0).ustring("digest").buffer(("%s:%s" % (user, pw)).encode()).bytes()
            st["desc"] = "addauth digest %s:%s" % (user, pw)
        elif kind == "whoAmI":
            st["op"], st["body"], st["desc"] = z.WHO_AM_I, b"", "whoAmI"
        elif kind == "ping":
            st["op"], st["body"], st["desc"] = z.PING, b"", "ping"
        elif kind == "close":
            ro = r.random() < 0.7
            st = {"kind": "close", "slot": slot, "timeout_ms": self.timeout_ms(), "ro_byte": ro,
                  "desc": "closeSession + open a new session (readOnly byte %s)" % ("sent" if ro else "absent")}
        elif kind == "reconnect":
            st = self.reconnect_step(slot)
        elif kind == "badconnect":
            mode = r.choice(["wrongpass", "unknownsession"])
            st = {"kind": "badconnect", "slot": slot, "mode": mode, "desc": "connect with %s" % mode}
        return st

    def write_subop_of(self, kind):
        path = self.write_path()
        v = self.version()
        if kind == "delete":
            return z.DELETE, z.W().ustring(path).int(v).bytes(), "delete %r v=%d" % (path, v)
        d = self.data()
        return (z.SET_DATA, z.W().ustring(path).buffer(d).int(v).bytes(),
                "setData %r data=%s v=%d" % (path, hexdata(d), v))

    def timeout_ms(self):
        drawn = self.pick([(30000, 4), (10000, 1), (100000, 1)])
        return self.fixed_timeout or drawn

    def reconnect_step(self, slot):
        r = self.rng
        lists = []
        for _ in range(5):
            lists.append(sorted({self.read_path() for _ in range(r.randrange(0, 4))}))
        v2 = r.random() < 0.5
        rel_mode = self.pick([("last", 4), ("zero", 1)])

        def body(conn, lists=lists, v2=v2, rel_mode=rel_mode):
            rel = conn.last_zxid if rel_mode == "last" else 0
            w = z.W().long(rel).strings(lists[0]).strings(lists[1]).strings(lists[2])
            if v2:
                w.strings(lists[3]).strings(lists[4])
            return w.bytes()

        names = ["data", "exist", "child", "persistent", "persistentRecursive"]
        shown = ", ".join("%s=%s" % (n, l) for n, l in zip(names, lists[: 5 if v2 else 3]))
        ro = r.random() < 0.7
        return {"kind": "reconnect", "slot": slot, "timeout_ms": self.timeout_ms(), "ro_byte": ro,
                "op": z.SET_WATCHES2 if v2 else z.SET_WATCHES, "body": body,
                "desc": "reconnect same session (readOnly byte %s), %s(rel=%s, %s)"
                        % ("sent" if ro else "absent", "setWatches2" if v2 else "setWatches", rel_mode, shown)}

    def observe(self, step, rec):
        """Learn sequential names from side A's answers so later ops can hit them."""
        reply = rec.get("reply") or {}
        paths = []
        if step.get("op") in (z.CREATE, z.CREATE2, z.CREATE_TTL, z.CREATE_CONTAINER) and reply.get("err") == 0:
            paths.append(reply.get("path"))
        for res in reply.get("results") or []:
            if res and res[0] in ("create", "create2") and res[1] == 0:
                paths.append(res[2])
        for p in paths:
            if isinstance(p, str) and "/s-" in p:
                self.seq_paths.append(p)
        del self.seq_paths[:-24]
