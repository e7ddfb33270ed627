"""kazoo 2.11 driving every client operation; each assertion was first checked against Java 3.8.0."""

import time

import pytest
from kazoo.exceptions import (
    BadArgumentsError,
    BadVersionError,
    NoAuthError,
    NoChildrenForEphemeralsError,
    NodeExistsError,
    NoNodeError,
    NotEmptyError,
    RolledBackError,
    RuntimeInconsistency,
)
from kazoo.protocol.serialization import Create
from kazoo.security import ACL, ANYONE_ID_UNSAFE, OPEN_ACL_UNSAFE, READ_ACL_UNSAFE, Permissions

import kazoo_ext as ext
from conftest import EXPECTED_CONFIG, new_client, wait_until


def seq_suffix(path):
    return int(path[-10:])


def test_create_persistent_and_create2_stat(zk, root):
    path = zk.create(root + "/p", b"hello")
    assert path == root + "/p"
    data, stat = zk.get(path)
    assert data == b"hello"
    assert stat.version == 0 and stat.cversion == 0 and stat.aversion == 0
    assert stat.dataLength == 5 and stat.numChildren == 0 and stat.ephemeralOwner == 0
    assert stat.czxid == stat.mzxid == stat.pzxid
    assert stat.ctime == stat.mtime

    path2, stat2 = zk.create(root + "/p2", b"xyz", include_data=True)
    assert path2 == root + "/p2"
    assert stat2.czxid == stat2.mzxid == stat2.pzxid
    assert stat2.czxid > stat.czxid
    assert stat2.dataLength == 3 and stat2.version == 0 and stat2.numChildren == 0
    assert zk.exists(path2) == stat2

    with pytest.raises(NodeExistsError):
        zk.create(root + "/p")
    with pytest.raises(NoNodeError):
        zk.create(root + "/missing/child")
    parent = zk.exists(root)
    assert parent.numChildren == 2
    assert parent.cversion == 2
    assert parent.pzxid == stat2.czxid


def test_create_makepath(zk, root):
    zk.create(root + "/a/b/c", b"deep", makepath=True)
    assert zk.get(root + "/a/b/c")[0] == b"deep"
    assert zk.get(root + "/a")[0] == b""


def test_create_ephemeral(zk, root):
    path, stat = zk.create(root + "/e", b"x", ephemeral=True, include_data=True)
    assert stat.ephemeralOwner == zk.client_id[0]
    with pytest.raises(NoChildrenForEphemeralsError):
        zk.create(path + "/child")


def test_sequential_naming_counts_all_creates(zk, root):
    names = [zk.create(root + "/s-", b"", sequence=True) for _ in range(3)]
    assert [seq_suffix(n) for n in names] == [0, 1, 2]
    assert all(len(n) == len(root) + len("/s-") + 10 for n in names)
    e = zk.create(root + "/e-", b"", sequence=True, ephemeral=True)
    assert seq_suffix(e) == 3
    zk.delete(names[0])
    zk.delete(names[1])
    # deletes do not lower the counter
    assert seq_suffix(zk.create(root + "/s-", sequence=True)) == 4
    stat = zk.exists(root)
    assert stat.numChildren == 3
    assert stat.cversion == 7  # 5 creates + 2 deletes


def test_container_reaped_after_last_child_goes(zk, root):
    cpath, cstat = ext.call(zk, ext.CreateContainer(root + "/c", b"cont", OPEN_ACL_UNSAFE))
    assert cpath == root + "/c"
    assert cstat.ephemeralOwner == 0
    never_used, _ = ext.call(zk, ext.CreateContainer(root + "/never", b"", OPEN_ACL_UNSAFE))
    zk.create(root + "/c/child", b"")
    zk.delete(root + "/c/child")
    wait_until(lambda: zk.exists(root + "/c") is None, timeout=30, what="container reaping")
    # a container that never had a child is not reaped
    assert zk.exists(never_used) is not None
    # a container node with a live child stays
    ext.call(zk, ext.CreateContainer(root + "/c2", b"", OPEN_ACL_UNSAFE))
    zk.create(root + "/c2/keep", b"")
    time.sleep(2.5)
    assert zk.exists(root + "/c2") is not None


