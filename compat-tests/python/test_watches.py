"""Watches: one-shot data/exists/child watches through kazoo, persistent and persistent-recursive
watches, removeWatches/checkWatches and setWatches through the raw wire client (kazoo 2.11 lacks
them), and watch restore when kazoo reconnects."""

import socket
import threading
import time

import pytest

import zkproto as zp
from conftest import new_client, wait_until


class Events:
    def __init__(self):
        self.lock = threading.Lock()
        self.items = []

    def __call__(self, ev):
        with self.lock:
            self.items.append((ev.type, ev.path))

    def wait(self, n, timeout=15):
        wait_until(lambda: len(self.items) >= n, timeout=timeout, what=f"{n} events, have {self.items}")
        return list(self.items)


def settle():
    # Gives a wrongly sent extra event time to show up before asserting the exact list.
    time.sleep(0.5)


def test_data_watch_is_one_shot(zk, root):
    zk.create(root + "/w", b"0")
    ev = Events()
    zk.get(root + "/w", watch=ev)
    zk.set(root + "/w", b"1")
    zk.set(root + "/w", b"2")
    ev.wait(1)
    settle()
    assert ev.items == [("CHANGED", root + "/w")]


def test_exists_watch_on_missing_node_fires_created(zk, root):
    ev = Events()
    assert zk.exists(root + "/later", watch=ev) is None
    zk.create(root + "/later", b"")
    ev.wait(1)
    ev2 = Events()
    zk.exists(root + "/later", watch=ev2)
    zk.delete(root + "/later")
    ev2.wait(1)
    settle()
    assert ev.items == [("CREATED", root + "/later")]
    assert ev2.items == [("DELETED", root + "/later")]


def test_child_watch(zk, root):
    ev = Events()
    assert zk.get_children(root, watch=ev) == []
    zk.create(root + "/c1", b"")
    ev.wait(1)
    ev2 = Events()
    zk.get_children(root, watch=ev2)
    zk.set(root + "/c1", b"data change is not a child change")
    zk.delete(root + "/c1")
    ev2.wait(1)
    settle()
    assert ev.items == [("CHILD", root)]
    assert ev2.items == [("CHILD", root)]


def test_delete_fires_data_and_child_watchers(zk, root):
    zk.create(root + "/n", b"")
    data_ev, child_ev, parent_ev = Events(), Events(), Events()
    zk.get(root + "/n", watch=data_ev)
    zk.get_children(root + "/n", watch=child_ev)
    zk.get_children(root, watch=parent_ev)
    zk.delete(root + "/n")
    data_ev.wait(1)
    child_ev.wait(1)
    parent_ev.wait(1)
    settle()
    assert data_ev.items == [("DELETED", root + "/n")]
    assert child_ev.items == [("DELETED", root + "/n")]
    assert parent_ev.items == [("CHILD", root)]


def test_watch_from_other_client(zk, root):
    other = new_client()
    try:
        zk.create(root + "/shared", b"")
        ev = Events()
        zk.get(root + "/shared", watch=ev)
        other.set(root + "/shared", b"by other")
        assert ev.wait(1) == [("CHANGED", root + "/shared")]
    finally:
        other.stop()
        other.close()


def test_notification_precedes_reply_on_same_connection(root):
    with zp.session() as c:
        assert c.call(zp.GET_DATA, zp.path_watch(root, True)).err == 0
        rep = c.call(zp.SET_DATA, zp.ustring(root) + zp.buffer(b"v") + zp.i32(-1))
        assert rep.err == 0
        # the event was read off the socket before the setData reply
        assert c.events == [(zp.NODE_DATA_CHANGED, 3, root)]


