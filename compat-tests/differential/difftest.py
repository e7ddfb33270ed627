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

import ensembles
import zkraw as z
from gen import SLOTS, SUPER_PASSWORD, WEIGHTS, Gen, hexdata

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

REPLY_TIMEOUT = 15.0  # seconds; no answer in time is reported as a harness problem, not compared
FIRST_CONNECT_TIMEOUT = 60.0  # a JVM on a loaded 2-core machine can take long for its first session


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
    """The client state for one server: connections per slot and the session-id map. With an
    ensemble behind it (`server` is an ensembles.EnsembleServer), slot i talks to member
    (i mod n)+1, and zxids and member addresses in replies are normalised (ensembles.py says why)."""

    def __init__(self, name, port, server=None):
        self.name = name
        self.port = port
        self.ensemble = server if isinstance(server, ensembles.EnsembleServer) else None
        # Slots 0..SLOTS-1 are driven by the generator; the extra last slot is the final walker.
        self.slots = [None] * (SLOTS + 1)  # Conn or None
        self.slot_index = [None] * (SLOTS + 1)  # session index of the slot's session
        self.sid2idx = {}
        self.next_index = 0

    def endpoint(self, slot):
        if self.ensemble is None:
            return "127.0.0.1", self.port
        eps = self.ensemble.endpoints()
        return eps[slot % len(eps)]

    def stall_context(self, slot):
        """What the harness can tell about a server that did not answer: the machine's load and,
        for an ensemble, whether the member still answers srvr."""
        ctx = "load average %.1f on %d CPUs" % (os.getloadavg()[0], os.cpu_count() or 1)
        if self.ensemble is not None:
            host, port = self.endpoint(slot)
            m = [x for x in self.ensemble.ens if x.host == host and x.client_port == port][0]
            s = m.srvr()
            ctx += "; %s answers srvr: %s" % (m.name, "Mode " + s["mode"] if s["mode"] else repr((s["raw"] or "nothing")[:80]))
        return ctx

    def conn(self, slot, timeout):
        host, port = self.endpoint(slot)
        return z.Conn(port, host=host, timeout=timeout)

    def norm_zxid(self, zxid):
        return zxid if self.ensemble is None else self.ensemble.norm_zxid(zxid)

    def rewrite(self, body):
        return body if self.ensemble is None else self.ensemble.rewrite(body)

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
        for k in ("czxid", "mzxid", "pzxid"):
            out[k] = self.norm_zxid(out[k])
        return out



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


def norm_events(side, evs):
    return [[e[0], e[1], e[2], side.norm_zxid(e[3])] + list(e[4:]) for e in evs]


# ---------------------------------------------------------------- executing steps


def do_request(side, slot, op, body):
    """One request on one slot; returns (reply dict, events before the reply)."""
    conn = side.slots[slot]
    if conn is None or conn.closed:
        return {"gone": "connection closed earlier"}, []
    try:
        xid = {z.AUTH: z.AUTH_XID, z.PING: z.PING_XID}.get(op)
        hdr, rbody, evs = conn.request(op, body, xid=xid)
    except z.Timeout as e:
        conn.close_socket()
        return {"gone": str(e), "harness": "side %s slot %d: no reply to %s within %.0f s (%s)"
                % (side.name, slot, z.OP_NAMES.get(op, op), REPLY_TIMEOUT, side.stall_context(slot))}, []
    except z.ConnectionGone as e:
        conn.close_socket()
        return {"gone": str(e)}, []
    except z.ProtocolError as e:
        conn.close_socket()
        return {"protocol-error": str(e)}, []
    reply = {"xid": hdr["xid"], "zxid": side.norm_zxid(hdr["zxid"]), "err": hdr["err"]}
    rbody = side.rewrite(rbody)
    if hdr["err"] == 0:
        try:
            reply.update(decode_body(side, op, rbody))
        except z.ProtocolError as e:
            reply["undecodable"] = "%s: %s" % (e, rbody.hex())
    elif rbody:
        reply["errBody"] = rbody.hex()
    return reply, norm_events(side, evs)


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
    conn = side.conn(slot, FIRST_CONNECT_TIMEOUT if first else REPLY_TIMEOUT)
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
                out = {"gone": "connect failed: %s" % e}
                if isinstance(e, (z.Timeout, socket.timeout)):
                    out["harness"] = "side %s: no ConnectResponse in time (%s)" % (side.name,
                                                                                  side.stall_context(slot))
                return out
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
            conn = side.conn(slot, REPLY_TIMEOUT)
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
        conn = side.conn(slot, REPLY_TIMEOUT)
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
        # A Java 3.8.0 leader applies committed txns on its CommitProcessor thread, after it has
        # sent COMMIT; a sync answered by the leader in between carries the older zxid, while
        # a follower that already applied the COMMIT answers a later one (seen: 271 vs 272).
        # ruzk applies at commit. So in an ensemble the zxid of the drain's own sync is not a
        # protocol fact and is left out; the events before it still are compared.
        if side.ensemble is None:
            entry["syncZxid"] = reply.get("zxid")
        out[str(side.slot_index[slot])] = entry
    return out


