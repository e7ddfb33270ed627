"""Wire details clients and ensemble peers rely on: session id layout, the password derived from
the session id with java.util.Random, zxids consumed by failed writes, stale lastZxidSeen."""

import threading

import zkproto as zp
from conftest import SERVER_ID, new_client


def java_random_bytes(seed, n):
    """java.util.Random(seed).nextBytes(n)."""
    mask = (1 << 48) - 1
    s = (seed ^ 0x5DEECE66D) & mask
    out = bytearray()
    while len(out) < n:
        s = (s * 0x5DEECE66D + 0xB) & mask
        r = s >> 16
        if r >= 1 << 31:
            r -= 1 << 32
        for _ in range(4):
            if len(out) == n:
                break
            out.append(r & 0xFF)
            r >>= 8
    return bytes(out)


def expected_passwd(session_id):
    return java_random_bytes(session_id ^ 0xB3415C00, 16)


def test_password_vectors():
    # protocol.md test vectors, so the check below is itself checked
    assert expected_passwd(0x0100000000000000).hex() == "f22acd4a97e69d6d20a49bb638eadb38"
    assert expected_passwd(0x1000001A2B3C0000).hex() == "065cdb381bc43020548dd85f5ced3f15"


def test_session_id_and_password():
    with zp.session() as c:
        sid = c.session_id
        assert sid >> 56 == SERVER_ID  # the creating server's id (1 on a standalone)
        assert c.passwd == expected_passwd(sid)
        with zp.session() as d:
            assert d.session_id > sid  # ids count up
            assert d.passwd == expected_passwd(d.session_id)
            d.call(zp.CLOSE_SESSION)
        c.call(zp.CLOSE_SESSION)


def test_failed_write_consumes_a_zxid(root):
    with zp.session() as c:
        before = c.call(zp.EXISTS, zp.path_watch(root)).zxid
        failed = c.call(zp.CREATE, zp.create_req(root))  # exists already
        assert failed.err == -110
        assert failed.zxid > before
        assert c.call(zp.EXISTS, zp.path_watch(root)).zxid >= failed.zxid
        nonode = c.call(zp.DELETE, zp.ustring(root + "/none") + zp.i32(-1))
        assert nonode.err == -101 and nonode.zxid > failed.zxid


def test_connect_with_future_zxid_is_refused():
    with zp.RawClient() as c:
        req = zp.i32(0) + zp.i64(0x7FFFFFFFFFFF) + zp.i32(30000) + zp.i64(0) + zp.buffer(b"\x00" * 16) + b"\x00"
        c.send_frame(req)
        c.sock.settimeout(10)
        data = b""
        try:
            while True:
                chunk = c.sock.recv(4096)
                if not chunk:
                    break
                data += chunk
        except ConnectionResetError:
            pass
        assert data == b""  # closed without a ConnectResponse


def test_top_level_node_fires_child_watch_on_root(root):
    zk = new_client()
    try:
        got = []
        ev = threading.Event()

        def w(e):
            got.append((e.type, e.path))
            ev.set()

        zk.get_children("/", watch=w)
        zk.create(root + "-sibling", b"")
        assert ev.wait(15)
        assert got == [("CHILD", "/")]
        zk.delete(root + "-sibling")
    finally:
        zk.stop()
        zk.close()
