"""Rolling replacement: an all-Java ensemble has its members replaced one at a time by ruzk on the
same zoo.cfg, myid and dataDir (followers first, the leader last), then back to Java.

This is the drop-in claim end to end: each replaced member must load the other kind's data dir and
epoch files, rejoin with a DIFF (nothing was written while it was down), serve reads and forwarded
writes, fire watches set through a member of the other kind, and leave every replica identical and
every Java log clean. Select with `--topology rolling`; ENSEMBLE_ROLLING_KIND=java runs the same
steps with Java replacing Java, which is how the harness itself was validated.
"""

import os

import pytest
from kazoo.protocol.states import EventType

from conftest import note

pytestmark = pytest.mark.topologies("rolling")
KIND = os.environ.get("ENSEMBLE_ROLLING_KIND", "ruzk")


def check_serving(ens, tag):
    """A write through every member, read back through every member; a watch set through one
    member fires for a write made through another."""
    events = []
    members = ens.live()
    watcher = ens.client(members[-1])
    try:
        watcher.ensure_path("/rolling")
        watcher.exists("/rolling/%s-0" % tag, watch=lambda ev: events.append((ev.type, ev.path)))
        for i, m in enumerate(members):
            c = ens.client(m)
            try:
                c.create("/rolling/%s-%d" % (tag, i), b"through %d (%s)" % (m.sid, m.kind.encode()))
            finally:
                c.stop()
                c.close()
        for m in members:
            c = ens.client(m)
            try:
                c.sync("/")
                for i, w in enumerate(members):
                    data, _ = c.get("/rolling/%s-%d" % (tag, i))
                    assert data == b"through %d (%s)" % (w.sid, w.kind.encode()), (m.name, data)
            finally:
                c.stop()
                c.close()
        assert (EventType.CREATED, "/rolling/%s-0" % tag) in events, events
    finally:
        watcher.stop()
        watcher.close()


def replace_all(sc, kind, topology, rnd):
    ens = sc.ens
    lead = ens.leader()
    order = [m for m in ens if m is not lead] + [lead]
    for m in order:
        before = m.kind
        since = sc.mark()
        ens.replace(m.sid, kind)
        ens.wait_mode(m, {"leader", "follower"}, 90, "member %d back as %s" % (m.sid, kind))
        ens.wait_ready(step="after replacing member %d by %s" % (m.sid, kind))
        check_serving(ens, "r%d-m%d-%s" % (rnd, m.sid, kind))
        sc.check_trees()
        sc.check_logs("replacing member %d (%s -> %s)" % (m.sid, before, kind))
        modes = sc.learner_modes(m.sid, since)
        note("rolling %s: member %d %s -> %s rejoined with %s; leader now %d (%s)"
             % (topology, m.sid, before, kind, modes, ens.leader().sid, ens.leader().kind))
        if ens.leader() is m:
            # It won the election it joined (same epoch and zxid as the others, higher sid), as a
            # Java member may: then the others synced from it, each by DIFF.
            for o in ens.live():
                if o is not m:
                    om = sc.learner_modes(o.sid, since)
                    assert om and set(om) == {"DIFF"}, "member %d synced from the replaced leader %d with %s" % (
                        o.sid, m.sid, om)
        else:
            assert modes == ["DIFF"], "member %d (%s on %s's dataDir): sync modes %s" % (m.sid, kind, before, modes)


def test_rolling_replacement_and_back(fresh, topology):
    sc = fresh("java3", name="rolling")
    ens = sc.ens
    check_serving(ens, "start")
    replace_all(sc, KIND, topology, 1)
    assert all(m.kind == KIND for m in ens)
    replace_all(sc, "java", topology, 2)
    assert all(m.kind == "java" for m in ens)
