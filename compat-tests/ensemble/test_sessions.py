"""Sessions and watches across members: a session survives its member going away and reattaches
elsewhere with its id, password and ephemerals; watches re-registered with setWatches on the new
member fire (both for changes made while disconnected and after); a session whose client is gone is
expired by the leader, which deletes its ephemerals on every member.

kazoo 2.11 does not re-send watches after a reconnect, so the watch part uses the raw client.
"""

import time

import pytest
from kazoo.protocol.states import EventType, KazooState

import zkraw
from conftest import note

pytestmark = pytest.mark.topologies("participants")

NODE_CREATED, NODE_DELETED, NODE_DATA_CHANGED, NODE_CHILDREN_CHANGED = 1, 2, 3, 4
SYNC_CONNECTED = 3


def member_of(ens, kazoo_client):
    host, port = kazoo_client._connection._socket.getpeername()[:2]
    for m in ens:
        if m.host == host and m.client_port == port:
            return m
    raise AssertionError("kazoo is connected to %s:%d, which is no member" % (host, port))


def wait_events(conn, want, got, timeout=20.0):
    """Pings on the raw connection until every (type, path) in `want` is in `got` (events seen so
    far, extended in place)."""
    deadline = time.monotonic() + timeout
    while not all(w in got for w in want):
        if time.monotonic() > deadline:
            raise AssertionError("waited %.0f s for events %s, got %s" % (timeout, want, got))
        _, _, evs = conn.request(zkraw.PING, b"", xid=zkraw.PING_XID)
        got += [(e[0], e[2]) for e in evs]
        time.sleep(0.1)
    return got


def test_kazoo_session_moves_between_members(scenario):
    ens = scenario.ens
    zk = ens.client(auth=False, timeout=20.0)
    states = []
    zk.add_listener(states.append)
    try:
        zk.ensure_path("/sess-move")
        zk.create("/sess-move/eph", b"mine", ephemeral=True)
        first = member_of(ens, zk)
        sid = zk.client_id[0]
        t0 = time.monotonic()
        first.stop()
        deadline = time.monotonic() + 40
        while not (KazooState.SUSPENDED in states and zk.connected and states[-1] == KazooState.CONNECTED):
            assert time.monotonic() < deadline, "kazoo did not reconnect after %s stopped: %s" % (first.name, states)
            time.sleep(0.05)
        second = member_of(ens, zk)
        note("sessions %s: kazoo moved from member %d to %d in %.2f s" % (ens.name, first.sid, second.sid,
                                                                           time.monotonic() - t0))
        assert second is not first
        assert zk.client_id[0] == sid
        assert KazooState.LOST not in states, states
        assert zk.exists("/sess-move/eph").ephemeralOwner == sid
        zk.set("/sess-move/eph", b"still mine")
    finally:
        zk.stop()
        zk.close()
    first.start()
    ens.wait_ready()
    scenario.check_trees()
    scenario.check_logs("kazoo session move")


