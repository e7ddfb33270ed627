"""Server restarts (graceful and kill -9) through $ZK_RESTART from run.sh: acknowledged writes,
stats, ACLs and sequence counters survive; sessions reattach with id and password and keep their
ephemerals; kazoo rides through the restart on the same session."""

import os
import subprocess
import time

import pytest
from kazoo.security import ACL, Id, Permissions

import zkproto as zp
from conftest import new_client, wait_until

RESTART = os.environ.get("ZK_RESTART")


def restart(signal="TERM"):
    if not RESTART:
        pytest.fail("ZK_RESTART not set: run through compat-tests/run.sh")
    proc = subprocess.run([RESTART, signal], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


def snapshot_state(zk, root):
    out = {}
    for name in sorted(zk.get_children(root)):
        data, st = zk.get(f"{root}/{name}")
        acl, _ = zk.get_acls(f"{root}/{name}")
        out[name] = (data, st, [(a.perms, a.id.scheme, a.id.id) for a in acl])
    return out


@pytest.mark.parametrize("signal", ["TERM", "KILL"])
def test_state_survives_restart(zk_super, root, signal):
    zk = zk_super
    zk.create(root + "/plain", b"p")
    zk.set(root + "/plain", b"p2")
    zk.create(root + "/empty", b"")
    for _ in range(3):
        zk.create(root + "/s-", b"", sequence=True)
    zk.delete(root + "/s-0000000003")
    zk.create(root + "/acl", b"a", acl=[ACL(Permissions.READ | Permissions.ADMIN, Id("world", "anyone"))])
    t = zk.transaction()
    t.create(root + "/m1", b"1")
    t.create(root + "/m2", b"2")
    t.commit()
    before = snapshot_state(zk, root)
    root_stat = zk.exists(root)
    last = zk.exists(root + "/m2").mzxid

    raw = zp.RawClient().connect(session_timeout=30000)
    sid, pw = raw.session_id, raw.passwd
    assert raw.call(zp.CREATE, zp.create_req(root + "/eph", flags=1)).err == 0
    raw.close()

    restart(signal)

    c = new_client()
    try:
        after = snapshot_state(c, root)
        # the raw session's ephemeral is there too (the session was restored)
        eph_data, eph_stat, _ = after.pop("eph")
        assert eph_stat.ephemeralOwner == sid
        assert after == before
        assert c.exists(root) == zk.exists(root)
        assert c.exists(root).cversion == root_stat.cversion + 1  # + the ephemeral
        # counters and zxids continue
        assert c.create(root + "/s-", sequence=True) == root + "/s-0000000009"
        assert c.exists(root + "/s-0000000009").czxid > last
        # the session reattaches with its id and password and still owns its ephemeral
        again = zp.RawClient().connect(session_timeout=30000, session_id=sid, passwd=pw)
        assert again.session_id == sid and again.negotiated_timeout == 30000
        assert again.call(zp.DELETE, zp.ustring(root + "/eph") + zp.i32(-1)).err == 0
        assert again.call(zp.CLOSE_SESSION).err == 0
        again.close()
    finally:
        c.stop()
        c.close()


def test_restored_session_expires_and_takes_its_ephemerals(root):
    raw = zp.RawClient().connect(session_timeout=6000)
    assert raw.negotiated_timeout == 6000
    assert raw.call(zp.CREATE, zp.create_req(root + "/orphan", flags=1)).err == 0
    raw.close()
    restart("KILL")
    started = time.monotonic()
    c = new_client()
    try:
        assert c.exists(root + "/orphan") is not None
        wait_until(lambda: c.exists(root + "/orphan") is None, timeout=40, what="restored session expiry")
        # it gets a fresh timeout from server start, so not gone instantly
        assert time.monotonic() - started > 2.0
    finally:
        c.stop()
        c.close()


def test_kazoo_rides_through_restart(root):
    zk = new_client()
    try:
        states = []
        zk.add_listener(lambda s: states.append(s))
        sid = zk.client_id
        zk.create(root + "/mine", b"", ephemeral=True)
        restart("TERM")
        wait_until(lambda: "SUSPENDED" in states and zk.connected and states[-1] == "CONNECTED", timeout=60,
                   what="kazoo reconnect")
        assert zk.client_id == sid
        assert "LOST" not in states
        assert zk.exists(root + "/mine").ephemeralOwner == sid[0]
        zk.set(root, b"after restart")
        assert zk.get(root)[0] == b"after restart"
    finally:
        zk.stop()
        zk.close()
