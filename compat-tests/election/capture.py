#!/usr/bin/env python3
"""Records the election bytes two real Java 3.8.0 servers send (for ruzk's golden tests).

Servers 1 and 2 are Java; "server 3" is this script. It accepts Java's dials on its election
port (recording the initial message, then closing, as a larger sid does), dials both Java
servers itself (the surviving direction), and records every frame they send. After Java
elects, it sends a LOOKING vote to learn the reply Java's receive thread gives, then
reconnects to show the "last message resent on a new connection" frame.

Usage: python3 capture.py OUTFILE   (about 15 s; needs java and /usr/share/java/zookeeper.jar)
Every wait has a timeout; a failure names the step and what it waited for.
"""
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

JAVA_CP = "/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar"
PROTO_V1 = -65536


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


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError(f"eof after {len(buf)} of {n} bytes")
        buf += chunk
    return buf


def fail(step, waited_for, logs=()):
    print(f"FAIL at step {step!r}: waited for {waited_for}", file=sys.stderr)
    for path in logs:
        print(f"---- tail of {path}", file=sys.stderr)
        try:
            with open(path, errors="replace") as f:
                print("".join(f.readlines()[-30:]), file=sys.stderr)
        except OSError as e:
            print(e, file=sys.stderr)
    sys.exit(1)


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.events = []
        self.t0 = time.monotonic()

    def add(self, **ev):
        ev["t_ms"] = int((time.monotonic() - self.t0) * 1000)
        with self.lock:
            self.events.append(ev)

    def frames_from(self, sid):
        with self.lock:
            return [e for e in self.events if e.get("kind") == "frame" and e.get("from") == sid]


def decode_notification(b):
    if len(b) < 44:
        return None
    state, leader, zxid, ee, pe, ver, clen = struct.unpack(">iqqqqii", b[:44])
    return dict(state=state, leader=leader, zxid=zxid, election_epoch=ee, peer_epoch=pe, version=ver,
                config=b[44:44 + clen].decode("utf-8", "replace"))


