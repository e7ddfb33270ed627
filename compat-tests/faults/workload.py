"""Client workers that record every operation with its invoke and complete times and its outcome.

Each worker owns one kazoo session (its host list starts at a different member, so sessions spread
over the ensemble and move when their member fails) and runs, one at a time: create / set / CAS
(set with the last version it saw) / delete on a few register keys, reads after `sync`, and
appends (a create of a fresh znode, whose acknowledgement the end-of-round check looks for on every
member). Outcomes: "ok" with the server's answer (an error code such as NodeExists is a definite
answer), or "unknown" when the connection was lost, the session expired or no reply came in time:
such a write may still take effect later. A read that fails is dropped (it constrains nothing).
"""

import logging
import random
import threading
import time

from kazoo.client import KazooClient
from kazoo.exceptions import BadVersionError, NodeExistsError, NoNodeError
from kazoo.protocol.states import KazooState
from kazoo.retry import KazooRetry

logging.getLogger("kazoo").setLevel(logging.CRITICAL)

DEFINITE = {NodeExistsError: "NodeExists", NoNodeError: "NoNode", BadVersionError: "BadVersion"}
OP_TIMEOUT = 6.0
SESSION_TIMEOUT = 4.0


def make_client(hosts, session_timeout=None):
    c = KazooClient(hosts=hosts, timeout=session_timeout or SESSION_TIMEOUT,
                    connection_retry=KazooRetry(max_tries=-1, delay=0.05, max_delay=0.5, ignore_expire=False),
                    command_retry=None, randomize_hosts=False)
    return c


class Worker(threading.Thread):
    def __init__(self, wid, hosts, keys, append_dir, seed, clock, history, lock, stop_event, session_timeout=None):
        super().__init__(name="worker-%d" % wid, daemon=True)
        self.session_timeout = session_timeout
        self.think_s = 0.0
        self.lost_sessions = []  # clock times at which kazoo reported the session LOST (expired)
        self.wid, self.hosts, self.keys, self.append_dir = wid, hosts, keys, append_dir
        self.rng = random.Random(seed)
        self.clock, self.history, self.lock, self.stop_event = clock, history, lock, stop_event
        self.n = 0
        self.seen_version = {}
        self.errors = {}
        self.appends = {}  # path -> (data, outcome)
        self.client = None
        self.start_error = None

    def record(self, o):
        with self.lock:
            self.history.append(o)

    def note_error(self, e):
        name = type(e).__name__
        self.errors[name] = self.errors.get(name, 0) + 1

    def run(self):
        self.client = make_client(self.hosts, self.session_timeout)
        # kazoo also reports LOST when we close the session ourselves: only count it before stop.
        self.client.add_listener(lambda st: self.lost_sessions.append(self.clock())
                                 if st == KazooState.LOST and not self.stop_event.is_set() else None)
        try:
            self.client.start(timeout=30)
        except Exception as e:  # noqa: BLE001 - reported by the round as a harness failure
            self.start_error = "worker %d: no session on %s within 30 s (%s)" % (self.wid, self.hosts, e)
            return
        try:
            while not self.stop_event.is_set():
                self.one()
                if self.think_s:
                    self.stop_event.wait(self.think_s)
        finally:
            try:
                self.client.stop()
                self.client.close()
            except Exception:  # noqa: BLE001
                pass

    def one(self):
        self.n += 1
        c = self.client
        r = self.rng.random()
        value = b"w%d-%d" % (self.wid, self.n)
        if r < 0.12:
            path = "%s/w%d-%d" % (self.append_dir, self.wid, self.n)
            t0 = self.clock()
            try:
                c.create_async(path, value).get(timeout=OP_TIMEOUT)
                self.appends[path] = (value, "ok", t0, self.clock())
            except Exception as e:  # noqa: BLE001
                self.note_error(e)
                self.appends[path] = (value, "unknown", t0, None)
            return
        key = self.rng.choice(self.keys)
        if r < 0.45:
            t0 = self.clock()
            try:
                c.sync_async(key).get(timeout=OP_TIMEOUT)
                data, st = c.get_async(key).get(timeout=OP_TIMEOUT)
                result = (data, st.version)
                self.seen_version[key] = st.version
            except NoNodeError:
                result = "NoNode"
            except Exception as e:  # noqa: BLE001
                self.note_error(e)
                return
            self.record({"key": key, "f": "read", "arg": None, "invoke": t0, "complete": self.clock(),
                         "outcome": "ok", "result": result, "process": self.wid})
            return
        if r < 0.60:
            f, arg = "create", value
            call = lambda: (c.create_async(key, value).get(timeout=OP_TIMEOUT), "ok")[1]  # noqa: E731
        elif r < 0.75:
            f, arg = "set", value
            call = lambda: c.set_async(key, value).get(timeout=OP_TIMEOUT).version  # noqa: E731
        elif r < 0.93:
            ev = self.seen_version.get(key, 0)
            f, arg = "cas", (value, ev)
            call = lambda: c.set_async(key, value, version=ev).get(timeout=OP_TIMEOUT).version  # noqa: E731
        else:
            f, arg = "delete", None
            call = lambda: (c.delete_async(key).get(timeout=OP_TIMEOUT), "ok")[1]  # noqa: E731
        t0 = self.clock()
        try:
            result = call()
            outcome = "ok"
            if isinstance(result, int):
                self.seen_version[key] = result
        except tuple(DEFINITE) as e:
            result, outcome = DEFINITE[type(e)], "ok"
        except Exception as e:  # noqa: BLE001
            self.note_error(e)
            result, outcome = None, "unknown"
        self.record({"key": key, "f": f, "arg": arg, "invoke": t0, "complete": self.clock() if outcome == "ok" else None,
                     "outcome": outcome, "result": result, "process": self.wid})