def test_notification_wire_format(root):
    with zp.session() as c:
        c.call(zp.EXISTS, zp.path_watch(root + "/z", True))
        c.send_request(zp.CREATE, zp.create_req(root + "/z"))
        frame = c.read_frame()
        # xid -1, zxid -1 (3.8), err 0, then WatcherEvent{type 1, state 3, path}
        assert frame == zp.i32(-1) + zp.i64(-1) + zp.i32(0) + zp.i32(1) + zp.i32(3) + zp.ustring(root + "/z")
        rep = c.read_reply()
        assert rep.err == 0 and rep.reader().ustring() == root + "/z"


def add_watch(c, path, mode):
    rep = c.call(zp.ADD_WATCH, zp.ustring(path) + zp.i32(mode))
    assert rep.err == 0
    assert rep.body == zp.i32(0)  # ErrorResponse{0}


def test_persistent_watch(root):
    p = root + "/pw"
    with zp.session() as c, zp.session() as w:
        add_watch(w, p, 0)
        c.call(zp.CREATE, zp.create_req(p, b""))
        c.call(zp.SET_DATA, zp.ustring(p) + zp.buffer(b"1") + zp.i32(-1))
        c.call(zp.CREATE, zp.create_req(p + "/kid", b""))
        c.call(zp.SET_DATA, zp.ustring(p + "/kid") + zp.buffer(b"x") + zp.i32(-1))  # not watched
        c.call(zp.DELETE, zp.ustring(p + "/kid") + zp.i32(-1))
        c.call(zp.SET_DATA, zp.ustring(p) + zp.buffer(b"2") + zp.i32(-1))  # still armed
        c.call(zp.DELETE, zp.ustring(p) + zp.i32(-1))
        c.call(zp.CREATE, zp.create_req(p, b""))
        w.wait_events(7)
        settle()
        w.wait_events(99, timeout=0.3)
        assert w.events == [
            (zp.NODE_CREATED, 3, p),
            (zp.NODE_DATA_CHANGED, 3, p),
            (zp.NODE_CHILDREN_CHANGED, 3, p),
            (zp.NODE_CHILDREN_CHANGED, 3, p),
            (zp.NODE_DATA_CHANGED, 3, p),
            (zp.NODE_DELETED, 3, p),
            (zp.NODE_CREATED, 3, p),
        ]


def test_persistent_recursive_watch(root):
    p = root + "/rw"
    with zp.session() as c, zp.session() as w:
        c.call(zp.CREATE, zp.create_req(p, b""))
        add_watch(w, p, 1)
        c.call(zp.CREATE, zp.create_req(p + "/a", b""))
        c.call(zp.CREATE, zp.create_req(p + "/a/b", b""))
        c.call(zp.SET_DATA, zp.ustring(p + "/a/b") + zp.buffer(b"1") + zp.i32(-1))
        c.call(zp.CREATE, zp.create_req(root + "/rw-sibling", b""))  # outside: no event
        c.call(zp.DELETE, zp.ustring(p + "/a/b") + zp.i32(-1))
        c.call(zp.SET_DATA, zp.ustring(p) + zp.buffer(b"top") + zp.i32(-1))
        w.wait_events(5)
        settle()
        w.wait_events(99, timeout=0.3)
        assert w.events == [
            (zp.NODE_CREATED, 3, p + "/a"),
            (zp.NODE_CREATED, 3, p + "/a/b"),
            (zp.NODE_DATA_CHANGED, 3, p + "/a/b"),
            (zp.NODE_DELETED, 3, p + "/a/b"),
            (zp.NODE_DATA_CHANGED, 3, p),
        ]


