"""An ensemble of real processes whose member-to-member links run through the fault proxy, and the
disk faults (torn txn-log tail, a full filesystem) the nemeses apply to one member's dataDir.

Why a subclass of the ensemble harness: start/stop/kill/pause, the port lease and every wait with its
"which server, which step, what it waited for" message already live in compat-tests/ensemble; only
the zoo.cfg differs (each member names the others at proxy addresses, see proxy.py) and the teardown
must unmount a tmpfs before the member directories are removed.
"""

import os
import random
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "ensemble"))
import ensemble  # noqa: E402
from proxy import FaultProxy, proxy_host  # noqa: E402

# Short ticks so a partition is noticed in seconds: syncLimit 6 x 500 ms = 3 s.
TICK_MS = 500
INIT_LIMIT = 20
SYNC_LIMIT = 6

TOPOLOGIES = {
    "ruzk3": ["ruzk", "ruzk", "ruzk"],
    "mixed_2ruzk_1java": ["java", "ruzk", "ruzk"],
    "mixed_1ruzk_2java": ["ruzk", "java", "java"],
    "java3": ["java", "java", "java"],
}


class FaultEnsemble(ensemble.Ensemble):
    # The tmpfs must hold 50 rounds of snapshots and logs (nothing purges them), or a soak fills it
    # without the full-disk fault; only the filler makes it full, for a few seconds.
    def __init__(self, kinds, name, tmpfs_sid=None, tmpfs_mb=512, snap_count=300, max_session_ms=10000):
        self.proxy = None
        self.tmpfs_sid = None
        self.tmpfs_mb = tmpfs_mb
        super().__init__([(k, "participant") for k in kinds], tick_ms=TICK_MS, init_limit=INIT_LIMIT,
                         sync_limit=SYNC_LIMIT, name=name,
                         cfg=["snapCount=%d" % snap_count, "minSessionTimeout=1000", "maxSessionTimeout=%d" % max_session_ms])
        self.proxy = FaultProxy()
        for a in self:
            for b in self:
                if a is b:
                    continue
                self.proxy.add_link(a.sid, b.sid, "quorum", b.quorum_port, b.host, b.quorum_port)
                self.proxy.add_link(a.sid, b.sid, "election", b.election_port, b.host, b.election_port,
                                    reverse_host=proxy_host(b.sid, a.sid))
        if tmpfs_sid is not None:
            self.mount_tmpfs(tmpfs_sid)

    cfg_origin = "compat-tests/faults/cluster.py (peers through the fault proxy)"
    extended_types = False

    def peer_line(self, m, x):
        # Every other member is named at the proxy address of link m -> x.
        if x is m:
            return x.server_line()
        return "server.%d=%s:%d:%d;%s:%d" % (x.sid, proxy_host(m.sid, x.sid), x.quorum_port, x.election_port,
                                            x.host, x.client_port)

    def wait_healthy(self, timeout=120.0, step="wait for the ensemble to serve"):
        """Like wait_ready, but a moment with two leaders (an old leader just SIGCONTed or healed
        has not yet noticed it lost its quorum) is waited out, not failed. Returns the leader."""
        deadline = time.monotonic() + timeout
        while True:
            for m in self:
                if m.proc is not None:
                    self.check_alive(m, step)
            live = self.live()
            modes = {m.sid: m.mode() for m in live}
            leaders = [m for m in live if modes[m.sid] == "leader"]
            if len(leaders) == 1 and all(v in ("leader", "follower") for v in modes.values()):
                for m in live:
                    self.wait_writable(m, max(1.0, deadline - time.monotonic()), step)
                if self.leader() is leaders[0]:
                    return leaders[0]
            if time.monotonic() > deadline:
                self.fail(leaders[0] if leaders else live[0], step,
                          "waited %.0f s for exactly one leader, every other member following, and a write "
                          "through every member" % timeout, "modes %s" % modes, extra_members=live)
            time.sleep(0.2)

    # ------------------------------------------------------------------ full disk

    def mount_tmpfs(self, sid):
        """A small tmpfs as member sid's dataDir (before it first starts), so the full-disk nemesis can
        fill it. Needs root; raises HarnessError naming the member otherwise."""
        m = self[sid]
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%dm" % self.tmpfs_mb, "tmpfs", m.data_dir],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise ensemble.HarnessError("%s: mount tmpfs on %s failed: %s" % (m.name, m.data_dir, r.stderr.strip()))
        self.tmpfs_sid = sid
        with open(os.path.join(m.data_dir, "myid"), "w") as f:
            f.write("%d\n" % sid)

    def filler_path(self):
        return os.path.join(self[self.tmpfs_sid].data_dir, "filler")

    def fill_disk(self):
        """Takes every free byte of the tmpfs; returns how many bytes were taken."""
        st = os.statvfs(self[self.tmpfs_sid].data_dir)
        free = st.f_bavail * st.f_frsize
        r = subprocess.run(["fallocate", "-l", str(free), self.filler_path()], capture_output=True, text=True)
        if r.returncode != 0:
            # fallocate may refuse the exact figure; fill with writes until ENOSPC instead.
            with open(self.filler_path(), "ab") as f:
                chunk = b"\0" * (1 << 20)
                try:
                    while True:
                        f.write(chunk)
                        f.flush()
                except OSError:
                    pass
        return free

    def free_disk(self):
        try:
            os.unlink(self.filler_path())
        except FileNotFoundError:
            pass

    def close(self):
        if self.closed:
            return
        if self.tmpfs_sid is not None:
            for m in self:
                if m.proc is not None:
                    m.stop()
            d = self[self.tmpfs_sid].data_dir
            if self.keep:
                subprocess.run(["cp", "-a", d, d + ".tmpfs-copy"], check=False)
            subprocess.run(["umount", d], check=False)
        if self.proxy is not None:
            self.proxy.close()
        super().close()


# ---------------------------------------------------------------------- torn txn-log tail

def log_records(path):
    """(start, end) of every complete record of a txn log file: 16-byte header, then records of
    crc(8) len(4) body(len) 0x42, then zero padding (preallocation)."""
    with open(path, "rb") as f:
        data = f.read()
    out, pos = [], 16
    while pos + 12 <= len(data):
        _crc, ln = struct.unpack(">qi", data[pos:pos + 12])
        if ln <= 0 or pos + 12 + ln + 1 > len(data) or data[pos + 12 + ln] != 0x42:
            break
        out.append((pos, pos + 12 + ln + 1))
        pos += 12 + ln + 1
    return out


def tear_log_tail(member, rng):
    """Cuts member's newest txn log inside its last record (the member must be stopped). Returns a
    description of what was cut, or None when the newest log has no record."""
    vdir = os.path.join(member.data_dir, "version-2")
    logs = [f for f in os.listdir(vdir) if f.startswith("log.")] if os.path.isdir(vdir) else []
    if not logs:
        return None
    newest = max(logs, key=lambda f: int(f.split(".", 1)[1], 16))
    path = os.path.join(vdir, newest)
    recs = log_records(path)
    if not recs:
        return None
    start, end = recs[-1]
    cut = rng.randrange(start + 1, end)
    with open(path, "r+b") as f:
        f.truncate(cut)
    return "%s: cut %s at byte %d inside its last record (%d-%d, %d records)" % (
        member.name, newest, cut, start, end, len(recs))


def random_member(rng, members):
    return members[rng.randrange(len(members))]
