"""Differential test: the same seeded random operation sequence against two servers.

Owns: starting two servers (Java ZooKeeper 3.8 and ruzk, or two Javas to validate the harness),
generating a seeded random sequence of client operations over several sessions, running it in
lockstep on both, and comparing every reply (error code, reply-header zxid, decoded body with
ctime/mtime dropped and session ids mapped to per-run indices) and every watch event per session.

Why lockstep and one request at a time: it makes the servers' behaviour a pure function of the
sequence (Java's zxids are deterministic, see protocol.md Addendum), so any difference is a real
difference. After every step each open connection does a sync round-trip: a server sends the
notifications caused by a txn before any later reply on that connection, so the events are drained
at a deterministic point.

The sequence depends on the seed and on side A's replies only (for example the names that
sequential creates returned), so both sides always receive identical requests.
"""

import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import zkraw as z

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

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
REPLY_TIMEOUT = 15.0  # seconds; a side that does not answer in time counts as a mismatch
FIRST_CONNECT_TIMEOUT = 60.0  # a JVM on a loaded 2-core machine can take long for its first session

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


# ---------------------------------------------------------------- servers


def free_port_check(port):
    with socket.socket() as s:
        # TIME_WAIT leftovers of the previous seed's connections must not count as busy.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


class Server:
    """One server process with its own temp dataDir."""

    def __init__(self, kind, port, workdir, extra_cfg, ruzk_bin, super_via_sysprop):
        self.super_via_sysprop = super_via_sysprop
        self.kind = kind
        self.port = port
        self.dir = os.path.join(workdir, "%s-%d" % (kind, port))
        self.extra_cfg = extra_cfg
        self.ruzk_bin = ruzk_bin
        self.proc = None
        self.log_path = os.path.join(self.dir, "server.log")

    def start(self):
        if os.path.exists(self.dir):
            shutil.rmtree(self.dir)
        data = os.path.join(self.dir, "data")
        os.makedirs(data)
        cfg = [
            "tickTime=2000",
            "initLimit=10",
            "syncLimit=5",
            "dataDir=%s" % data,
            "clientPort=%d" % self.port,
            "clientPortAddress=127.0.0.1",
            "extendedTypesEnabled=true",
            "4lw.commands.whitelist=*",
            "admin.enableServer=false",
        ]
        # Java reads any unknown zoo.cfg key as the system property "zookeeper." + key, so this
        # zoo.cfg line is how a Java operator sets the super digest.
        super_prop = "zookeeper.DigestAuthenticationProvider.superDigest=%s" % z.digest_id("super", SUPER_PASSWORD)
        props = [
            # Container/TTL reaping runs on a wall-clock timer; keep it out of the run so
            # that it cannot insert txns at a random point of the sequence.
            "znode.container.checkIntervalMs=3600000",
        ]
        if self.super_via_sysprop:
            props.append(super_prop)
        else:
            cfg.append(super_prop[len("zookeeper."):])
        cfg += list(self.extra_cfg)
        cfg_path = os.path.join(self.dir, "zoo.cfg")
        with open(cfg_path, "w") as f:
            f.write("\n".join(cfg) + "\n")
        if not free_port_check(self.port):
            raise RuntimeError("port %d is busy" % self.port)
        if self.kind == "java":
            cmd = ["java", "-Xmx512m", "-Dzookeeper.admin.enableServer=false"]
            cmd += ["-D" + p for p in props]
            cmd += ["-cp", "/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar",
                    "org.apache.zookeeper.server.quorum.QuorumPeerMain", cfg_path]
        else:
            cmd = [self.ruzk_bin, "server"] + ["-D" + p for p in props] + [cfg_path]
        log = open(self.log_path, "w")
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()

    def wait_listening(self, timeout=30.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("%s server exited early (rc %s), log %s"
                                   % (self.kind, self.proc.returncode, self.log_path))
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("%s server did not listen on %d, log %s" % (self.kind, self.port, self.log_path))

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc = None


# ---------------------------------------------------------------- one side's client state


class Side:
    """The client state for one server: connections per slot and the session-id map."""

    def __init__(self, name, port):
        self.name = name
        self.port = port
        # Slots 0..SLOTS-1 are driven by the generator; the extra last slot is the final walker.
        self.slots = [None] * (SLOTS + 1)  # Conn or None
        self.slot_index = [None] * (SLOTS + 1)  # session index of the slot's session
        self.sid2idx = {}
        self.next_index = 0

    def label(self, sid):
        if sid == 0:
            return 0
        if sid in self.sid2idx:
            return "S%d" % self.sid2idx[sid]
        return "unknown-session"

    def norm_stat(self, st):
        out = dict(st)
        ctime, mtime = out.pop("ctime"), out.pop("mtime")
        out["ctime_zero"] = ctime == 0
        out["mtime_ge_ctime"] = mtime >= ctime
        if out["version"] == 0:
            # Never written since creation: Java's mtime is the creation time.
            out["mtime_eq_ctime"] = mtime == ctime
        out["ephemeralOwner"] = self.label(out["ephemeralOwner"])
        return out


def hexdata(b):
    return None if b is None else b.hex()


def norm_acls(acls):
    return None if acls is None else [list(a) for a in acls]


def decode_body(side, op, body):
    """Decode a success body into a comparable structure; raise ProtocolError if it is short."""
    r = z.R(body)
    if op == z.CREATE:
        out = {"path": r.ustring()}
    elif op in (z.CREATE2, z.CREATE_CONTAINER, z.CREATE_TTL):
        out = {"path": r.ustring(), "stat": side.norm_stat(r.stat())}
    elif op in (z.EXISTS, z.SET_DATA, z.SET_ACL):
        out = {"stat": side.norm_stat(r.stat())}
    elif op == z.GET_DATA:
        out = {"data": hexdata(r.buffer()), "stat": side.norm_stat(r.stat())}
    elif op == z.GET_ACL:
        out = {"acl": norm_acls(r.acls()), "stat": side.norm_stat(r.stat())}
    elif op == z.GET_CHILDREN:
        ch = r.strings()
        out = {"children": None if ch is None else sorted(ch)}
    elif op == z.GET_CHILDREN2:
        ch = r.strings()
        out = {"children": None if ch is None else sorted(ch), "stat": side.norm_stat(r.stat())}
    elif op == z.SYNC:
        out = {"path": r.ustring()}
    elif op in (z.MULTI, z.MULTI_READ):
        out = {"results": decode_multi(side, r)}
    elif op == z.GET_EPHEMERALS:
        e = r.strings()
        out = {"ephemerals": None if e is None else sorted(e)}
    elif op == z.GET_ALL_CHILDREN_NUMBER:
        out = {"total": r.int()}
    elif op == z.ADD_WATCH:
        out = {"errResponse": r.int()} if r.left() else {}
    elif op == z.WHO_AM_I:
        # Java keeps a connection's auth ids in a ConcurrentHashMap-backed set: the order is
        # hash order, not something clients can rely on.
        info = r.vector(lambda: [r.ustring(), r.ustring()])
        out = {"clientInfo": None if info is None else sorted(info, key=repr)}
    else:
        out = {}
    if r.left():
        out["trailing"] = r.rest().hex()
    return out


def decode_multi(side, r):
    results = []
    while True:
        typ, done, err = r.int(), r.bool(), r.int()
        if done:
            results.append(["end", typ, err])
            return results
        if typ == -1:
            results.append(["error", err, r.int()])
        elif typ == z.CREATE:
            results.append(["create", err, r.ustring()])
        elif typ == z.CREATE2:
            results.append(["create2", err, r.ustring(), side.norm_stat(r.stat())])
        elif typ in (z.DELETE, z.CHECK):
            results.append([z.OP_NAMES[typ], err])
        elif typ == z.SET_DATA:
            results.append(["setData", err, side.norm_stat(r.stat())])
        elif typ == z.GET_CHILDREN:
            ch = r.strings()
            results.append(["getChildren", err, None if ch is None else sorted(ch)])
        elif typ == z.GET_DATA:
            results.append(["getData", err, hexdata(r.buffer()), side.norm_stat(r.stat())])
        else:
            results.append(["unknown-type", typ, err, r.rest().hex()])
            return results


def norm_events(evs):
    return [list(e) for e in evs]


# ---------------------------------------------------------------- executing steps


def do_request(side, slot, op, body):
    """One request on one slot; returns (reply dict, events before the reply)."""
    conn = side.slots[slot]
    if conn is None or conn.closed:
        return {"gone": "connection closed earlier"}, []
    try:
        xid = {z.AUTH: z.AUTH_XID, z.PING: z.PING_XID}.get(op)
        hdr, rbody, evs = conn.request(op, body, xid=xid)
    except z.ConnectionGone as e:
        conn.close_socket()
        return {"gone": str(e)}, []
    except z.ProtocolError as e:
        conn.close_socket()
        return {"protocol-error": str(e)}, []
    reply = {"xid": hdr["xid"], "zxid": hdr["zxid"], "err": hdr["err"]}
    if hdr["err"] == 0:
        try:
            reply.update(decode_body(side, op, rbody))
        except z.ProtocolError as e:
            reply["undecodable"] = "%s: %s" % (e, rbody.hex())
    elif rbody:
        reply["errBody"] = rbody.hex()
    return reply, norm_events(evs)


def norm_connect(side, resp, new_session):
    sid = resp["sessionId"]
    out = {
        "protocolVersion": resp["protocolVersion"],
        "timeOut": resp["timeOut"],
        "readOnly": resp["readOnly"],
        "frameLen": resp["frameLen"],
        "trailing": resp["trailing"],
    }
    if resp["timeOut"] > 0:
        if new_session and sid not in side.sid2idx:
            side.sid2idx[sid] = side.next_index
            side.next_index += 1
        out["session"] = side.label(sid)
        # The top byte is the server id (1 on a standalone), the low 16 bits count the sessions
        # created since start; the middle is a clock and cannot be compared.
        out["sidTopByte"] = (sid >> 56) & 0xFF
        out["sidCounter"] = sid & 0xFFFF
        out["passwdIsJavaRandom"] = resp["passwd"] == z.java_session_password(sid)
    else:
        out["sessionId"] = sid
        out["passwd"] = hexdata(resp["passwd"])
    return out


def open_slot(side, slot, timeout_ms, readonly_byte=True, first=False):
    conn = z.Conn(side.port, timeout=FIRST_CONNECT_TIMEOUT if first else REPLY_TIMEOUT)
    deadline = time.time() + (FIRST_CONNECT_TIMEOUT if first else 10)
    while True:
        try:
            resp = conn.connect(timeout_ms=timeout_ms, readonly_byte=readonly_byte)
            break
        except (z.ConnectionGone, z.ProtocolError, OSError) as e:
            conn.close_socket()
            # A server that listens but is not serving yet closes the socket without a reply;
            # one that keeps it open without answering is not going to answer a retry either.
            if isinstance(e, (z.Timeout, z.ProtocolError, socket.timeout)) or time.time() > deadline:
                side.slots[slot] = None
                return {"gone": "connect failed: %s" % e}
            time.sleep(0.1)
    conn.sock.settimeout(REPLY_TIMEOUT)
    side.slots[slot] = conn
    out = norm_connect(side, resp, True)
    side.slot_index[slot] = out.get("session")
    return out


def run_step(side, step):
    """Run one step on one side and return its comparable record."""
    kind = step["kind"]
    slot = step.get("slot")
    rec = {}
    if kind == "req":
        body = step["body"](side.slots[slot]) if callable(step["body"]) else step["body"]
        rec["reply"], rec["eventsBeforeReply"] = do_request(side, slot, step["op"], body)
    elif kind == "close":
        rec["reply"], evs = do_request(side, slot, z.CLOSE_SESSION, b"")
        # Java does not define the order in which a closing session's ephemerals go, nor the
        # order of the resulting events across paths.
        rec["eventsBeforeReply"] = sorted(evs)
        conn = side.slots[slot]
        if conn is not None and not conn.closed:
            # After the reply the server must close the socket.
            try:
                extra = conn.read_frame()
                rec["afterClose"] = "unexpected frame %s" % extra.hex()
            except z.Timeout:
                rec["afterClose"] = "still open after %.0f s" % REPLY_TIMEOUT
            except z.ConnectionGone:
                rec["afterClose"] = "closed"
            except z.ProtocolError as e:
                rec["afterClose"] = str(e)
            conn.close_socket()
        rec["reopen"] = open_slot(side, slot, step["timeout_ms"], step["ro_byte"])
    elif kind == "reconnect":
        old = side.slots[slot]
        if old is None:
            rec["reply"] = {"gone": "no session in this slot"}
        else:
            # The old socket may already be gone (a connect attempt for the same session id
            # makes Java close the live connection even when its password is wrong).
            old.close_socket()
            conn = z.Conn(side.port, timeout=REPLY_TIMEOUT)
            try:
                resp = conn.connect(session_id=old.session_id, passwd=old.passwd,
                                    last_zxid=old.last_zxid, timeout_ms=step["timeout_ms"],
                                    readonly_byte=step["ro_byte"])
                conn.xid = old.xid
                side.slots[slot] = conn
                rec["connect"] = norm_connect(side, resp, False)
                body = step["body"](conn)
                rec["reply"], rec["eventsBeforeReply"] = do_request(side, slot, step["op"], body)
            except (z.ConnectionGone, z.ProtocolError, OSError) as e:
                conn.close_socket()
                side.slots[slot] = None
                rec["reply"] = {"gone": "reconnect failed: %s" % e}
    elif kind == "badconnect":
        target = side.slots[slot]
        sid = target.session_id if target is not None else 0
        if step["mode"] == "wrongpass":
            passwd = bytes(16)
        else:
            sid = sid + 0x1000
            passwd = z.java_session_password(sid)
        conn = z.Conn(side.port, timeout=REPLY_TIMEOUT)
        try:
            resp = conn.connect(session_id=sid, passwd=passwd, last_zxid=0, timeout_ms=30000)
            rec["connect"] = norm_connect(side, resp, False)
            try:
                extra = conn.read_frame()
                rec["after"] = "unexpected frame %s" % extra.hex()
            except z.Timeout:
                rec["after"] = "still open after %.0f s" % REPLY_TIMEOUT
            except z.ConnectionGone:
                rec["after"] = "closed"
        except (z.ConnectionGone, z.ProtocolError, OSError) as e:
            rec["connect"] = {"gone": str(e)}
        conn.close_socket()
    else:
        raise ValueError(kind)
    rec["drain"] = drain(side)
    if kind == "close":
        # The other sessions' events from the closing session's ephemerals: unordered too.
        for entry in rec["drain"].values():
            entry["events"] = sorted(entry["events"])
    return rec


def drain(side):
    """sync("/") on every open connection; collect what arrived before each sync reply."""
    out = {}
    body = z.W().ustring("/").bytes()
    for slot in range(SLOTS + 1):
        conn = side.slots[slot]
        if conn is None or conn.closed:
            continue
        reply, evs = do_request(side, slot, z.SYNC, body)
        entry = {"events": evs}
        if reply.get("err") != 0 or reply.get("path") != "/":
            entry["syncReply"] = reply
        entry["syncZxid"] = reply.get("zxid")
        out[str(side.slot_index[slot])] = entry
    return out


# ---------------------------------------------------------------- the generator


class Gen:
    """Random operations. Knows only the seed and what side A answered."""

    def __init__(self, rng, weights):
        self.rng = rng
        self.weights = weights
        self.seq_paths = []

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
        return self.pick([(30000, 4), (10000, 1), (100000, 1)])

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


# ---------------------------------------------------------------- comparing


class Report:
    def __init__(self, max_print):
        self.ops = 0
        self.events = 0
        self.mismatches = 0
        self.printed = 0
        self.max_print = max_print
        self.transcript = None


def count_events(rec):
    n = len(rec.get("eventsBeforeReply") or [])
    for entry in (rec.get("drain") or {}).values():
        n += len(entry.get("events") or [])
    return n


def diff_keys(a, b, prefix=""):
    """(path, value in A, value in B) of the leaves that differ, for readable mismatch lines."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b), key=str):
            if a.get(k, "<absent>") != b.get(k, "<absent>"):
                out += diff_keys(a.get(k, "<absent>"), b.get(k, "<absent>"), "%s.%s" % (prefix, k))
        return out
    return [(prefix or ".", a, b)]


def compare(report, seed, idx, step, ra, rb, history, names):
    if report.transcript is not None:
        report.transcript.write(json.dumps({"seed": seed, "op": idx, "slot": step.get("slot"),
                                            "desc": step["desc"], "A": ra,
                                            "B": "same" if ra == rb else rb}, sort_keys=True) + "\n")
    report.ops += 1
    report.events += count_events(ra)
    if ra == rb:
        return
    report.mismatches += 1
    if report.printed >= report.max_print:
        return
    report.printed += 1
    print("MISMATCH seed=%d op#%d slot=%s: %s" % (seed, idx, step.get("slot"), step["desc"]))
    for key, va, vb in diff_keys(ra, rb):
        print("  differs at %s: %s=%s %s=%s" % (key, names[0][0], json.dumps(va, sort_keys=True),
                                                names[1][0], json.dumps(vb, sort_keys=True)))
    for h in history[-4:]:
        print("  context: %s" % h)
    print("  %s: %s" % (names[0], json.dumps(ra, sort_keys=True)))
    print("  %s: %s" % (names[1], json.dumps(rb, sort_keys=True)))
    sys.stdout.flush()


def walk_steps(path):
    """Read-only steps for the final full-tree comparison of one path."""
    body_w = z.W().ustring(path).bool(False).bytes()
    return [
        {"kind": "req", "slot": SLOTS, "op": z.GET_DATA, "body": body_w, "desc": "final getData %r" % path},
        {"kind": "req", "slot": SLOTS, "op": z.GET_ACL, "body": z.W().ustring(path).bytes(),
         "desc": "final getACL %r" % path},
        {"kind": "req", "slot": SLOTS, "op": z.GET_CHILDREN2, "body": body_w, "desc": "final getChildren2 %r" % path},
    ]


def run_seed(args, seed, seed_no, report, workdir):
    base = args.port_base + 2 * (seed_no % ((args.port_limit - args.port_base) // 2))
    servers = [Server(args.a, base, workdir, args.a_cfg, args.ruzk_bin, args.super_via_sysprop),
               Server(args.b, base + 1, workdir, args.b_cfg, args.ruzk_bin, args.super_via_sysprop)]
    names = ["A(%s:%d)" % (args.a, base), "B(%s:%d)" % (args.b, base + 1)]
    try:
        for s in servers:
            s.start()
        for s in servers:
            s.wait_listening()
        sides = [Side("A", base), Side("B", base + 1)]
        rng = random.Random(seed)
        gen = Gen(rng, args.weights)
        history = []
        idx = 0
        # Open the sessions one at a time, both sides in the same order.
        for slot in range(SLOTS):
            step = {"kind": "open", "slot": slot, "desc": "open session in slot %d" % slot}
            ra = {"connect": open_slot(sides[0], slot, 30000, first=True)}
            rb = {"connect": open_slot(sides[1], slot, 30000, first=True)}
            ra["drain"], rb["drain"] = drain(sides[0]), drain(sides[1])
            compare(report, seed, idx, step, ra, rb, history, names)
            history.append("op#%d %s" % (idx, step["desc"]))
            idx += 1
        before = report.mismatches
        for _ in range(args.ops):
            if report.mismatches - before >= args.stop_after:
                print("seed %d: stopping after %d mismatches (later ones are mostly knock-on effects)"
                      % (seed, args.stop_after))
                break
            step = gen.step(sides[0])
            ra = run_step(sides[0], step)
            rb = run_step(sides[1], step)
            gen.observe(step, ra)
            compare(report, seed, idx, step, ra, rb, history, names)
            history.append("op#%d slot=%s %s" % (idx, step.get("slot"), step["desc"]))
            idx += 1
        # Final state: walk the whole tree as side A lists it, from a new super-user session.
        step = {"kind": "open", "slot": SLOTS, "desc": "open the walker session"}
        ra = {"connect": open_slot(sides[0], SLOTS, 30000)}
        rb = {"connect": open_slot(sides[1], SLOTS, 30000)}
        compare(report, seed, idx, step, ra, rb, history, names)
        idx += 1
        step = {"kind": "req", "slot": SLOTS, "op": z.AUTH, "desc": "walker: addauth super",
                "body": z.W().int(0).ustring("digest").buffer(("super:" + SUPER_PASSWORD).encode()).bytes()}
        ra, rb = run_step(sides[0], step), run_step(sides[1], step)
        compare(report, seed, idx, step, ra, rb, history, names)
        idx += 1
        queue = ["/"]
        seen = 0
        while queue and seen < 2000:
            path = queue.pop(0)
            seen += 1
            for step in walk_steps(path):
                ra = run_step(sides[0], step)
                rb = run_step(sides[1], step)
                compare(report, seed, idx, step, ra, rb, history, names)
                idx += 1
                if step["op"] == z.GET_CHILDREN2 and ra["reply"].get("err") == 0:
                    for c in ra["reply"].get("children") or []:
                        queue.append(("" if path == "/" else path) + "/" + c)
        for side in sides:
            for conn in side.slots:
                if conn is not None:
                    conn.close_socket()
        print("seed %d: %d steps, %d mismatches" % (seed, idx, report.mismatches - before))
        sys.stdout.flush()
    finally:
        for s in servers:
            s.stop()
        if args.keep:
            print("kept server dirs under %s" % workdir)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=1, help="first seed")
    ap.add_argument("--seeds", type=int, default=6, help="number of seeds (seed, seed+1, ...)")
    ap.add_argument("--ops", type=int, default=2000, help="random operations per seed")
    ap.add_argument("--a", choices=["java", "ruzk"], default="java")
    ap.add_argument("--b", choices=["java", "ruzk"], default="ruzk")
    ap.add_argument("--a-cfg", action="append", default=[], metavar="KEY=VALUE",
                    help="extra zoo.cfg line for side A")
    ap.add_argument("--b-cfg", action="append", default=[], metavar="KEY=VALUE",
                    help="extra zoo.cfg line for side B (e.g. to check that the test can fail)")
    ap.add_argument("--ruzk-bin", default=os.path.join(REPO, "target", "release", "ruzk"))
    ap.add_argument("--port-base", type=int, default=21300)
    ap.add_argument("--port-limit", type=int, default=21400)
    ap.add_argument("--max-print", type=int, default=12, help="mismatches printed in full")
    ap.add_argument("--keep", action="store_true", help="keep the servers' dirs and logs")
    ap.add_argument("--transcript", metavar="FILE", help="write every step and both answers as JSON lines")
    ap.add_argument("--super-via-sysprop", action="store_true",
                    help="pass the super digest as -Dzookeeper.DigestAuthenticationProvider.superDigest "
                         "instead of the zoo.cfg key DigestAuthenticationProvider.superDigest")
    ap.add_argument("--stop-after", type=int, default=40, metavar="N",
                    help="end a seed's random phase after N mismatches (the final walk still runs)")
    ap.add_argument("--weight", action="append", default=[], metavar="NAME=W",
                    help="override a generator weight; names: %s" % ", ".join(WEIGHTS))
    args = ap.parse_args()
    args.weights = dict(WEIGHTS)
    for item in args.weight:
        name, _, value = item.partition("=")
        if name not in WEIGHTS:
            ap.error("unknown weight %r" % name)
        args.weights[name] = float(value)

    workdir = tempfile.mkdtemp(prefix="ruzk-diff-")
    report = Report(args.max_print)
    if args.transcript:
        report.transcript = open(args.transcript, "w")
    t0 = time.time()

    def on_term(signum, frame):
        raise KeyboardInterrupt()

    signal.signal(signal.SIGTERM, on_term)
    try:
        for i in range(args.seeds):
            run_seed(args, args.seed + i, i, report, workdir)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    print("differential (%s vs %s): compared %d operations and %d watch events over %d seeds: "
          "%d mismatches (%.1f s)" % (args.a, args.b, report.ops, report.events, args.seeds,
                                      report.mismatches, time.time() - t0))
    return 1 if report.mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
