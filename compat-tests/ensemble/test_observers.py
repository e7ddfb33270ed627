"""Observers (`server.N=...:observer` + `peerType=observer`): they never vote, receive every committed
txn (INFORM), forward writes, fire watches, catch up after a restart, and follow a new leader.
"""

import pytest
from kazoo.protocol.states import EventType

from conftest import note

pytestmark = pytest.mark.topologies("observers")


@pytest.mark.ci
def test_observer_receives_everything(scenario):
    ens = scenario.ens
    obs = ens.observers()
    assert obs and all(o.mode() == "observer" for o in obs), {o.sid: o.mode() for o in obs}
    participants = [m for m in ens if m.role == "participant"]
    events = []
    ow = ens.client(obs[0])
    try:
        ow.ensure_path("/obs")
        ow.get_children("/obs", watch=lambda ev: events.append((ev.type, ev.path)))
        ow.exists("/obs/p1", watch=lambda ev: events.append((ev.type, ev.path)))
        # Writes through every participant and through the observer (forwarded to the leader).
        for m in participants + obs:
            c = ens.client(m)
            try:
                c.create("/obs/p%d" % m.sid, b"from %d" % m.sid)
                c.create("/obs/p%d/e" % m.sid, b"", ephemeral=True)
            finally:
                c.stop()
                c.close()
        ow.sync("/")
        assert sorted(ow.get_children("/obs")) == sorted("p%d" % m.sid for m in participants + obs)
        for m in participants + obs:
            assert ow.get("/obs/p%d" % m.sid)[0] == b"from %d" % m.sid
            # The ephemeral's session closed: gone on the observer too.
            assert ow.exists("/obs/p%d/e" % m.sid) is None
        assert (EventType.CHILD, "/obs") in events, events
        assert (EventType.CREATED, "/obs/p1") in events, events
    finally:
        ow.stop()
        ow.close()
    scenario.check_trees()
    scenario.check_logs("observer receives everything")


def test_observer_does_not_vote(scenario):
    ens = scenario.ens
    lead = ens.leader()
    followers = [m for m in ens.followers()]
    # Stop all followers: the leader plus observers are no quorum, whatever the observer count.
    for f in followers:
        f.stop()
    ens.wait_no_quorum(lead, 30, "leader without its followers (observers do not vote)")
    for o in ens.observers():
        assert ens.try_write(o, timeout=2.0) is None, "%s committed a write without a quorum" % o.name
    for f in followers:
        f.start()
    ens.wait_ready(step="followers back")
    scenario.check_logs("observers do not vote")


@pytest.mark.ci
def test_observer_catches_up_after_restart(scenario, topology):
    ens = scenario.ens
    o = ens.observers()[0]
    o.stop()
    zk = ens.client([m for m in ens if m.role == "participant"])
    try:
        zk.ensure_path("/obs-missed")
        for i in range(30):
            zk.create("/obs-missed/n%02d" % i, b"m")
    finally:
        zk.stop()
        zk.close()
    since = scenario.mark()
    o.start()
    ens.wait_mode(o, "observer", 60, "observer %d rejoins" % o.sid)
    ens.wait_ready()
    scenario.check_logs("observer catch-up")
    modes = scenario.learner_modes(o.sid, since)
    note("observers %s: observer %d (%s) caught up with %s" % (topology, o.sid, o.kind, modes))
    assert modes == ["DIFF"], modes
    scenario.check_trees()


def test_observer_follows_a_new_leader(scenario, topology):
    ens = scenario.ens
    old, new, seconds = ens.failover()
    note("observers %s: leader %d killed, %d leads, first write after %.2f s" % (topology, old.sid, new.sid, seconds))
    for o in ens.observers():
        ens.wait_mode(o, "observer", 60, "observer %d follows leader %d" % (o.sid, new.sid))
        ens.wait_writable(o, 60, "write through observer %d after failover" % o.sid)
    old.start()
    ens.wait_ready()
    scenario.check_trees()
    scenario.check_logs("observer after failover")
