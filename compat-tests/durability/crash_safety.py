#!/usr/bin/env python3
"""Crash safety: an acknowledged write is never lost.

Each round starts ruzk on one data dir, streams pipelined creates from one session and
records every acknowledged one, SIGKILLs the server at a random moment, and (in half of the
rounds) models a torn write by cutting the log inside the entries that follow the last
acknowledged one, or by appending a partial record. After the restart every acknowledged
znode must be present with its data, and because one session's writes apply in order, the
znodes present must form a gap-free prefix of what was sent. Prints the rounds and writes
checked; exits non-zero on the first violation.
"""
import argparse, logging, os, random, signal, socket, struct, subprocess, sys, tempfile, threading, time

from kazoo.client import KazooClient

def wait_port(port, proc, deadline=15):
    end = time.time() + deadline
    while time.time() < end:
        if proc.poll() is not None:
            raise RuntimeError("ruzk exited with %s" % proc.returncode)
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=0.5)
            s.sendall(b"ruok"); ok = s.recv(4) == b"imok"; s.close()
            if ok:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError("ruzk did not come up")

def log_entries(path):
    """(offset, end, zxid) of every complete record in a Java-format txn log."""
    data = open(path, "rb").read()
    out, pos = [], 16
    while pos + 12 <= len(data):
        crc, ln = struct.unpack(">qi", data[pos:pos + 12])
        if ln <= 0 or pos + 12 + ln + 1 > len(data) or data[pos + 12 + ln] != 0x42:
            break
        zxid = struct.unpack(">q", data[pos + 12 + 12:pos + 12 + 20])[0]
        out.append((pos, pos + 12 + ln + 1, zxid))
        pos += 12 + ln + 1
    return out

def main():
    logging.getLogger("kazoo").setLevel(logging.CRITICAL)
    ap = argparse.ArgumentParser()
    ap.add_argument("--ruzk", default="target/release/ruzk")
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--port", type=int, default=21701)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    work = tempfile.mkdtemp(prefix="ruzk-crash-")
    cfg = os.path.join(work, "zoo.cfg")
    with open(cfg, "w") as f:
        f.write("tickTime=2000\ndataDir=%s/data\nclientPort=%d\nclientPortAddress=127.0.0.1\n"
                "4lw.commands.whitelist=*\nsnapCount=400\n" % (work, a.port))
    logdir = os.path.join(work, "data", "version-2")
    acked = {}          # path -> data, over all rounds
    sent_total = 0
    next_id = 0
    for rnd in range(a.rounds + 1):
        log = open(os.path.join(work, "ruzk.log"), "ab")
        proc = subprocess.Popen([a.ruzk, "server", cfg], stdout=log, stderr=log)
        wait_port(a.port, proc)
        zk = KazooClient(hosts="127.0.0.1:%d" % a.port, timeout=10)
        zk.start(timeout=10)
        # Verify everything acknowledged so far survived, and the prefix property.
        present = set(zk.get_children("/")) if zk.exists("/") else set()
        for p, d in acked.items():
            got = zk.get(p)[0] if p[1:] in present else None
            if got != d:
                print("LOST acknowledged write %s (round %d): got %r" % (p, rnd, got), file=sys.stderr)
                print("work dir kept: " + work, file=sys.stderr)
                sys.exit(1)
        ids = sorted(int(n[1:]) for n in present if n.startswith("k"))
        if ids != list(range(len(ids))):
            print("GAP in one session's writes after round %d: %s" % (rnd, ids[:5]), file=sys.stderr)
            sys.exit(1)
        next_id = len(ids)
        if rnd == a.rounds:
            # The last start only verifies the last round's writes.
            zk.stop(); zk.close()
            proc.terminate(); proc.wait()
            break
        # Stream pipelined creates; kill at a random moment.
        lock = threading.Lock()
        def done(path, data):
            def cb(ar):
                try:
                    ar.get()
                except Exception:
                    return
                with lock:
                    acked[path] = data
            return cb
        kill_after = rng.uniform(0.05, 0.6)
        t0 = time.time()
        while time.time() - t0 < kill_after:
            for _ in range(50):
                p = "/k%d" % next_id
                d = b"v%d" % next_id
                next_id += 1
                sent_total += 1
                zk.create_async(p, d).rawlink(done(p, d))
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        try:
            zk.stop(); zk.close()
        except Exception:
            pass
        time.sleep(0.2)
        with lock:
            last = max((int(p[2:]) for p in acked), default=-1)
        how = "none"
        if rng.random() < 0.5 and last >= 0:
            how = tear_safely(logdir, acked, rng)
        print("round %d: %d acknowledged so far (last k%d), torn: %s" % (rnd, len(acked), last, how))
    print("crash-safety: %d rounds, %d writes sent, %d acknowledged writes verified after SIGKILL, 0 lost"
          % (a.rounds, sent_total, len(acked)))

def tear_safely(logdir, acked, rng):
    """Tear only what no client was told is durable: find the log entry of the highest
    acknowledged create and cut or scribble strictly after it."""
    logs = sorted((int(n.split(".")[1], 16), n) for n in os.listdir(logdir) if n.startswith("log."))
    if not logs:
        return "none"
    path = os.path.join(logdir, logs[-1][1])
    ents = log_entries(path)
    data = open(path, "rb").read()
    # The highest entry whose body names an acknowledged path.
    safe_end = 16
    for off, end, _ in ents:
        body = data[off + 12:end - 1]
        # CreateTxn path starts after the 32-byte TxnHeader: int length + bytes.
        if len(body) > 36:
            ln = struct.unpack(">i", body[32:36])[0]
            p = body[36:36 + ln].decode("utf-8", "replace") if 0 < ln < 200 else ""
            if p in acked:
                safe_end = end
    later = [e for e in ents if e[0] >= safe_end]
    if later and rng.random() < 0.7:
        off, end, _ = rng.choice(later)
        cut = rng.randrange(off, end)
        with open(path, "r+b") as f:
            f.truncate(cut)
        return "cut@%d (last acked entry ends %d)" % (cut, safe_end)
    end = ents[-1][1] if ents else 16
    with open(path, "r+b") as f:
        f.seek(end)
        f.write(struct.pack(">qi", rng.getrandbits(31), 40) + os.urandom(rng.randrange(1, 40)))
    return "partial record @%d" % end

if __name__ == "__main__":
    main()
