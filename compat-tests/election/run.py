#!/usr/bin/env python3
"""ruzk's leader election against real Java 3.8.0 servers on loopback.

ruzk runs as `ruzk election-probe` (election only: it prints its decisions as JSON lines and
keeps answering notifications; it has no Zab, so Java followers of a ruzk leader fail to sync
and elect again, which is fine: the checks are about the first decision).

  (a) ruzk joins an established 2-Java ensemble and follows the Java leader;
  (b) 2 fresh Java + ruzk with the highest sid: both Java members follow ruzk, ruzk leads;
  (c) ruzk with the lowest sid follows the Java member with the highest sid;
  (d) garbage and unknown-sid connections: ruzk and Java both close a bad initial message and
      both answer a LOOKING vote from an unknown (larger) sid with their current vote; ruzk
      drops an unknown smaller sid; the election still completes.

Usage: run.py [--ruzk PATH] [--keep] [scenario ...]   (default: all; about 45 s)
Every wait has a timeout; a failure names the scenario, the server and what it waited for,
and prints the tails of the logs.
"""
import argparse
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

JAVA_CP = "/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar"
PROTO_V1 = -65536
STATES = {0: "LOOKING", 1: "FOLLOWING", 2: "LEADING", 3: "OBSERVING"}


class Failure(Exception):
    pass


def free_ports(n):
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def notification(state, leader, zxid, ee, pe, config=b""):
    return struct.pack(">iqqqqii", state, leader, zxid, ee, pe, 2, len(config)) + config


def decode(b):
    state, leader, zxid, ee, pe = struct.unpack(">iqqqq", b[:36])
    return {"state": STATES.get(state, state), "leader": leader, "zxid": zxid, "round": ee, "peer_epoch": pe}


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError(f"closed after {len(buf)} of {n} bytes")
        buf += chunk
    return buf


