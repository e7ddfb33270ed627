"""The fault kinds (nemeses). Each one is applied while the workers write and read, and returns with
every link healed and every member running again; it returns a one-line account of what it did, so
a failing round can be replayed by hand (`run.py --seed`).
"""

import time

from cluster import SYNC_LIMIT, TICK_MS, tear_log_tail
from workload import SESSION_TIMEOUT

SYNC_S = SYNC_LIMIT * TICK_MS / 1000.0


class Ctx:
    def __init__(self, ens, rng, round_name):
        self.ens, self.rng, self.round = ens, rng, round_name
        self.t0 = time.monotonic()

    def at(self):
        return "%.1fs" % (time.monotonic() - self.t0)

    def leader(self, step):
        lead = self.ens.leader()
        if lead is None:
            self.ens.fail(None, "%s: %s" % (self.round, step), "exactly one leader among the live members",
                          "modes %s" % {m.sid: m.mode() for m in self.ens.live()}, extra_members=self.ens.live())
        return lead

    def follower(self, step):
        lead = self.leader(step)
        fs = [m for m in self.ens.live() if m is not lead]
        return fs[self.rng.randrange(len(fs))]

    def sleep(self, a, b=None):
        time.sleep(a if b is None else self.rng.uniform(a, b))

    def wait_new_leader(self, old, step, timeout=30.0):
        """Waits until a member other than `old` leads (the rest elected without it)."""
        deadline = time.monotonic() + timeout
        others = [m for m in self.ens.live() if m is not old]
        while time.monotonic() < deadline:
            if any(m.mode() == "leader" for m in others):
                return
            time.sleep(0.2)
        self.ens.fail(others[0], "%s: %s" % (self.round, step),
                      "waited %.0f s for a new leader among %s while member %d was cut off"
                      % (timeout, [m.sid for m in others], old.sid),
                      "modes %s" % {m.sid: m.mode() for m in others}, extra_members=others[1:] + [old])


def partition_leader(c):
    lead = c.leader("pick the leader to isolate")
    c.sleep(0.3, 1.5)
    c.ens.proxy.isolate(lead.sid)
    t = c.at()
    c.wait_new_leader(lead, "partition of leader %d" % lead.sid)
    c.sleep(0.5, 2.0)
    c.ens.proxy.heal()
    return "isolated leader %d at %s, the others elected, healed at %s" % (lead.sid, t, c.at())


def partition_follower(c):
    f = c.follower("pick a follower to isolate")
    c.sleep(0.3, 1.5)
    c.ens.proxy.isolate(f.sid)
    t = c.at()
    c.sleep(SYNC_S + 0.5, SYNC_S + 2.5)
    c.ens.proxy.heal()
    return "isolated follower %d at %s, healed at %s" % (f.sid, t, c.at())


def partition_pair(c):
    """Cuts one link only (the leader from one follower): a majority still sees everybody."""
    lead = c.leader("pick the leader")
    f = c.follower("pick a follower")
    c.sleep(0.3, 1.0)
    c.ens.proxy.cut(lead.sid, f.sid)
    t = c.at()
    c.sleep(SYNC_S + 0.5, SYNC_S + 2.0)
    c.ens.proxy.heal()
    return "cut the links between leader %d and follower %d at %s, healed at %s" % (lead.sid, f.sid, t, c.at())


def delay(c):
    ms = c.rng.choice([30, 120, 400, 900])
    who = c.rng.choice([None] + [m.sid for m in c.ens])
    c.sleep(0.2, 1.0)
    c.ens.proxy.delay(ms, who)
    t = c.at()
    c.sleep(2.0, 4.0)
    c.ens.proxy.heal()
    return "delayed %s by %d ms from %s to %s" % ("every link" if who is None else "the links of member %d" % who,
                                                  ms, t, c.at())


def reset_links(c):
    c.sleep(0.2, 1.0)
    c.ens.proxy.drop()
    t = c.at()
    c.sleep(0.5, 1.5)
    c.ens.proxy.drop()
    return "reset every member-to-member connection at %s and %s" % (t, c.at())


