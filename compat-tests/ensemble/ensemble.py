"""Runs ZooKeeper ensembles of real processes, Java 3.8.0 and ruzk members side by side.

Owns: member directories (zoo.cfg, myid, dataDir, one log per member), addresses and ports, process
control (start, SIGTERM stop, SIGKILL, SIGSTOP/SIGCONT, restart and replacement by the other kind on
the same zoo.cfg/myid/dataDir), and every wait the tests need (roles via `srvr`, a quorum that serves
writes, failover). Why a library of its own: the ensemble suites, `run.sh *-ensemble` and the
differential test all need the same members, and every wait must have a deadline whose failure names
the member, the step and what it waited for, with the tail of that member's log.

Each member listens on its own loopback address 127.0.0.(10+sid) with ports from a per-run base that
is leased through a lock file, so concurrent runs by other engineers on this machine never collide.
"""

import contextlib
import ctypes
import fcntl
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "differential"))
import zkraw  # noqa: E402  (stdlib raw client, shared with the differential test)

JAVA_CP = ":".join("/usr/share/java/%s.jar" % j for j in ("zookeeper", "zookeeper-jute", "slf4j-api", "slf4j-simple"))
RUZK_BIN = os.environ.get("RUZK_BIN", os.path.join(REPO, "target", "release", "ruzk"))

SUPER_USER = "super"
SUPER_PASSWORD = "ensemble-super-secret"

# Per-run port leases: slots of 100 ports below Linux's ephemeral range (32768+), away from the
# other suites (run.sh 21201-2, differential 21300-21399, bench 21510).
PORT_RANGE = (24000, 32000)
SLOT_SIZE = 100
LOCK_DIR = os.path.join(tempfile.gettempdir(), "ruzk-ensemble-ports")

ROLES = ("leader", "follower", "observer", "standalone")

# Topologies: the kind of each participant (sid 1..n), then of each observer (sids after them), and
# which kind must lead. The leader is the highest sid of the first quorum to form when all start
# together (FLE breaks a tie on epoch and zxid by sid), so mixed topologies put the kind that should
# lead at the high sids; `Ensemble.force_leader_kind` restarts leaders until the right kind leads.
TOPOLOGIES = {
    "java3": {"participants": ["java"] * 3, "observers": [], "leader_kind": "java"},
    "ruzk3": {"participants": ["ruzk"] * 3, "observers": [], "leader_kind": "ruzk"},
    "ruzk5": {"participants": ["ruzk"] * 5, "observers": [], "leader_kind": "ruzk"},
    "mixed_java_leader": {"participants": ["ruzk", "java", "java"], "observers": [], "leader_kind": "java"},
    "mixed_ruzk_leader": {"participants": ["java", "ruzk", "ruzk"], "observers": [], "leader_kind": "ruzk"},
    # The same kinds in another order, so a leader that is isolated and replaced hands over to
    # the other kind: TRUNC and SNAP then go Java -> ruzk (alt_ruzk) and ruzk -> Java (alt_java).
    "mixed_alt_ruzk_leader": {"participants": ["ruzk", "java", "ruzk"], "observers": [], "leader_kind": "ruzk"},
    "mixed_alt_java_leader": {"participants": ["java", "ruzk", "java"], "observers": [], "leader_kind": "java"},
    "observer_java": {"participants": ["java"] * 3, "observers": ["java"], "leader_kind": "java"},
    "observer_ruzk": {"participants": ["java"] * 3, "observers": ["ruzk"], "leader_kind": "java"},
    # A Java observer of a ruzk ensemble.
    "observer_java_ruzk_leader": {"participants": ["ruzk"] * 3, "observers": ["java"], "leader_kind": "ruzk"},
    # Starts as java3; test_rolling.py replaces the members one at a time (ENSEMBLE_ROLLING_KIND,
    # default ruzk) on their own zoo.cfg/myid/dataDir, then back to Java.
    "rolling": {"participants": ["java"] * 3, "observers": [], "leader_kind": None, "rolling": True},
}