def test_remove_and_check_watches(root):
    with zp.session() as c:
        c.call(zp.GET_DATA, zp.path_watch(root, True))
        # checkWatches(17) data: present -> ok, leaves it in place
        assert c.call(zp.CHECK_WATCHES, zp.ustring(root) + zp.i32(2)).err == 0
        # no child watch on root yet
        assert c.call(zp.CHECK_WATCHES, zp.ustring(root) + zp.i32(1)).err == -121
        assert c.call(zp.REMOVE_WATCHES, zp.ustring(root) + zp.i32(1)).err == -121
        # removeWatches(18) data: removes it; a second removal finds nothing
        assert c.call(zp.REMOVE_WATCHES, zp.ustring(root) + zp.i32(2)).err == 0
        assert c.call(zp.REMOVE_WATCHES, zp.ustring(root) + zp.i32(2)).err == -121
        c.call(zp.SET_DATA, zp.ustring(root) + zp.buffer(b"x") + zp.i32(-1))
        c.call(zp.GET_CHILDREN, zp.path_watch(root, True))
        assert c.call(zp.REMOVE_WATCHES, zp.ustring(root) + zp.i32(3)).err == 0
        c.call(zp.CREATE, zp.create_req(root + "/k"))
        c.wait_events(1, timeout=1.0)
        assert c.events == []  # removed watches never fire
        assert c.call(zp.REMOVE_WATCHES, zp.ustring(root + "/none") + zp.i32(3)).err == -121


def test_set_watches_restores_and_fires_missed_events(zk, root):
    zk.create(root + "/d", b"")
    zk.create(root + "/unchanged", b"")
    zk.create(root + "/kids")
    rel = zk.exists(root + "/unchanged").mzxid
    zk.set(root + "/d", b"changed after rel")
    zk.create(root + "/kids/k")
    zk.create(root + "/exists-now")
    with zp.session() as c:
        body = (
            zp.i64(rel)
            + zp.str_vec([root + "/d", root + "/unchanged", root + "/gone"])
            + zp.str_vec([root + "/exists-now", root + "/not-yet"])
            + zp.str_vec([root + "/kids"])
        )
        rep = c.call(zp.SET_WATCHES, body)
        assert rep.err == 0
        c.wait_events(4)
        immediate = sorted(c.events)
        assert immediate == sorted(
            [
                (zp.NODE_DATA_CHANGED, 3, root + "/d"),
                (zp.NODE_DELETED, 3, root + "/gone"),
                (zp.NODE_CREATED, 3, root + "/exists-now"),
                (zp.NODE_CHILDREN_CHANGED, 3, root + "/kids"),
            ]
        )
        c.events.clear()
        # the ones that did not fire were registered
        zk.set(root + "/unchanged", b"now")
        zk.create(root + "/not-yet")
        c.wait_events(2)
        settle()
        c.wait_events(99, timeout=0.3)
        assert sorted(c.events) == sorted(
            [(zp.NODE_DATA_CHANGED, 3, root + "/unchanged"), (zp.NODE_CREATED, 3, root + "/not-yet")]
        )


def break_socket(client):
    client._connection._socket.shutdown(socket.SHUT_RDWR)


def test_kazoo_reconnect_keeps_session(root):
    # kazoo 2.11 does not re-register watches after a reconnect (it sends no setWatches and fires
    # a NONE event to every watcher); watch restore is covered by the raw setWatches test above
    # and by the Java client program (JavaClientCheck "watchRestore").
    zk = new_client()
    other = new_client()
    try:
        states = []
        zk.add_listener(lambda s: states.append(s))
        sid = zk.client_id
        zk.create(root + "/eph", ephemeral=True)
        zk.create(root + "/data", b"")
        old_ev = Events()
        zk.get(root + "/data", watch=old_ev)
        break_socket(zk)
        wait_until(lambda: "SUSPENDED" in states, what="SUSPENDED state")
        other.set(root + "/data", b"while down")
        wait_until(lambda: zk.connected and states[-1] == "CONNECTED", what="reconnect")
        assert zk.client_id == sid
        assert "LOST" not in states
        assert zk.exists(root + "/eph").ephemeralOwner == sid[0]
        assert zk.get(root + "/data")[0] == b"while down"
        ev = Events()
        zk.get(root + "/data", watch=ev)
        other.set(root + "/data", b"after")
        assert ev.wait(1) == [("CHANGED", root + "/data")]
    finally:
        zk.stop()
        zk.close()
        other.stop()
        other.close()