def test_ttl_nodes(zk, root):
    path, stat = ext.call(zk, ext.CreateTTL(root + "/ttl", b"t", OPEN_ACL_UNSAFE, 5, 500))
    assert path == root + "/ttl"
    assert stat.ephemeralOwner == 0
    spath, _ = ext.call(zk, ext.CreateTTL(root + "/tseq-", b"", OPEN_ACL_UNSAFE, 6, 60000))
    assert spath == root + "/tseq-0000000001"
    # a long TTL node with a child must survive the reaper
    ext.call(zk, ext.CreateTTL(root + "/long", b"", OPEN_ACL_UNSAFE, 5, 3600000))
    wait_until(lambda: zk.exists(root + "/ttl") is None, timeout=30, what="TTL expiry")
    assert zk.exists(spath) is not None
    assert zk.exists(root + "/long") is not None
    with pytest.raises(BadArgumentsError):
        ext.call(zk, ext.CreateTTL(root + "/bad0", b"", OPEN_ACL_UNSAFE, 5, 0))
    with pytest.raises(BadArgumentsError):
        ext.call(zk, ext.CreateTTL(root + "/bad1", b"", OPEN_ACL_UNSAFE, 0, 1000))
    with pytest.raises(BadArgumentsError):
        ext.call(zk, Create(root + "/bad2", b"", OPEN_ACL_UNSAFE, 5))
    assert sorted(zk.get_children(root)) == ["long", "tseq-0000000001"]


def test_delete_with_versions(zk, root):
    zk.create(root + "/d", b"")
    zk.set(root + "/d", b"1")
    with pytest.raises(BadVersionError):
        zk.delete(root + "/d", version=0)
    zk.delete(root + "/d", version=1)
    assert zk.exists(root + "/d") is None
    with pytest.raises(NoNodeError):
        zk.delete(root + "/d")
    zk.create(root + "/n/child", makepath=True)
    with pytest.raises(NotEmptyError):
        zk.delete(root + "/n")
    stat = zk.exists(root)
    assert stat.numChildren == 1
    assert stat.cversion == 3  # d created, d deleted, n created


def test_exists(zk, root):
    assert zk.exists(root + "/nope") is None
    zk.create(root + "/x", b"abc")
    st = zk.exists(root + "/x")
    assert st.dataLength == 3 and st.version == 0


def test_get_set_versions(zk, root):
    zk.create(root + "/v", b"a")
    _, st0 = zk.get(root + "/v")
    st1 = zk.set(root + "/v", b"bb", version=0)
    assert st1.version == 1 and st1.dataLength == 2
    assert st1.mzxid > st0.mzxid and st1.czxid == st0.czxid
    assert st1.mtime >= st0.mtime and st1.ctime == st0.ctime
    with pytest.raises(BadVersionError):
        zk.set(root + "/v", b"c", version=0)
    st2 = zk.set(root + "/v", b"ccc", version=-1)
    assert st2.version == 2
    data, st3 = zk.get(root + "/v")
    assert data == b"ccc" and st3 == st2
    with pytest.raises(NoNodeError):
        zk.get(root + "/none")
    with pytest.raises(NoNodeError):
        zk.set(root + "/none", b"")


def test_large_data(zk, root):
    blob = bytes(range(256)) * 4000  # 1,024,000 bytes, under jute.maxbuffer (1 MiB + slack)
    zk.create(root + "/big", blob)
    assert zk.get(root + "/big")[0] == blob


def test_empty_data(zk, root):
    zk.create(root + "/empty", b"")
    data, st = zk.get(root + "/empty")
    assert data == b"" and st.dataLength == 0


def test_get_set_acls(zk, root):
    zk.create(root + "/acl", b"")
    acls, st = zk.get_acls(root + "/acl")
    assert list(acls) == OPEN_ACL_UNSAFE
    assert st.aversion == 0
    read_admin = [ACL(Permissions.READ | Permissions.ADMIN, ANYONE_ID_UNSAFE)]
    st1 = zk.set_acls(root + "/acl", read_admin, version=0)
    assert st1.aversion == 1 and st1.version == 0
    assert st1.mzxid == st.mzxid  # setACL does not touch mzxid
    with pytest.raises(BadVersionError):
        zk.set_acls(root + "/acl", OPEN_ACL_UNSAFE, version=0)
    acls, st2 = zk.get_acls(root + "/acl")
    assert list(acls) == read_admin and st2.aversion == 1
    with pytest.raises(NoAuthError):  # no WRITE any more
        zk.set(root + "/acl", b"x")


def test_get_children(zk, root):
    for name in ["b", "a", "c"]:
        zk.create(root + "/" + name, b"")
    assert sorted(zk.get_children(root)) == ["a", "b", "c"]
    kids, st = zk.get_children(root, include_data=True)
    assert sorted(kids) == ["a", "b", "c"]
    assert st.numChildren == 3 and st.cversion == 3
    assert zk.get_children(root + "/a") == []
    with pytest.raises(NoNodeError):
        zk.get_children(root + "/zz")