class HarnessError(Exception):
    """The harness could not do its job (no free ports, a binary missing, a process that would not
    start). Never a protocol finding."""


class WaitTimeout(AssertionError):
    """A deadline passed. The message names the member, the step and what was awaited."""


def _die_with_parent():
    # A harness killed by SIGKILL must not leave JVMs behind on a shared machine.
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def four_letter(host, port, cmd, timeout=3.0):
    """Sends a four-letter word; returns the answer text, or None when nobody answered in time
    (a SIGSTOPped member accepts the connection in the kernel but never replies)."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.sendall(cmd.encode())
            chunks = []
            s.settimeout(timeout)
            while True:
                b = s.recv(65536)
                if not b:
                    break
                chunks.append(b)
            return b"".join(chunks).decode(errors="replace")
    except (OSError, socket.timeout):
        return None


def parse_srvr(text):
    """`srvr` answer -> dict with 'mode' (None when not serving) and 'zxid' (int or None)."""
    out = {"mode": None, "zxid": None, "raw": text}
    if not text:
        return out
    for line in text.splitlines():
        if line.startswith("Mode: "):
            out["mode"] = line[len("Mode: "):].strip()
        elif line.startswith("Zxid: "):
            try:
                out["zxid"] = int(line[len("Zxid: "):].strip(), 16)
            except ValueError:
                pass
    return out


class PortLease:
    """A slot of SLOT_SIZE ports held through an flock'ed file for as long as the run lives."""

    def __init__(self, addresses, offsets):
        self.fd = None
        self.base = None
        fixed = os.environ.get("ENSEMBLE_PORT_BASE")
        os.makedirs(LOCK_DIR, exist_ok=True)
        with contextlib.suppress(OSError):
            os.chmod(LOCK_DIR, 0o1777)
        nslots = (PORT_RANGE[1] - PORT_RANGE[0]) // SLOT_SIZE
        if fixed:
            candidates = [(int(fixed) - PORT_RANGE[0]) // SLOT_SIZE]
        else:
            first = random.Random(os.getpid() ^ time.time_ns()).randrange(nslots)
            candidates = [(first + i) % nslots for i in range(nslots)]
        for slot in candidates:
            path = os.path.join(LOCK_DIR, "slot-%03d.lock" % slot)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            base = PORT_RANGE[0] + slot * SLOT_SIZE
            if all(self._bindable(a, base + o) for a in addresses for o in offsets):
                self.fd, self.base = fd, base
                os.ftruncate(fd, 0)
                os.write(fd, ("%d\n" % os.getpid()).encode())
                return
            os.close(fd)
        raise HarnessError("no free port slot in %d-%d for %s" % (PORT_RANGE[0], PORT_RANGE[1], addresses))

    @staticmethod
    def _bindable(addr, port):
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind((addr, port))
                return True
            except OSError:
                return False

    def release(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


class Member:
    """One ensemble member: its directory, addresses, and the process currently running it."""

    def __init__(self, ens, sid, kind, role):
        if kind not in ("java", "ruzk"):
            raise ValueError("kind must be java or ruzk, not %r" % kind)
        if role not in ("participant", "observer"):
            raise ValueError("role must be participant or observer, not %r" % role)
        self.ens = ens
        self.sid = sid
        self.kind = kind
        self.role = role
        self.host = "127.0.0.%d" % (10 + sid)
        base = ens.ports.base + 10 * sid
        self.client_port, self.quorum_port, self.election_port = base, base + 1, base + 2
        self.dir = os.path.join(ens.dir, "m%d" % sid)
        self.data_dir = os.path.join(self.dir, "data")
        self.cfg_path = os.path.join(self.dir, "zoo.cfg")
        self.log_path = os.path.join(self.dir, "member.log")
        self.extra_cfg = []
        self.proc = None
        self.paused = False
        # (kind, byte offset where that incarnation's output starts) for every start, so the log
        # scanner knows which parts of the log Java wrote.
        self.segments = []

    # ------------------------------------------------------------------ identity

    @property
    def hostport(self):
        return "%s:%d" % (self.host, self.client_port)

    @property
    def name(self):
        return "member %d (%s %s, %s)" % (self.sid, self.kind, self.role, self.hostport)

    def __repr__(self):
        return "<%s>" % self.name

    def server_line(self):
        role = ":observer" if self.role == "observer" else ""
        return "server.%d=%s:%d:%d%s;%s:%d" % (self.sid, self.host, self.quorum_port, self.election_port,
                                               role, self.host, self.client_port)

    # ------------------------------------------------------------------ process control

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def command(self):
        props = ["-D%s=%s" % kv for kv in self.ens.sysprops(self)]
        if self.kind == "java":
            # C1 only starts a JVM faster (the suites start many); it also makes Java slower under
            # load, which matters for the client suites (serve.py passes quick_jit=False).
            jit = ["-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"] if self.ens.quick_jit else []
            return (["java", "-Xmx%s" % self.ens.java_heap] + jit + [
                     "-Dorg.slf4j.simpleLogger.showDateTime=true",
                     "-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS"]
                    + props + ["-cp", JAVA_CP, "org.apache.zookeeper.server.quorum.QuorumPeerMain", self.cfg_path])
        if not os.access(RUZK_BIN, os.X_OK):
            raise HarnessError("%s: ruzk binary %s missing; build it with `cargo build --release`"
                               % (self.name, RUZK_BIN))
        return [RUZK_BIN, "server", self.cfg_path] + props

    def start(self):
        if self.running():
            raise HarnessError("%s: start while already running (pid %d)" % (self.name, self.proc.pid))
        cmd = self.command()
        with open(self.log_path, "ab") as log:
            offset = log.tell()
            banner = "==== harness %s: starting %s as %s\n==== %s\n" % (
                time.strftime("%H:%M:%S"), self.name, self.role, " ".join(cmd))
            log.write(banner.encode())
            log.flush()
            self.segments.append((self.kind, offset))
            env = dict(os.environ)
            env.setdefault("RUZK_LOG", "info")
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         cwd=self.dir, env=env, start_new_session=True, preexec_fn=_die_with_parent)
        self.paused = False
        self.ens.note("start", self)

    def _signal(self, sig):
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, sig)

    def _wait_exit(self, timeout):
        try:
            self.proc.wait(timeout=timeout)
            return True
        except subprocess.TimeoutExpired:
            return False

    def stop(self, timeout=20.0):
        """SIGTERM, then SIGKILL if it is still alive after `timeout`."""
        if self.proc is None:
            return
        if self.paused:
            self.resume()
        self._signal(signal.SIGTERM)
        if not self._wait_exit(timeout):
            self.ens.note("stop-timeout", self)
            self._signal(signal.SIGKILL)
            self._wait_exit(10)
        self.ens.note("stop", self)
        self.proc = None

    def kill(self):
        """SIGKILL: a crash (the page cache survives, so this does not test fsync)."""
        if self.proc is None:
            return
        self._signal(signal.SIGKILL)
        self._wait_exit(10)
        self.ens.note("kill", self)
        self.proc = None
        self.paused = False

    def pause(self):
        """SIGSTOP, and wait until every thread has stopped: a thread inside a syscall (an fsync,
        a socket read) stops only when it returns, so without the wait a "paused" follower can
        still log and acknowledge a proposal sent right after (seen on a loaded machine)."""
        self._signal(signal.SIGSTOP)
        self.paused = True
        self.ens.note("pause", self)
        deadline = time.monotonic() + 10
        while self.proc is not None and self.proc.poll() is None:
            running = self._running_threads()
            if not running:
                return
            if time.monotonic() > deadline:
                self.ens.fail(self, "pause (SIGSTOP)", "waited 10 s for every thread to stop",
                              "threads still running: %s" % running)
            time.sleep(0.01)

    def _running_threads(self):
        """Thread ids of the process whose state is not stopped ('T'/'t') or a zombie."""
        out = []
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            for tid in os.listdir("/proc/%d/task" % self.proc.pid):
                with contextlib.suppress(FileNotFoundError, ProcessLookupError):
                    with open("/proc/%d/task/%s/stat" % (self.proc.pid, tid)) as f:
                        state = f.read().rsplit(")", 1)[-1].split()[0]
                    if state not in ("T", "t", "Z", "X"):
                        out.append((tid, state))
        return out

    def resume(self):
        self._signal(signal.SIGCONT)
        self.paused = False
        self.ens.note("resume", self)

    def restart(self, how="TERM"):
        """Stops (TERM) or kills (KILL) the member and starts it again on the same dataDir."""
        if how == "KILL":
            self.kill()
        else:
            self.stop()
        self.start()

    # ------------------------------------------------------------------ observation

    def flw(self, cmd, timeout=3.0):
        return four_letter(self.host, self.client_port, cmd, timeout)

    def srvr(self):
        return parse_srvr(self.flw("srvr"))

    def mode(self):
        return self.srvr()["mode"]

    def log_tail(self, lines=40):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(0, os.SEEK_END)
                size = f.tell()
                f.seek(max(0, size - 64 * 1024))
                text = f.read().decode(errors="replace")
        except OSError as e:
            return "(no log: %s)" % e
        return "\n".join(text.splitlines()[-lines:])

    def state_line(self):
        if self.proc is None:
            return "not running"
        rc = self.proc.poll()
        if rc is not None:
            return "EXITED with status %s" % rc
        return "pid %d%s" % (self.proc.pid, " (SIGSTOPped)" if self.paused else "")