class Workload:
    """Several workers on one set of keys; start(), stop(), then history / appends / errors."""

    def __init__(self, ens, prefix, nworkers=4, nkeys=3, seed=0, session_timeout=None, think_s=0.0):
        self.ens = ens
        self.prefix = prefix
        self.keys = ["%s/k%d" % (prefix, i) for i in range(nkeys)]
        self.append_dir = "%s/acks" % prefix
        self.history = []
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        self.t0 = time.monotonic()
        members = list(ens)
        self.workers = []
        for w in range(nworkers):
            order = members[w % len(members):] + members[:w % len(members)]
            hosts = ",".join(m.hostport for m in order)
            self.workers.append(Worker(w, hosts, self.keys, self.append_dir, seed * 1000 + w, self.clock,
                                       self.history, self.lock, self.stop_event, session_timeout))

        for w in self.workers:
            w.think_s = think_s

    def clock(self):
        return time.monotonic() - self.t0

    def start(self):
        for w in self.workers:
            w.start()

    def stop(self, timeout=60):
        self.stop_event.set()
        for w in self.workers:
            w.join(timeout)
        stuck = [w.wid for w in self.workers if w.is_alive()]
        return stuck

    def appends(self):
        out = {}
        for w in self.workers:
            out.update(w.appends)
        return out

    def errors(self):
        out = {}
        for w in self.workers:
            for k, v in w.errors.items():
                out[k] = out.get(k, 0) + v
        return out

    def lost_sessions(self):
        return sorted(t for w in self.workers for t in w.lost_sessions)

    def start_errors(self):
        return [w.start_error for w in self.workers if w.start_error]

    def acked_writes(self):
        n = sum(1 for o in self.history if o["f"] != "read" and o["outcome"] == "ok")
        return n + sum(1 for a in self.appends().values() if a[1] == "ok")

    def longest_write_stall(self):
        """Longest gap between consecutive acknowledged writes (any worker), in seconds."""
        times = sorted([o["complete"] for o in self.history if o["f"] != "read" and o["outcome"] == "ok"]
                       + [a[3] for a in self.appends().values() if a[1] == "ok"])
        if len(times) < 2:
            return None
        return max(b - a for a, b in zip(times, times[1:]))