@pytest.mark.ci
def test_raw_session_and_watches_move_between_members(scenario):
    ens = scenario.ens
    fs = ens.followers()
    a = fs[0]
    b = fs[1] if len(fs) > 1 else ens.leader()
    helper = ens.client(b)
    try:
        helper.ensure_path("/sess-w")
        helper.create("/sess-w/data", b"v1")
        conn = zkraw.Conn(a.client_port, host=a.host, timeout=10)
        resp = conn.connect(timeout_ms=30000)
        sid, passwd = resp["sessionId"], resp["passwd"]
        hdr, _, _ = conn.request(zkraw.GET_DATA, zkraw.W().ustring("/sess-w/data").bool(True).bytes())
        assert hdr["err"] == 0
        hdr, _, _ = conn.request(zkraw.EXISTS, zkraw.W().ustring("/sess-w/later").bool(True).bytes())
        assert hdr["err"] == -101
        hdr, _, _ = conn.request(zkraw.GET_CHILDREN, zkraw.W().ustring("/sess-w").bool(True).bytes())
        assert hdr["err"] == 0
        body = zkraw.W().ustring("/sess-w/eph").buffer(b"e").acls([(31, "world", "anyone")]).int(1).bytes()
        hdr, _, _ = conn.request(zkraw.CREATE, body)
        assert hdr["err"] == 0
        # The create fired the child watch; re-arm it.
        hdr, _, _ = conn.request(zkraw.GET_CHILDREN, zkraw.W().ustring("/sess-w").bool(True).bytes())
        last = conn.last_zxid
        a.stop()
        conn.close_socket()
        helper.set("/sess-w/data", b"changed while the session was away")

        again = zkraw.Conn(b.client_port, host=b.host, timeout=10)
        resp = again.connect(session_id=sid, passwd=passwd, last_zxid=last, timeout_ms=30000)
        assert resp["sessionId"] == sid and resp["timeOut"] > 0, "session not reattached on %s: %s" % (b.name, resp)
        sw = (zkraw.W().long(last).strings(["/sess-w/data"]).strings(["/sess-w/later"]).strings(["/sess-w"]))
        hdr, _, evs = again.request(zkraw.SET_WATCHES, sw.bytes(), xid=-8)
        got = [(e[0], e[2]) for e in evs]
        wait_events(again, [(NODE_DATA_CHANGED, "/sess-w/data")], got)
        helper.create("/sess-w/later", b"")
        wait_events(again, [(NODE_CREATED, "/sess-w/later"), (NODE_CHILDREN_CHANGED, "/sess-w")], got)
        assert got.count((NODE_DATA_CHANGED, "/sess-w/data")) == 1, got
        st = helper.exists("/sess-w/eph")
        assert st is not None and st.ephemeralOwner == sid
        assert again.request(zkraw.CLOSE_SESSION)[0]["err"] == 0
        again.close_socket()
        helper.sync("/")
        assert helper.exists("/sess-w/eph") is None
    finally:
        helper.stop()
        helper.close()
    a.start()
    ens.wait_ready()
    scenario.check_trees()
    scenario.check_logs("raw session and watches move")


@pytest.mark.parametrize("how", [pytest.param("drop-connection", marks=pytest.mark.ci), "kill-member"])
def test_expired_session_ephemerals_removed_by_leader(scenario, how):
    ens = scenario.ens
    f = ens.followers()[0]
    lead = ens.leader()
    watcher_member = [m for m in ens.live() if m is not f][0]
    watcher = ens.client(watcher_member)
    deleted = []
    try:
        watcher.ensure_path("/sess-exp")
        conn = zkraw.Conn(f.client_port, host=f.host, timeout=10)
        resp = conn.connect(timeout_ms=4000)
        sid = resp["sessionId"]
        assert resp["timeOut"] == 4000, resp  # minSessionTimeout = 2 x tickTime
        path = "/sess-exp/eph-%x" % sid
        body = zkraw.W().ustring(path).buffer(b"e").acls([(31, "world", "anyone")]).int(1).bytes()
        assert conn.request(zkraw.CREATE, body)[0]["err"] == 0
        watcher.sync("/")
        assert watcher.exists(path, watch=lambda ev: deleted.append((ev.type, ev.path))) is not None
        if how == "kill-member":
            f.kill()
        conn.close_socket()  # no closeSession: only expiry can remove the ephemeral
        t0 = time.monotonic()
        deadline = t0 + 40
        while watcher.exists(path) is not None:
            assert time.monotonic() < deadline, "ephemeral of expired session 0x%x still there after 40 s" % sid
            time.sleep(0.2)
        took = time.monotonic() - t0
        note("sessions %s: session 0x%x (timeout 4000 ms, %s) expired, ephemeral gone after %.1f s"
             % (ens.name, sid, how, took))
        assert took > 2.0, "expired after %.1f s, before its 4 s timeout could pass" % took
        assert (EventType.DELETED, path) in deleted, deleted
        for m in ens.live():
            c = ens.client(m)
            try:
                c.sync("/")
                assert c.exists(path) is None, m.name
            finally:
                c.stop()
                c.close()
        # The leader expires global sessions (and logs it; ruzk logs the same phrase).
        with open(lead.log_path, errors="replace") as fh:
            assert "Expiring session 0x%x, timeout of 4000ms exceeded" % sid in fh.read(), lead.name
    finally:
        watcher.stop()
        watcher.close()
    if how == "kill-member":
        f.start()
        ens.wait_ready()
    scenario.check_trees()
    scenario.check_logs("session expiry (%s)" % how)