class Ensemble:
    """A set of members sharing one temp directory and one port lease.

    `members` is a topology name from TOPOLOGIES or a list of (kind, role) for sids 1..n. `groups`
    ({group id: [sids]}) and `weights` ({sid: weight}) switch the config to a hierarchical quorum.
    `cfg` adds zoo.cfg lines for every member, `props` Java system properties (-D) for every member.
    """

    def __init__(self, members="java3", tick_ms=2000, init_limit=10, sync_limit=5, cfg=(), props=(),
                 groups=None, weights=None, java_heap="256m", name=None, super_password=SUPER_PASSWORD,
                 quick_jit=True):
        if isinstance(members, str):
            topo = TOPOLOGIES[members]
            name = name or members
            self.leader_kind = topo["leader_kind"]
            members = ([(k, "participant") for k in topo["participants"]]
                       + [(k, "observer") for k in topo["observers"]])
        else:
            self.leader_kind = None
        self.name = name or "custom"
        self.tick_ms, self.init_limit, self.sync_limit = tick_ms, init_limit, sync_limit
        self.cfg = list(cfg)
        self.props = list(props)
        self.groups, self.weights = groups, weights
        self.java_heap = java_heap
        self.super_password = super_password
        self.quick_jit = quick_jit
        self.events = []  # (monotonic time, what, sid)
        self.closed = False
        self.keep = os.environ.get("ENSEMBLE_KEEP") == "1"
        self.dir = tempfile.mkdtemp(prefix="ruzk-ensemble-%s-" % self.name)
        addrs = ["127.0.0.%d" % (10 + sid) for sid in range(1, len(members) + 1)]
        offsets = [10 * sid + o for sid in range(1, len(members) + 1) for o in range(3)]
        self.ports = PortLease(addrs, sorted(set(offsets)))
        self.members = {}
        for sid, (kind, role) in enumerate(members, start=1):
            self.members[sid] = Member(self, sid, kind, role)
        for m in self.members.values():
            os.makedirs(m.data_dir, exist_ok=True)
            with open(os.path.join(m.data_dir, "myid"), "w") as f:
                f.write("%d\n" % m.sid)
            self.write_cfg(m)

    # ------------------------------------------------------------------ config

    def __getitem__(self, sid):
        return self.members[sid]

    def __iter__(self):
        return iter(self.members.values())

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def kinds(self):
        return sorted({m.kind for m in self})

    def has_ruzk(self):
        return any(m.kind == "ruzk" for m in self)

    def sysprops(self, member):
        digest = zkraw.digest_id(SUPER_USER, self.super_password)
        base = [("zookeeper.admin.enableServer", "false"),
                ("zookeeper.DigestAuthenticationProvider.superDigest", digest)]
        return base + [tuple(p.split("=", 1)) for p in self.props]

    # What write_cfg says wrote the file, and whether it turns on TTL/container node types;
    # subclasses (the fault harness) change these and peer_line, not the rest of the file.
    cfg_origin = "compat-tests/ensemble/ensemble.py"
    extended_types = True

    def peer_line(self, m, x):
        """The server.N line for member x in member m's zoo.cfg."""
        return x.server_line()

    def write_cfg(self, m):
        lines = [
            "# written by %s for ensemble %s" % (self.cfg_origin, self.name),
            "tickTime=%d" % self.tick_ms,
            "initLimit=%d" % self.init_limit,
            "syncLimit=%d" % self.sync_limit,
            "dataDir=%s" % m.data_dir,
            "maxClientCnxns=0",
            "4lw.commands.whitelist=*",
            "admin.enableServer=false",
        ]
        if self.extended_types:
            lines.append("extendedTypesEnabled=true")
        if m.role == "observer":
            lines.append("peerType=observer")
        lines += [self.peer_line(m, x) for x in self]
        if self.groups:
            for gid, sids in sorted(self.groups.items()):
                lines.append("group.%d=%s" % (gid, ":".join(str(s) for s in sids)))
            for sid, w in sorted((self.weights or {}).items()):
                lines.append("weight.%d=%d" % (sid, w))
        lines += self.cfg + m.extra_cfg
        with open(m.cfg_path, "w") as f:
            f.write("\n".join(lines) + "\n")

    def note(self, what, member):
        self.events.append((time.monotonic(), what, member.sid))

    # ------------------------------------------------------------------ lifecycle

    def start(self, sids=None):
        for sid in sids or sorted(self.members):
            self.members[sid].start()

    def replace(self, sid, kind, start=True):
        """Stops member `sid` and runs it as `kind` on the same zoo.cfg, myid and dataDir."""
        m = self.members[sid]
        m.stop()
        m.kind = kind
        self.note("replace-%s" % kind, m)
        if start:
            m.start()
        return m

    def close(self):
        if self.closed:
            return
        self.closed = True
        running = [m for m in self if m.proc is not None]
        for m in running:
            if m.paused:
                m.resume()
            m._signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for m in running:
            if not m._wait_exit(max(0.1, deadline - time.monotonic())):
                m._signal(signal.SIGKILL)
                m._wait_exit(10)
            m.proc = None
        self.ports.release()
        if self.keep:
            print("ensemble %s: kept %s" % (self.name, self.dir))
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    # ------------------------------------------------------------------ waiting

    def fail(self, member, step, waited_for, observed, extra_members=()):
        """Raises WaitTimeout naming the member, the step and what was awaited, with log tails."""
        lines = ["ensemble %s, %s, step '%s': %s" % (self.name, member.name if member else "(no member)",
                                                     step, waited_for),
                 "  last observation: %s" % observed]
        shown = [member] if member else []
        shown += [m for m in extra_members if m not in shown]
        for m in self:
            lines.append("  %s: %s" % (m.name, m.state_line()))
        for m in shown:
            lines.append("---- last lines of %s (%s) ----" % (m.log_path, m.name))
            lines.append(m.log_tail())
        raise WaitTimeout("\n".join(lines))

    def check_alive(self, m, step):
        if m.proc is not None and m.proc.poll() is not None:
            self.fail(m, step, "the process exited (status %s)" % m.proc.returncode, "process gone")

    def wait_mode(self, m, modes, timeout=60.0, step="wait for role"):
        """Polls `srvr` on m until its Mode is one of `modes`; returns the mode."""
        modes = {modes} if isinstance(modes, str) else set(modes)
        deadline = time.monotonic() + timeout
        last = None
        while True:
            self.check_alive(m, step)
            s = m.srvr()
            last = s["raw"]
            if s["mode"] in modes:
                return s["mode"]
            if time.monotonic() > deadline:
                self.fail(m, step, "waited %.0f s for srvr Mode in %s" % (timeout, sorted(modes)),
                          "srvr answered %r" % (last.strip()[:300] if last else "nothing"))
            time.sleep(0.2)

    def expected_modes(self, m):
        return {"observer"} if m.role == "observer" else {"leader", "follower"}

    def live(self):
        """Members that run and are not paused."""
        return [m for m in self if m.running() and not m.paused]

    def wait_ready(self, timeout=90.0, step="wait for the ensemble to serve", writes=True):
        """Every live member reports its role, exactly one leader, and (with `writes`) a write through
        every live member commits. Returns the leader. `writes=False` is for tests that must not
        start txns in a new epoch (TRUNC)."""
        deadline = time.monotonic() + timeout
        for m in self:
            if m.proc is not None:
                self.check_alive(m, step)  # a member that exited is named, with its log tail
        for m in self.live():
            self.wait_mode(m, self.expected_modes(m), max(1.0, deadline - time.monotonic()), step)
        leaders = [m for m in self.live() if m.mode() == "leader"]
        if len(leaders) != 1:
            self.fail(leaders[0] if leaders else None, step, "expected exactly one leader",
                      "leaders: %s" % [m.sid for m in leaders], extra_members=self.live())
        if writes:
            for m in self.live():
                self.wait_writable(m, max(1.0, deadline - time.monotonic()), step)
        return leaders[0]

    def leader(self):
        leaders = [m for m in self.live() if m.mode() == "leader"]
        return leaders[0] if len(leaders) == 1 else None

    def followers(self):
        return [m for m in self.live() if m.role == "participant" and m.mode() == "follower"]

    def observers(self):
        return [m for m in self if m.role == "observer"]

    def try_write(self, m, path_prefix="/harness-probe-", timeout=1.5):
        """One persistent-sequential create through m on a fresh session. Returns the created path,
        or None (refused, not serving, or no reply within `timeout`)."""
        conn = zkraw.Conn(m.client_port, host=m.host, timeout=timeout)
        try:
            resp = conn.connect(timeout_ms=10000)
            if resp["timeOut"] <= 0:
                return None
            body = (zkraw.W().ustring(path_prefix).buffer(b"probe")
                    .acls([(31, "world", "anyone")]).int(2).bytes())
            hdr, rbody, _ = conn.request(zkraw.CREATE, body)
            if hdr["err"] != 0:
                return None
            path = zkraw.R(rbody).ustring()
            with contextlib.suppress(zkraw.ConnectionGone, zkraw.ProtocolError, OSError):
                conn.request(zkraw.CLOSE_SESSION)
            return path
        except (zkraw.ConnectionGone, zkraw.ProtocolError, OSError):
            return None
        finally:
            conn.close_socket()

    def wait_writable(self, m, timeout=60.0, step="wait for writes"):
        deadline = time.monotonic() + timeout
        while True:
            self.check_alive(m, step)
            if self.try_write(m):
                return
            if time.monotonic() > deadline:
                self.fail(m, step, "waited %.0f s for a create through this member to commit" % timeout,
                          "srvr: %r" % ((m.flw("srvr") or "no answer").strip()[:300]),
                          extra_members=[x for x in self.live() if x is not m])
            time.sleep(0.2)

    def wait_no_quorum(self, m, timeout=30.0, step="wait for loss of quorum"):
        """Waits until m stops serving (its srvr has no Mode), as members do without a quorum."""
        deadline = time.monotonic() + timeout
        while True:
            s = m.srvr()
            if s["mode"] is None:
                return
            if time.monotonic() > deadline:
                self.fail(m, step, "waited %.0f s for the member to stop serving" % timeout,
                          "still Mode %s" % s["mode"])
            time.sleep(0.2)

    def failover(self, timeout=60.0, how="KILL"):
        """Kills (or stops) the leader and measures the time to the first write that commits on a new
        leader. Returns (old leader, new leader, seconds)."""
        old = self.leader()
        if old is None:
            self.fail(None, "failover", "a leader before the failover", "none or several leaders")
        survivors = [m for m in self.live() if m is not old]
        if how == "KILL":
            old.kill()
        else:
            old.stop()
        t0 = time.monotonic()
        deadline = t0 + timeout
        while True:
            for m in survivors:
                if self.try_write(m, "/harness-failover-", timeout=1.0):
                    elapsed = time.monotonic() - t0
                    new = self.leader()
                    if new is None or new is old:
                        self.fail(m, "failover", "a single new leader after the first write",
                                  "modes %s" % {x.sid: x.mode() for x in survivors})
                    return old, new, elapsed
            if time.monotonic() > deadline:
                self.fail(survivors[0], "failover after %s of leader %d" % (how, old.sid),
                          "waited %.0f s for a write to commit on a new leader" % timeout,
                          "modes %s" % {x.sid: x.mode() for x in survivors}, extra_members=survivors)
            time.sleep(0.05)

    def force_leader_kind(self, kind, attempts=4, timeout=90.0):
        """Restarts leaders until one of `kind` leads (for mixed topologies)."""
        for _ in range(attempts + 1):
            lead = self.wait_ready(timeout)
            if lead.kind == kind:
                return lead
            lead.stop()
            others = [m for m in self.live()]
            for m in others:
                self.wait_mode(m, self.expected_modes(m), timeout, "re-election after stopping leader %d" % lead.sid)
            lead.start()
        self.fail(self.leader(), "force leader kind", "a %s leader after %d restarts" % (kind, attempts),
                  "leader kinds seen do not match")

    def ensure_all_running(self, timeout=90.0):
        """Brings back every member a previous test stopped or paused, and waits until all serve."""
        for m in self:
            if m.paused:
                m.resume()
            if not m.running():
                if m.proc is not None:
                    m.proc = None  # it exited on its own; the log scanner will have seen why
                m.start()
        return self.wait_ready(timeout)

    # ------------------------------------------------------------------ clients

    def qv_string(self):
        """What every member must serve as /zookeeper/config data (QuorumMaj.toString): one line per
        member, client address included because it comes from the server line, then `version=0`
        without a newline. Not for hierarchical configs (their group/weight lines follow a HashMap)."""
        lines = ["server.%d=%s:%d:%d:%s;%s:%d\n" % (m.sid, m.host, m.quorum_port, m.election_port, m.role,
                                                   m.host, m.client_port) for m in self]
        return "".join(lines) + "version=0"

    def connect_string(self, members=None):
        return ",".join(m.hostport for m in (members or list(self)))

    def client(self, members=None, auth=True, timeout=15.0, start_timeout=30.0, **kw):
        """A started KazooClient on the given members (all by default), as super if auth."""
        from kazoo.client import KazooClient
        from kazoo.handlers.threading import KazooTimeoutError

        if isinstance(members, Member):
            members = [members]
        c = KazooClient(hosts=self.connect_string(members), timeout=timeout, **kw)
        try:
            c.start(timeout=start_timeout)
        except KazooTimeoutError:
            c.close()
            ms = members or list(self)
            self.fail(ms[0], "kazoo client start", "waited %.0f s for a session on %s"
                      % (start_timeout, self.connect_string(members)),
                      "modes %s" % {m.sid: m.mode() for m in ms}, extra_members=ms[1:])
        if auth:
            c.add_auth("digest", "%s:%s" % (SUPER_USER, self.super_password))
        return c