# ---------------------------------------------------------------- the generator



# ---------------------------------------------------------------- comparing


class Report:
    def __init__(self, max_print):
        self.ops = 0
        self.events = 0
        self.mismatches = 0
        self.harness = 0  # steps not compared because the harness, not a server answer, failed
        self.failures = 0  # not a reply mismatch: a member died, members' trees differ, forbidden logs
        self.printed = 0
        self.max_print = max_print
        self.transcript = None


def harness_problem(rec):
    """The first "harness" note anywhere in a step record, or None."""
    if isinstance(rec, dict):
        if "harness" in rec:
            return rec["harness"]
        for v in rec.values():
            found = harness_problem(v)
            if found:
                return found
    return None


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
    problem = harness_problem(ra) or harness_problem(rb)
    if problem:
        report.harness += 1
        print("HARNESS PROBLEM seed=%d op#%d slot=%s: %s: %s (not compared; the rest of this seed is skipped)"
              % (seed, idx, step.get("slot"), step["desc"], problem))
        sys.stdout.flush()
        return "harness"
    report.ops += 1
    report.events += count_events(ra)
    if ra == rb:
        return None
    report.mismatches += 1
    if report.printed >= report.max_print:
        return None
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
    return None


def walk_steps(path):
    """Read-only steps for the final full-tree comparison of one path."""
    body_w = z.W().ustring(path).bool(False).bytes()
    return [
        {"kind": "req", "slot": SLOTS, "op": z.GET_DATA, "body": body_w, "desc": "final getData %r" % path},
        {"kind": "req", "slot": SLOTS, "op": z.GET_ACL, "body": z.W().ustring(path).bytes(),
         "desc": "final getACL %r" % path},
        {"kind": "req", "slot": SLOTS, "op": z.GET_CHILDREN2, "body": body_w, "desc": "final getChildren2 %r" % path},
    ]


def make_server(kind, port, workdir, cfg, args):
    if ensembles.is_ensemble(kind):
        props = ["znode.container.checkIntervalMs=3600000"]
        return ensembles.EnsembleServer(kind, SUPER_PASSWORD, props, cfg)
    return Server(kind, port, workdir, cfg, args.ruzk_bin, args.super_via_sysprop)