def main():
    out_path = sys.argv[1] if len(sys.argv) > 1 else "capture.jsonl"
    work = tempfile.mkdtemp(prefix="ruzk-elcap-")
    ports = free_ports(9)
    client = {1: ports[0], 2: ports[1], 3: ports[2]}
    quorum = {1: ports[3], 2: ports[4], 3: ports[5]}
    elect = {1: ports[6], 2: ports[7], 3: ports[8]}
    servers = "".join(f"server.{i}=127.0.0.1:{quorum[i]}:{elect[i]}\n" for i in (1, 2, 3))
    procs, logs = [], []
    rec = Recorder()
    conns = {}
    stop = threading.Event()

    def reader(sid, sock):
        try:
            while not stop.is_set():
                (n,) = struct.unpack(">i", recv_exact(sock, 4))
                body = recv_exact(sock, n)
                rec.add(kind="frame", **{"from": sid}, len=n, hex=body.hex(), decoded=decode_notification(body))
        except (EOFError, OSError) as e:
            rec.add(kind="closed", **{"from": sid}, why=str(e))

    def dial(sid):
        s = socket.create_connection(("127.0.0.1", elect[sid]), timeout=5)
        s.settimeout(None)
        addr = f"127.0.0.1:{elect[3]}".encode()
        s.sendall(struct.pack(">qqi", PROTO_V1, 3, len(addr)) + addr)
        conns[sid] = s
        threading.Thread(target=reader, args=(sid, s), daemon=True).start()

    def acceptor(lsock):
        while not stop.is_set():
            try:
                c, _ = lsock.accept()
            except OSError:
                return
            try:
                c.settimeout(5)
                head = recv_exact(c, 8)
                (first,) = struct.unpack(">q", head)
                sid, n = struct.unpack(">qi", recv_exact(c, 12))
                addr = recv_exact(c, n)
                rec.add(kind="hello", **{"from": sid}, hex=(head + struct.pack(">qi", sid, n) + addr).hex(),
                        protocol=first, addr=addr.decode())
                # Java closes its side right after the hello (it lost the challenge); wait for that.
                rest = c.recv(16)
                rec.add(kind="hello_closed", **{"from": sid}, extra=rest.hex())
            except (EOFError, OSError) as e:
                rec.add(kind="hello_error", why=str(e))
            finally:
                c.close()

    try:
        lsock = socket.socket()
        lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lsock.bind(("127.0.0.1", elect[3]))
        lsock.listen(8)
        threading.Thread(target=acceptor, args=(lsock,), daemon=True).start()
        for i in (1, 2):
            d = os.path.join(work, f"s{i}")
            os.makedirs(d)
            with open(os.path.join(d, "myid"), "w") as f:
                f.write(f"{i}\n")
            cfg = os.path.join(d, "zoo.cfg")
            with open(cfg, "w") as f:
                f.write(f"tickTime=1000\ninitLimit=5\nsyncLimit=2\ndataDir={d}\nclientPort={client[i]}\n"
                        f"clientPortAddress=127.0.0.1\n{servers}")
            log = os.path.join(d, "java.log")
            logs.append(log)
            procs.append(subprocess.Popen(
                ["java", "-Xmx256m", "-Dzookeeper.admin.enableServer=false", "-cp", JAVA_CP,
                 "org.apache.zookeeper.server.quorum.QuorumPeerMain", cfg],
                stdout=open(log, "w"), stderr=subprocess.STDOUT))
        # Step 1: Java dials us first (sending its initial message, then closing because 3 > its
        # sid); only then dial both Java election ports, which is the connection that survives.
        deadline = time.monotonic() + 20
        while {e.get("from") for e in rec.events if e.get("kind") == "hello"} != {1, 2}:
            if time.monotonic() > deadline:
                fail("java hello", "an initial message from java servers 1 and 2 on our election port", logs)
            time.sleep(0.05)
        for sid in (1, 2):
            deadline = time.monotonic() + 20
            while True:
                try:
                    dial(sid)
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        fail(f"dial java server {sid}", f"127.0.0.1:{elect[sid]} to accept", logs)
                    time.sleep(0.1)
        # Step 2: wait until both Java servers report a mode in srvr.
        modes = {}
        deadline = time.monotonic() + 30
        while len(modes) < 2:
            for sid in (1, 2):
                try:
                    with socket.create_connection(("127.0.0.1", client[sid]), timeout=2) as s:
                        s.sendall(b"srvr")
                        data = b""
                        while chunk := s.recv(4096):
                            data += chunk
                    for line in data.decode().splitlines():
                        if line.startswith("Mode: ") and line[6:] in ("leader", "follower"):
                            modes[sid] = line[6:]
                except OSError:
                    pass
            if time.monotonic() > deadline:
                fail("java election", f"srvr Mode leader/follower from both (got {modes})", logs)
            time.sleep(0.3)
        rec.add(kind="modes", modes=modes)
        time.sleep(0.5)
        # Step 3: a LOOKING vote from 3 (fresh node, round 1) to each Java server.
        qv = servers.replace("\n", ":participant\n") + "version=0"
        cfgb = qv.encode()
        for sid in (1, 2):
            body = struct.pack(">iqqqqii", 0, 3, 0, 1, 0, 2, len(cfgb)) + cfgb
            rec.add(kind="sent", to=sid, hex=body.hex())
            conns[sid].sendall(struct.pack(">i", len(body)) + body)
        time.sleep(1.0)
        # Step 4: reconnect to server 1: its first frame is the last message it sent us.
        conns[1].close()
        time.sleep(0.5)
        dial(1)
        time.sleep(1.5)
        for sid in (1, 2):
            if not rec.frames_from(sid):
                fail("record", f"at least one frame from java server {sid}", logs)
        with open(out_path, "w") as f:
            for ev in rec.events:
                f.write(json.dumps(ev) + "\n")
        print(f"wrote {len(rec.events)} events to {out_path}; modes {modes}")
    finally:
        stop.set()
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