@pytest.mark.parametrize("upgrading", [False, True])
def test_local_sessions(fresh, topology, upgrading):
    """`localSessionsEnabled=true`: a session is local to the member it was opened on (no quorum
    write; `zk_local_sessions` counts it there); its writes through followers still commit; an
    ephemeral create is refused with EPHEMERALONLOCALSESSION unless
    `localSessionsUpgradingEnabled=true`, which makes the session global first, so the ephemeral
    then lives on every member and goes when the session closes."""
    from kazoo.exceptions import EphemeralOnLocalSessionError
    cfg = ["localSessionsEnabled=true", "localSessionsUpgradingEnabled=%s" % ("true" if upgrading else "false")]
    sc = fresh(topology, name="%s-local-%s" % (topology, "up" if upgrading else "noup"), cfg=cfg)
    ens = sc.ens
    lead = ens.leader()
    followers = [m for m in ens.live() if m is not lead]
    clients = [ens.client([m], auth=False) for m in [lead] + followers]
    try:
        for i, c in enumerate(clients):
            c.create("/local-%d" % i, b"by a local session")
        for m, c in zip([lead] + followers, clients):
            mntr = m.flw("mntr")
            assert "zk_local_sessions\t1" in mntr, (m.name, [l for l in mntr.splitlines() if "sessions" in l])
        f = clients[1]
        if upgrading:
            f.create("/local-eph", b"e", ephemeral=True)
            for c in clients:
                c.sync("/")
                assert c.exists("/local-eph") is not None
            mntr = followers[0].flw("mntr")
            assert "zk_local_sessions\t0" in mntr, [l for l in mntr.splitlines() if "sessions" in l]
            f.stop()
            f.close()
            clients[0].sync("/")
            assert clients[0].exists("/local-eph") is None, "the upgraded session's ephemeral outlived it"
        else:
            with pytest.raises(EphemeralOnLocalSessionError):
                f.create("/local-eph", b"e", ephemeral=True)
        note("local sessions %s (upgrading %s): writes from every member commit; ephemeral %s"
             % (topology, upgrading, "after an upgrade" if upgrading else "refused"))
    finally:
        for c in clients:
            try:
                c.stop()
                c.close()
            except Exception:
                pass
    sc.check_trees()


def test_read_only_mode(fresh, topology):
    """`-Dreadonlymode.enabled=true` with `localSessionsEnabled=true`: a member cut off from its
    quorum becomes a read-only server (`isro` says `ro`). As in Java 3.8 it refuses a global
    session's reconnection, and a new read-only client (a local session) reads and gets
    NOTREADONLY for writes; when the quorum is back the member serves normally again and the
    refused global session reconnects and writes."""
    from kazoo.client import KazooClient
    from kazoo.exceptions import NotReadOnlyCallError
    sc = fresh(topology, name="%s-ro" % topology, props=["readonlymode.enabled=true"],
               cfg=["localSessionsEnabled=true", "localSessionsUpgradingEnabled=true"])
    ens = sc.ens
    lead = ens.leader()
    keep = [m for m in ens.live() if m is not lead][0]
    hosts = "%s:%d" % (keep.host, keep.client_port)
    old = KazooClient(hosts=hosts, read_only=True, timeout=10.0)
    old.start(timeout=30)
    ro = None
    try:
        old.create("/ro-node", b"before", ephemeral=False)
        old.create("/ro-eph", b"upgrades the session", ephemeral=True)
        others = [m for m in ens.live() if m is not keep]
        for m in others:
            m.stop()
        deadline = time.monotonic() + 40
        while keep.flw("isro").strip() != "ro":
            assert time.monotonic() < deadline, "%s never became read-only: isro %r" % (keep.name, keep.flw("isro"))
            time.sleep(0.1)
        ro = KazooClient(hosts=hosts, read_only=True, timeout=10.0)
        ro.start(timeout=30)
        assert ro.client_state == "CONNECTED_RO", ro.client_state
        assert ro.get("/ro-node")[0] == b"before"
        with pytest.raises(NotReadOnlyCallError):
            ro.set("/ro-node", b"during")
        time.sleep(2)
        assert old.client_state == "CONNECTING", "a global session got back in read-only mode: %s" % old.client_state
        for m in others:
            m.start()
        ens.wait_ready(step="quorum back after read-only")
        deadline = time.monotonic() + 60
        while old.client_state != "CONNECTED":
            assert time.monotonic() < deadline, "the global session never reconnected: %s" % old.client_state
            time.sleep(0.2)
        old.set("/ro-node", b"after")
        note("read-only mode %s: %s served a read-only session, refused writes and the global session, then rejoined"
             % (topology, keep.name))
    finally:
        for c in (ro, old):
            if c is not None:
                c.stop()
                c.close()
    sc.check_trees()
