"""Election, reads and writes through every member, and leader failover.

Every member must serve reads and accept writes (a follower forwards them to the leader), every
client must see every other client's writes after a sync, watches set on one member must fire for
writes made through another, and after the leader is killed a new one must take writes; the old
leader comes back as a follower with the same tree.
"""

import pytest
from kazoo.protocol.states import EventType

from conftest import note


pytestmark = pytest.mark.topologies("participants")


@pytest.mark.ci
def test_elects_exactly_one_leader(scenario, topology):
    ens = scenario.ens
    modes = {m.sid: m.mode() for m in ens}
    assert sorted(modes.values()).count("leader") == 1, modes
    assert all(v in ("leader", "follower") for v in modes.values()), modes
    lead = ens.leader()
    if ens.leader_kind:
        assert lead.kind == ens.leader_kind, "topology %s wants a %s leader, got %s" % (topology, ens.leader_kind,
                                                                                      lead.name)
    # /zookeeper/config is the QV string on every member (Curator parses it; protocol.md trap 18).
    for m in ens:
        c = ens.client(m)
        try:
            data, st = c.get("/zookeeper/config")
            assert data.decode() == ens.qv_string(), m.name
            assert (st.version, st.aversion, st.czxid, st.mzxid) == (-1, -1, 0, 0), (m.name, st)
        finally:
            c.stop()
            c.close()
    # Every member has applied the same last zxid once a write has gone through all of them.
    zk = ens.client()
    try:
        zk.create("/basic-elect", b"x")
        for m in ens:
            c = ens.client(m)
            try:
                c.sync("/")
                assert c.get("/basic-elect")[0] == b"x", m.name
            finally:
                c.stop()
                c.close()
    finally:
        zk.stop()
        zk.close()
    scenario.check_logs("election")


@pytest.mark.ci
def test_reads_and_writes_on_every_member(scenario):
    ens = scenario.ens
    members = list(ens)
    clients = {m.sid: ens.client(m) for m in members}
    try:
        root = "/basic-rw"
        clients[members[0].sid].ensure_path(root)
        events = []
        watcher = clients[members[-1].sid]
        watcher.sync("/")
        watcher.get_children(root, watch=lambda ev: events.append(("children", ev.type, ev.path)))
        watcher.exists(root + "/from-1", watch=lambda ev: events.append(("exists", ev.type, ev.path)))
        for m in members:
            c = clients[m.sid]
            p = "%s/from-%d" % (root, m.sid)
            c.create(p, b"written through %d" % m.sid)
            c.set(p, b"set through %d" % m.sid)
            c.create(p + "/eph", b"", ephemeral=True)
            c.create(p + "/seq-", b"", sequence=True)
            t = c.transaction()
            t.create(p + "/multi", b"m")
            t.set_data(p, b"multi through %d" % m.sid)
            results = t.commit()
            assert results[0] == p + "/multi", results
            assert results[1].version == 2, results
        for m in members:
            c = clients[m.sid]
            c.sync("/")
            kids = sorted(c.get_children(root))
            assert kids == ["from-%d" % x.sid for x in members], (m.name, kids)
            for x in members:
                p = "%s/from-%d" % (root, x.sid)
                data, st = c.get(p)
                assert data == b"multi through %d" % x.sid, (m.name, p, data)
                assert st.version == 2, (m.name, p, st)
                assert sorted(c.get_children(p)) == ["eph", "multi", "seq-0000000001"], (m.name, p)
        assert ("children", EventType.CHILD, root) in events, events
        assert ("exists", EventType.CREATED, root + "/from-1") in events, events
    finally:
        for c in clients.values():
            c.stop()
            c.close()
    scenario.check_trees()
    scenario.check_logs("reads and writes on every member")


@pytest.mark.ci
def test_leader_failover(scenario, topology):
    ens = scenario.ens
    zk = ens.client()
    try:
        zk.create("/basic-failover", b"before")
    finally:
        zk.stop()
        zk.close()
    old, new, seconds = ens.failover()
    note("failover %s: killed leader %d (%s), new leader %d (%s), first write committed after %.2f s"
         % (topology, old.sid, old.kind, new.sid, new.kind, seconds))
    assert new.kind in ("java", "ruzk")
    zk = ens.client([m for m in ens.live()])
    try:
        assert zk.get("/basic-failover")[0] == b"before"
        zk.set("/basic-failover", b"after")
    finally:
        zk.stop()
        zk.close()
    old.start()
    ens.wait_mode(old, "follower", 60, "old leader %d rejoins" % old.sid)
    ens.wait_ready()
    scenario.check_trees()
    rep = scenario.check_logs("leader failover")
    modes = [e.mode for e in rep.syncs if e.side == "learner" and e.learner == old.sid]
    note("failover %s: old leader %d rejoined with %s" % (topology, old.sid, modes))
    assert modes, "old leader %d logged no sync mode" % old.sid