def run_seed(args, seed, seed_no, report, workdir):
    base = args.port_base + 2 * (seed_no % ((args.port_limit - args.port_base) // 2))
    servers = [make_server(args.a, base, workdir, args.a_cfg, args),
               make_server(args.b, base + 1, workdir, args.b_cfg, args)]
    names = ["A(%s)" % args.a if ensembles.is_ensemble(args.a) else "A(%s:%d)" % (args.a, base),
             "B(%s)" % args.b if ensembles.is_ensemble(args.b) else "B(%s:%d)" % (args.b, base + 1)]
    try:
        try:
            for s in servers:
                s.start()
            for s in servers:
                s.wait_listening()
        except (RuntimeError, ensembles.E.HarnessError, ensembles.E.WaitTimeout) as e:
            for srv in servers:
                if getattr(srv, "ens", None) is not None:
                    srv.ens.keep = True  # the member logs say why
            report.harness += 1
            print("HARNESS PROBLEM seed=%d: a server did not come up, nothing compared:\n%s" % (seed, e))
            return
        sides = [Side("A", servers[0].port, servers[0]), Side("B", servers[1].port, servers[1])]
        for side, srv in zip(sides, servers):
            if side.ensemble is not None:
                print("seed %d: side %s is ensemble %s, slots on members %s, epoch 0x%x"
                      % (seed, side.name, srv.topology, [(i % len(srv.endpoints())) + 1 for i in range(SLOTS + 1)],
                         srv.zxid_base >> 32))
        rng = random.Random(seed)
        any_ensemble = sides[0].ensemble is not None or sides[1].ensemble is not None
        gen = Gen(rng, args.weights, fixed_timeout=40000 if any_ensemble else None)
        history = []
        idx = 0
        aborted = False
        # Open the sessions one at a time, both sides in the same order.
        for slot in range(SLOTS):
            step = {"kind": "open", "slot": slot, "desc": "open session in slot %d" % slot}
            ra = {"connect": open_slot(sides[0], slot, 30000, first=True)}
            rb = {"connect": open_slot(sides[1], slot, 30000, first=True)}
            ra["drain"], rb["drain"] = drain(sides[0]), drain(sides[1])
            aborted = aborted or compare(report, seed, idx, step, ra, rb, history, names) == "harness"
            history.append("op#%d %s" % (idx, step["desc"]))
            idx += 1
        before = report.mismatches
        for _ in range(0 if aborted else args.ops):
            if report.mismatches - before >= args.stop_after:
                print("seed %d: stopping after %d mismatches (later ones are mostly knock-on effects)"
                      % (seed, args.stop_after))
                break
            step = gen.step(sides[0])
            ra = run_step(sides[0], step)
            rb = run_step(sides[1], step)
            gen.observe(step, ra)
            if compare(report, seed, idx, step, ra, rb, history, names) == "harness":
                aborted = True
                break
            history.append("op#%d slot=%s %s" % (idx, step.get("slot"), step["desc"]))
            idx += 1
        if not aborted:
            idx = final_walk(report, seed, idx, sides, history, names)
        for side in sides:
            for conn in side.slots:
                if conn is not None:
                    conn.close_socket()
        for side, srv in zip(sides, servers):
            if side.ensemble is not None:
                check_ensemble_side(report, seed, side.name, srv)
        print("seed %d: %d steps, %d mismatches%s" % (seed, idx, report.mismatches - before,
                                                     " (aborted: harness problem)" if aborted else ""))
        sys.stdout.flush()
    finally:
        for s in servers:
            if args.keep and getattr(s, "ens", None) is not None:
                s.ens.keep = True
            s.stop()
        if args.keep:
            print("kept server dirs under %s" % workdir)


def final_walk(report, seed, idx, sides, history, names):
    """Walks the whole tree as side A lists it, from a new super-user session."""
    step = {"kind": "open", "slot": SLOTS, "desc": "open the walker session"}
    ra = {"connect": open_slot(sides[0], SLOTS, 30000)}
    rb = {"connect": open_slot(sides[1], SLOTS, 30000)}
    if compare(report, seed, idx, step, ra, rb, history, names) == "harness":
        return idx + 1
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
            if compare(report, seed, idx, step, ra, rb, history, names) == "harness":
                return idx + 1
            idx += 1
            if step["op"] == z.GET_CHILDREN2 and ra["reply"].get("err") == 0:
                for c in ra["reply"].get("children") or []:
                    queue.append(("" if path == "/" else path) + "/" + c)
    return idx


def check_ensemble_side(report, seed, name, srv):
    """After a seed: no re-election or dead member (harness problem / failure), every member holds
    the same tree, no forbidden line in a Java member's log."""
    moved, dead = srv.check_epoch()
    if moved:
        report.harness += 1
        print("HARNESS PROBLEM seed=%d side %s: ensemble %s re-elected during the run (%s); "
              "its replies are not comparable from then on" % (seed, name, srv.topology, moved))
    if dead:
        report.failures += 1
        print("FAILURE seed=%d side %s: member(s) died: %s" % (seed, name, dead))
    summary, diffs = srv.tree_check()
    print("seed %d side %s: %s" % (seed, name, summary))
    if diffs:
        report.failures += 1
    log = srv.log_report()
    if log.findings or log.failed():
        print("seed %d side %s: %s" % (seed, name, log.render()))
    if log.failed():
        report.failures += 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=1, help="first seed")
    ap.add_argument("--seeds", type=int, default=6, help="number of seeds (seed, seed+1, ...)")
    ap.add_argument("--ops", type=int, default=2000, help="random operations per seed")
    kinds = ["java", "ruzk"] + sorted(t for t, v in ensembles.E.TOPOLOGIES.items() if not v.get("rolling"))
    ap.add_argument("--a", choices=kinds, default="java",
                    help="java/ruzk: one standalone server; a topology (java3, ruzk3, mixed_java_leader, ...): "
                         "an ensemble with the client slots spread over its members")
    ap.add_argument("--b", choices=kinds, default="ruzk")
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
    ensembles.E.RUZK_BIN = args.ruzk_bin
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
    extra = ""
    if report.harness or report.failures:
        extra = "; %d harness problems (not compared), %d other failures" % (report.harness, report.failures)
    print("differential (%s vs %s): compared %d operations and %d watch events over %d seeds: "
          "%d mismatches%s (%.1f s)" % (args.a, args.b, report.ops, report.events, args.seeds,
                                        report.mismatches, extra, time.time() - t0))
    # 1: the servers disagree (or a member died / trees differ / forbidden Java log lines);
    # 2: only harness problems (a server that never came up, no reply in time under load).
    if report.mismatches or report.failures:
        return 1
    return 2 if report.harness else 0


if __name__ == "__main__":
    sys.exit(main())