class Ensemble:
    def __init__(self, name, kinds, ruzk, keep):
        self.name, self.kinds, self.ruzk, self.keep = name, kinds, ruzk, keep
        self.dir = tempfile.mkdtemp(prefix=f"ruzk-election-{name}-")
        ids = sorted(kinds)
        p = free_ports(3 * len(ids))
        self.client = {sid: p[3 * i] for i, sid in enumerate(ids)}
        self.quorum = {sid: p[3 * i + 1] for i, sid in enumerate(ids)}
        self.elect = {sid: p[3 * i + 2] for i, sid in enumerate(ids)}
        self.procs = {}
        self.t0 = time.monotonic()
        servers = "".join(f"server.{s}=127.0.0.1:{self.quorum[s]}:{self.elect[s]}\n" for s in ids)
        for sid in ids:
            d = os.path.join(self.dir, f"s{sid}")
            os.makedirs(d)
            with open(os.path.join(d, "myid"), "w") as f:
                f.write(f"{sid}\n")
            with open(os.path.join(d, "zoo.cfg"), "w") as f:
                f.write(f"tickTime=1000\ninitLimit=10\nsyncLimit=2\ndataDir={d}\nclientPort={self.client[sid]}\n"
                        f"clientPortAddress=127.0.0.1\n{servers}")

    def path(self, sid, name):
        return os.path.join(self.dir, f"s{sid}", name)

    def start(self, sid, extra=()):
        cfg = self.path(sid, "zoo.cfg")
        if self.kinds[sid] == "java":
            cmd = ["java", "-Xmx256m", "-Dzookeeper.admin.enableServer=false", *extra, "-cp", JAVA_CP,
                   "org.apache.zookeeper.server.quorum.QuorumPeerMain", cfg]
            out = open(self.path(sid, "server.log"), "w")
            self.procs[sid] = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        else:
            cmd = [self.ruzk, "election-probe", cfg, "--trace", *extra]
            self.procs[sid] = subprocess.Popen(cmd, stdout=open(self.path(sid, "decisions.jsonl"), "w"),
                                               stderr=open(self.path(sid, "server.log"), "w"))

    def stop(self):
        for p in self.procs.values():
            if p.poll() is None:
                p.terminate()
        for p in self.procs.values():
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def fail(self, server, step, waited_for):
        lines = [f"FAIL [{self.name}] server {server}, step {step!r}: waited for {waited_for}",
                 f"  logs kept in {self.dir}"]
        for sid in sorted(self.kinds):
            for name in ("server.log", "decisions.jsonl"):
                p = self.path(sid, name)
                if os.path.exists(p):
                    with open(p, errors="replace") as f:
                        tail = [l for l in f.readlines() if not l.lstrip().startswith("at ")][-15:]
                    lines.append(f"---- server {sid} ({self.kinds[sid]}) {name}, last lines:")
                    lines.extend("  " + l.rstrip() for l in tail)
        self.keep = True
        raise Failure("\n".join(lines))

    def wait(self, server, step, waited_for, fn, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            for sid, p in self.procs.items():
                if p.poll() is not None:
                    self.fail(sid, step, f"{waited_for} (server {sid} exited with {p.returncode})")
            v = fn()
            if v:
                return v
            if time.monotonic() > deadline:
                self.fail(server, step, f"{waited_for}, for {timeout} s")
            time.sleep(0.1)

    # ---- observations ----

    def ruzk_decisions(self, sid):
        p = self.path(sid, "decisions.jsonl")
        if not os.path.exists(p):
            return []
        with open(p) as f:
            return [json.loads(l) for l in f if l.strip().startswith("{") and '"decided"' in l]

    def java_first_decision(self, sid):
        """(state, leader sid) of the first decision in a Java log, or None yet."""
        with open(self.path(sid, "server.log"), errors="replace") as f:
            text = f.read()
        m = re.search(r"Peer state changed: (following|leading|observing)", text)
        if not m:
            return None
        if m.group(1) == "leading":
            return ("LEADING", sid)
        by_port = {port: s for s, port in self.quorum.items()}
        for a in re.finditer(r"(?:connecting to|Successfully connected to leader, using address:) /127\.0\.0\.1:(\d+)",
                             text[m.end():]):
            return (m.group(1).upper(), by_port.get(int(a.group(1))))
        return None

    def srvr_mode(self, sid):
        try:
            with socket.create_connection(("127.0.0.1", self.client[sid]), timeout=2) as s:
                s.sendall(b"srvr")
                data = b""
                while chunk := s.recv(4096):
                    data += chunk
            m = re.search(rb"Mode: (\w+)", data)
            return m.group(1).decode() if m else None
        except OSError:
            return None

    def elapsed(self):
        return time.monotonic() - self.t0


def scenario_a(ruzk, keep):
    e = Ensemble("a-join", {1: "java", 2: "java", 3: "ruzk"}, ruzk, keep)
    try:
        e.start(1)
        e.start(2)
        modes = e.wait("1,2", "java ensemble", "srvr Mode leader/follower from Java 1 and 2",
                       lambda: (m := {s: e.srvr_mode(s) for s in (1, 2)}) and all(v in ("leader", "follower") for v in m.values()) and m)
        leader = next(s for s, m in modes.items() if m == "leader")
        t = time.monotonic()
        e.start(3)
        d = e.wait(3, "ruzk joins", "a decision line from ruzk", lambda: e.ruzk_decisions(3))[0]
        if (d["state"], d["leader"]) != ("FOLLOWING", leader):
            e.fail(3, "ruzk joins", f"FOLLOWING {leader} (the Java leader), got {d}")
        if e.srvr_mode(leader) != "leader":
            e.fail(leader, "after the join", "the Java leader to still be leading")
        return f"ruzk (3) follows Java leader {leader} (round {d['round']}, peerEpoch {d['peer_epoch']}) " \
               f"{time.monotonic() - t:.1f} s after it started"
    finally:
        e.stop()
        if not e.keep:
            shutil.rmtree(e.dir, ignore_errors=True)


def scenario_b(ruzk, keep):
    e = Ensemble("b-ruzk-leads", {1: "java", 2: "java", 3: "ruzk"}, ruzk, keep)
    try:
        e.start(3)
        # A Java follower of ruzk cannot sync (the probe has no Zab) and elects again once its
        # connection retries to the leader run out; slow retries keep it FOLLOWING for ~8 s, so
        # whichever JVM starts second still finds it following ruzk.
        slow = ["-Dzookeeper.leaderConnectDelayDuringRetryMs=2000"]
        e.start(1, slow)
        e.start(2, slow)
        d = e.wait(3, "fresh election", "a decision line from ruzk", lambda: e.ruzk_decisions(3))[0]
        if (d["state"], d["leader"]) != ("LEADING", 3):
            e.fail(3, "fresh election", f"ruzk LEADING, got {d}")
        for sid in (1, 2):
            j = e.wait(sid, "fresh election", f"Java {sid} to log its first decision and leader address",
                       lambda: e.java_first_decision(sid))
            if j != ("FOLLOWING", 3):
                e.fail(sid, "fresh election", f"Java {sid} FOLLOWING ruzk (3), got {j}")
        return "Java 1 and 2 both decided FOLLOWING ruzk (3); ruzk decided LEADING"
    finally:
        e.stop()
        if not e.keep:
            shutil.rmtree(e.dir, ignore_errors=True)


def poke(port, payload, expect_reply, what):
    """Connects, sends `payload`, returns ('closed'|'reply', decoded reply or None)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(payload)
        s.settimeout(5)
        try:
            head = s.recv(4, socket.MSG_WAITALL)
            if not head:
                return ("closed", None)
            (n,) = struct.unpack(">i", head)
            return ("reply", decode(recv_exact(s, n)))
        except (ConnectionResetError, EOFError):
            return ("closed", None)
        except socket.timeout:
            return ("open", None) if not expect_reply else ("timeout", None)


def port_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def hello(sid, port):
    addr = f"127.0.0.1:{port}".encode()
    return struct.pack(">qqi", PROTO_V1, sid, len(addr)) + addr


def scenario_cd(ruzk, keep):
    e = Ensemble("cd-ruzk-follows", {1: "ruzk", 2: "java", 3: "java"}, ruzk, keep)
    out = []
    try:
        e.start(1)
        e.wait(1, "ruzk listening", "ruzk's election port to accept", lambda: port_open(e.elect[1]), timeout=15)
        # (d) before the election: garbage and bad or unknown peers at ruzk's election port.
        bad = {
            "unknown protocol": struct.pack(">qq", -2, 9),
            "address length 5000": struct.pack(">qqi", PROTO_V1, 9, 5000),
            "http request": b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
            "unknown smaller sid 0": hello(0, 1),
        }
        for what, payload in bad.items():
            r = poke(e.elect[1], payload, True, what)
            if r[0] != "closed":
                e.fail(1, f"bad peer: {what}", f"ruzk to close the connection, got {r}")
        out.append(f"ruzk closed: {', '.join(bad)}")
        # Java 3 first: with ruzk it is a quorum, so 3 wins however late Java 2's JVM starts
        # (had 2 come up first, ruzk and 2 would rightly elect 2).
        e.start(3)
        e.wait(3, "java 3 listening", "Java 3's election port to accept", lambda: port_open(e.elect[3]))
        e.start(2)
        d = e.wait(1, "election", "a decision line from ruzk", lambda: e.ruzk_decisions(1))[0]
        if (d["state"], d["leader"]) != ("FOLLOWING", 3):
            e.fail(1, "election", f"ruzk FOLLOWING 3 (highest sid), got {d}")
        modes = e.wait("2,3", "java ensemble", "srvr Mode from Java 2 and 3",
                       lambda: (m := {s: e.srvr_mode(s) for s in (2, 3)}) and all(m.values()) and m)
        if modes != {2: "follower", 3: "leader"}:
            e.fail("2,3", "java ensemble", f"Java 3 leader and 2 follower, got {modes}")
        out.append(f"ruzk (1) decided FOLLOWING 3 in round {d['round']}; Java 3 leads, Java 2 follows")
        # (d) the same unknown larger sid to ruzk and to the Java leader: both answer a LOOKING
        # vote with their current vote, and both close a bad initial message.
        probe = hello(99, 1) + struct.pack(">i", 44) + notification(0, 99, 0, 1, 0)
        replies = {}
        for sid in (1, 3):
            r = poke(e.elect[sid], probe, True, "unknown sid 99")
            if r[0] != "reply":
                e.fail(sid, "unknown sid 99", f"a reply to its LOOKING vote, got {r}")
            replies[sid] = r[1]
            c = poke(e.elect[sid], struct.pack(">qq", -2, 9), True, "bad protocol")
            if c[0] != "closed":
                e.fail(sid, "bad protocol", f"the connection closed, got {c}")
        if replies[1]["leader"] != 3 or replies[1]["state"] != "FOLLOWING":
            e.fail(1, "unknown sid 99", f"ruzk's reply FOLLOWING leader 3, got {replies[1]}")
        if replies[3]["leader"] != 3 or replies[3]["state"] != "LEADING":
            e.fail(3, "unknown sid 99", f"Java's reply LEADING leader 3, got {replies[3]}")
        out.append(f"unknown sid 99 answered by ruzk {replies[1]} and by Java {replies[3]}; bad protocol closed by both")
        return "; ".join(out)
    finally:
        e.stop()
        if not e.keep:
            shutil.rmtree(e.dir, ignore_errors=True)


SCENARIOS = {"a": scenario_a, "b": scenario_b, "cd": scenario_cd}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ruzk", default=os.path.join(os.path.dirname(__file__), "../../target/release/ruzk"))
    ap.add_argument("--keep", action="store_true", help="keep the temp directories")
    ap.add_argument("scenarios", nargs="*", default=list(SCENARIOS))
    a = ap.parse_args()
    ruzk = os.path.abspath(a.ruzk)
    if not os.access(ruzk, os.X_OK):
        print(f"no ruzk binary at {ruzk} (cargo build --release)", file=sys.stderr)
        return 2
    failed = 0
    t0 = time.monotonic()
    for name in a.scenarios:
        t = time.monotonic()
        try:
            msg = SCENARIOS[name](ruzk, a.keep)
            print(f"ok   ({name}) {msg}  [{time.monotonic() - t:.1f} s]")
        except Failure as f:
            failed += 1
            print(f"FAIL ({name})\n{f}  [{time.monotonic() - t:.1f} s]")
    print(f"{len(a.scenarios) - failed}/{len(a.scenarios)} scenarios passed in {time.monotonic() - t0:.1f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