def kill_leader(c):
    lead = c.leader("pick the leader to kill")
    c.sleep(0.2, 1.5)
    lead.kill()
    t = c.at()
    c.sleep(0.0, 2.0)
    lead.start()
    return "kill -9 leader %d at %s, restarted at %s" % (lead.sid, t, c.at())


def kill_follower(c):
    f = c.follower("pick a follower to kill")
    c.sleep(0.2, 1.5)
    f.kill()
    t = c.at()
    c.sleep(0.0, 2.0)
    f.start()
    return "kill -9 follower %d at %s, restarted at %s" % (f.sid, t, c.at())


def kill_during_sync(c):
    """A follower misses writes, restarts, and is killed (or its leader is) while it syncs."""
    lead = c.leader("pick the leader")
    f = c.follower("pick a follower")
    f.kill()
    c.sleep(1.0, 2.0)  # the workers write meanwhile, so it needs a DIFF or SNAP
    f.start()
    t_start = c.at()
    c.sleep(0.05, 1.2)
    victim = f if c.rng.random() < 0.6 else lead
    victim.kill()
    t = c.at()
    c.sleep(0.2, 1.0)
    victim.start()
    return "kill -9 follower %d, restarted at %s, kill -9 %s %d during its sync at %s, restarted at %s" % (
        f.sid, t_start, "the same follower" if victim is f else "leader", victim.sid, t, c.at())


def pause(c):
    lead = c.leader("pick a member to pause")
    victim = lead if c.rng.random() < 0.5 else c.follower("pick a follower to pause")
    c.sleep(0.2, 1.0)
    victim.pause()
    t = c.at()
    c.sleep(SESSION_TIMEOUT + 1.0, SESSION_TIMEOUT + 3.0)
    victim.resume()
    return "SIGSTOP %s %d at %s (past the %.0f s session timeout), SIGCONT at %s" % (
        "leader" if victim is lead else "follower", victim.sid, t, SESSION_TIMEOUT, c.at())


def torn_tail(c):
    f = c.follower("pick a follower for a torn log tail")
    c.sleep(0.5, 1.5)
    f.kill()
    what = tear_log_tail(f, c.rng) or "%s: newest log had no record to cut" % f.name
    c.sleep(0.0, 0.5)
    f.start()
    return "kill -9 follower %d, %s, restarted at %s" % (f.sid, what, c.at())


def full_disk(c):
    ens = c.ens
    if ens.tmpfs_sid is None:
        raise RuntimeError("full-disk needs an ensemble built with a tmpfs member")
    m = ens[ens.tmpfs_sid]
    role = m.mode()
    c.sleep(0.3, 1.0)
    taken = ens.fill_disk()
    t = c.at()
    c.sleep(2.0, 4.0)
    ens.free_disk()
    # A member may die of the full disk after it was freed (Java fails a snapshot or log write it
    # started meanwhile and exits seconds later), so watch it for a while before declaring it fine.
    deadline = time.monotonic() + 6.0
    while m.running() and time.monotonic() < deadline:
        time.sleep(0.2)
    alive = m.running()
    status = "kept running" if alive else "exited with status %s" % m.proc.returncode
    if not alive:
        m.proc = None
        m.start()
    elif m.srvr()["mode"] is None:
        status += " (not serving)"
    return "filled the %d MB tmpfs of %s %d (%s) at %s (%d bytes), freed at %s; it %s" % (
        ens.tmpfs_mb, m.kind, m.sid, role, t, taken, c.at(), status)


KINDS = {
    "partition-leader": partition_leader,
    "partition-follower": partition_follower,
    "partition-link": partition_pair,
    "delay": delay,
    "reset-links": reset_links,
    "kill-leader": kill_leader,
    "kill-follower": kill_follower,
    "kill-during-sync": kill_during_sync,
    "pause": pause,
    "torn-tail": torn_tail,
    "full-disk": full_disk,
}
