"""Hierarchical quorums (`group.N` / `weight.N`, QuorumHierarchical).

Config: one group {1, 2, 3} with weight.3=0. Under a plain majority any two members form a quorum;
here only members 1 and 2 carry weight, so (a) member 3 never leads (FLE refuses a zero-weight
leader), (b) the ensemble keeps committing without member 3, and (c) it stops committing when
member 1 or 2 is down although two of three members still run. (a)-(c) can only hold if every member
parsed the same hierarchy; the writes, the tree comparison and the log scan cover the rest.
"""

import pytest

pytestmark = pytest.mark.topologies("participants")

GROUPS = {1: [1, 2, 3]}
WEIGHTS = {1: 1, 2: 1, 3: 0}


@pytest.mark.ci
def test_hierarchical_quorum_elects_and_commits(fresh, topology):
    import ensemble as E
    if len(E.TOPOLOGIES[topology]["participants"]) != 3:
        pytest.skip("the hierarchy is written for three members (Java refuses a member outside every group)")
    sc = fresh(topology, name="%s-hier" % topology, groups=GROUPS, weights=WEIGHTS)
    ens = sc.ens
    lead = ens.leader()
    assert lead.sid in (1, 2), "zero-weight member 3 leads: %s" % lead.name
    zk = ens.client()
    try:
        zk.create("/hier", b"weighted")
    finally:
        zk.stop()
        zk.close()
    for m in ens:
        with open(m.cfg_path) as f:
            assert "group.1=1:2:3\n" in f.read()

    # (b) without the zero-weight member the two weighted members still commit.
    ens[3].stop()
    ens.wait_writable(lead, 30, "write with member 3 down")
    zk = ens.client([ens[1], ens[2]])
    try:
        zk.set("/hier", b"without 3")
    finally:
        zk.stop()
        zk.close()
    ens[3].start()
    ens.wait_ready(step="member 3 rejoins")
    sc.check_trees()

    # (c) without one weighted member there is no quorum, though 2 of 3 members run.
    other = ens[1] if lead.sid == 2 else ens[2]
    lead.stop()
    ens.wait_no_quorum(other, 30, "no quorum of weight with leader %d down" % lead.sid)
    ens.wait_no_quorum(ens[3], 30, "no quorum of weight with leader %d down" % lead.sid)
    assert ens.try_write(other, timeout=2.0) is None, "a write committed without a weighted quorum"
    lead.start()
    new = ens.wait_ready(step="weighted quorum back")
    assert new.sid in (1, 2), "zero-weight member 3 leads after re-election: %s" % new.name
    zk = ens.client()
    try:
        assert zk.get("/hier")[0] == b"without 3"
    finally:
        zk.stop()
        zk.close()
    sc.check_trees()
    sc.check_logs("hierarchical quorum")