def test_get_all_children_number(zk, root):
    zk.create(root + "/a/b/c", makepath=True)
    zk.create(root + "/a/d")
    zk.create(root + "/e")
    assert ext.call(zk, ext.GetAllChildrenNumber(root)) == 5
    assert ext.call(zk, ext.GetAllChildrenNumber(root + "/a")) == 3
    assert ext.call(zk, ext.GetAllChildrenNumber(root + "/e")) == 0
    with pytest.raises(NoNodeError):
        ext.call(zk, ext.GetAllChildrenNumber(root + "/none"))


def test_get_ephemerals(zk, root):
    other = new_client()
    try:
        zk.create(root + "/x/e1", ephemeral=True, makepath=True)
        zk.create(root + "/y-e2", ephemeral=True)
        other.create(root + "/other", ephemeral=True)
        mine = ext.call(zk, ext.GetEphemerals(root))
        assert sorted(mine) == sorted([root + "/x/e1", root + "/y-e2"])
        assert ext.call(zk, ext.GetEphemerals(root + "/x")) == [root + "/x/e1"]
        assert ext.call(zk, ext.GetEphemerals(root + "/nothing-here")) == []
        assert root + "/other" in ext.call(other, ext.GetEphemerals("/"))
        assert root + "/x/e1" in ext.call(zk, ext.GetEphemerals("/"))
    finally:
        other.stop()
        other.close()


def test_sync(zk, root):
    assert zk.sync(root) == root


def test_transaction_success(zk, root):
    zk.create(root + "/old", b"o")
    t = zk.transaction()
    t.create(root + "/t1", b"one")
    t.set_data(root + "/old", b"new", version=0)
    t.check(root + "/old", 1)
    t.create(root + "/t1/c", b"")
    t.delete(root + "/t1/c")
    results = t.commit()
    assert results[0] == root + "/t1"
    assert results[1].version == 1 and results[1].dataLength == 3
    assert results[2] is True and results[3] == root + "/t1/c" and results[4] is True
    assert zk.get(root + "/old")[0] == b"new"
    assert zk.get(root + "/t1")[0] == b"one"
    assert zk.exists(root + "/t1/c") is None
    # one zxid for the whole multi
    assert zk.exists(root + "/t1").czxid == results[1].mzxid


def test_transaction_midway_failure(zk, root):
    zk.create(root + "/k", b"k")
    before = zk.exists(root)
    t = zk.transaction()
    t.create(root + "/new", b"")
    t.check(root + "/k", 5)
    t.set_data(root + "/k", b"changed")
    results = t.commit()
    assert len(results) == 3
    assert isinstance(results[0], RolledBackError)
    assert isinstance(results[1], BadVersionError)
    assert isinstance(results[2], RuntimeInconsistency)
    assert zk.exists(root + "/new") is None
    assert zk.get(root + "/k")[0] == b"k"
    after = zk.exists(root)
    assert after.cversion == before.cversion and after.numChildren == before.numChildren

    t = zk.transaction()
    t.delete(root + "/k")
    t.create(root + "/k/under-deleted", b"")
    results = t.commit()
    assert isinstance(results[0], RolledBackError)
    assert isinstance(results[1], NoNodeError)
    assert zk.exists(root + "/k") is not None


def test_null_vs_empty_data(zk, root):
    # kazoo sends b"" as a zero-length buffer; a null (-1) buffer needs a raw record
    ext.call(zk, Create(root + "/null", None, OPEN_ACL_UNSAFE, 0))
    zk.create(root + "/empty", b"")
    data_null, st_null = zk.get(root + "/null")
    data_empty, st_empty = zk.get(root + "/empty")
    assert data_null is None
    assert data_empty == b""
    assert st_null.dataLength == 0 and st_empty.dataLength == 0


def test_special_nodes(zk):
    data, st = zk.get("/zookeeper/config")
    assert data == EXPECTED_CONFIG.encode()  # empty on a standalone server, the QV string in an ensemble
    acls, _ = zk.get_acls("/zookeeper/config")
    assert list(acls) == READ_ACL_UNSAFE
    assert "config" in zk.get_children("/zookeeper") and "quota" in zk.get_children("/zookeeper")
    with pytest.raises(BadArgumentsError):
        zk.delete("/zookeeper")
    with pytest.raises(BadArgumentsError):
        zk.delete("/zookeeper/config")
    with pytest.raises(BadArgumentsError):
        zk.delete("/zookeeper/quota")
    with pytest.raises(BadArgumentsError):
        zk.delete("/")
