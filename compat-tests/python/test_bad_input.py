"""Malformed and abusive input over raw sockets. Expected answers are Java 3.8.0's (protocol.md
Addendum). The autouse fixture in conftest.py checks after every case that a fresh client works."""

import resource
import socket
import struct
import threading
import time

import pytest

import zkproto as zp
from conftest import new_client


def test_truncated_connect_request_waits_for_the_rest():
    with zp.RawClient() as c:
        req = zp.i32(0) + zp.i64(0) + zp.i32(30000) + zp.i64(0) + zp.buffer(b"\x00" * 16) + b"\x00"
        frame = zp.i32(len(req)) + req
        c.send_bytes(frame[:20])
        assert not c.is_closed(timeout=1.0)
        c.send_bytes(frame[20:])
        r = zp.Reader(c.read_frame())
        assert r.i32() == 0 and r.i32() == 30000 and r.i64() != 0
        assert c.call(zp.EXISTS, zp.path_watch("/")).err == 0


def test_truncated_request_frame_then_disconnect(root):
    with zp.session() as c:
        body = zp.i32(1) + zp.i32(zp.CREATE) + zp.create_req(root + "/half")
        c.send_bytes(zp.i32(len(body)) + body[:10])
        assert not c.is_closed(timeout=1.0)  # waits for the rest
    with zp.session() as d:
        assert d.call(zp.EXISTS, zp.path_watch(root + "/half")).err == -101


def test_request_split_across_many_writes(root):
    with zp.session() as c:
        body = zp.i32(7) + zp.i32(zp.CREATE) + zp.create_req(root + "/slow", b"drip")
        raw = zp.i32(len(body)) + body
        for i in range(len(raw)):
            c.send_bytes(raw[i : i + 1])
            time.sleep(0.002)
        rep = c.read_reply()
        assert (rep.xid, rep.err) == (7, 0)
        assert rep.reader().ustring() == root + "/slow"


def test_unknown_opcode_gets_unimplemented_then_close():
    with zp.session() as c:
        rep = c.call(999, b"")
        assert rep.err == -6 and rep.body == b""
        assert c.is_closed()


def test_undecodable_body_marshalling_error_connection_stays(root):
    with zp.session() as c:
        rep = c.call(zp.CREATE, b"\x00\x00")
        assert rep.err == -5
        rep = c.call(zp.SET_DATA, zp.ustring(root) + b"\x7f\xff\xff\xff")  # buffer length past the end
        assert rep.err == -5
        rep = c.call(zp.GET_DATA, zp.ustring(root))  # missing the watch byte
        assert rep.err == -5
        rep = c.call(zp.CREATE, zp.create_req(root + "/after-garbage", b"ok"))
        assert rep.err == 0 and rep.reader().ustring() == root + "/after-garbage"


@pytest.mark.parametrize(
    "length",
    [-1, -100, 0x7FFFFFFF, 1024 * 1024 * 1024, 2 * 1024 * 1024],
    ids=["minus1", "minus100", "intmax", "1GiB", "2MiB"],
)
def test_bad_frame_length_closes_without_reply(length):
    with zp.session() as c:
        c.send_bytes(struct.pack("!i", length) + b"\x00" * 16)
        data = b""
        c.sock.settimeout(5)
        try:
            while True:
                chunk = c.sock.recv(4096)
                if not chunk:
                    break
                data += chunk
        except (ConnectionResetError, socket.timeout):
            pass
        assert data == b"", f"expected no reply, got {data!r}"
        assert c.is_closed(timeout=0.5)


def test_full_frame_over_jute_maxbuffer_closes(root):
    with zp.session() as c:
        body = zp.i32(1) + zp.i32(zp.SET_DATA) + zp.ustring(root) + zp.buffer(b"x" * (1100 * 1024)) + zp.i32(-1)
        try:
            c.send_frame(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may close before reading it all
        assert c.is_closed(timeout=10)
    with zp.session() as d:
        rep = d.call(zp.GET_DATA, zp.path_watch(root))
        assert rep.err == 0 and rep.reader().buffer() in (None, b"")


def test_bad_length_before_connect_closes():
    with zp.RawClient() as c:
        c.send_bytes(struct.pack("!i", -5) + b"\x00" * 8)
        assert c.is_closed()


def test_random_garbage_after_connect_closes():
    with zp.session() as c:
        c.send_bytes(b"\xde\xad\xbe\xef" * 16)
        assert c.is_closed()


def test_frame_shorter_than_request_header():
    with zp.session() as c:
        c.send_frame(b"\x00\x00\x00\x01\x00")  # 5 bytes: no full RequestHeader
        assert c.is_closed()


@pytest.mark.parametrize(
    "path,parent_exists,expected",
    [
        ("", False, -8),
        ("/nul\x00byte", False, -8),
        ("a/b", False, -101),
        ("/missing//b", False, -101),
        ("/missing/", False, -101),
        ("/missing/./b", False, -101),
        ("{root}/", True, -8),
        ("{root}/.", True, -8),
        ("{root}/..", True, -8),
        ("{root}//x", True, -101),  # parent "{root}/" does not exist
        ("{root}/ok\x01", True, -8),
    ],
)
def test_create_invalid_paths(root, path, parent_exists, expected):
    p = path.replace("{root}", root)
    with zp.session() as c:
        rep = c.call(zp.CREATE, zp.create_req(p, b""))
        assert rep.err == expected
        assert c.call(zp.EXISTS, zp.path_watch("/")).err == 0  # still open


def test_get_and_delete_odd_paths(root):
    with zp.session() as c:
        rep = c.call(zp.GET_DATA, zp.path_watch(""))
        assert rep.err == 0  # Java does not validate getData paths: "" reads the root
        r = rep.reader()
        r.buffer()
        assert r.stat()["czxid"] == 0
        assert c.call(zp.DELETE, zp.ustring("") + zp.i32(-1)).err == -8
        assert c.call(zp.DELETE, zp.ustring("/a\x00b") + zp.i32(-1)).err == -8
        assert c.call(zp.DELETE, zp.ustring(root + "/nope/.") + zp.i32(-1)).err == -101
        assert c.call(zp.GET_DATA, zp.path_watch(root + "//x")).err == -101
        assert c.call(zp.EXISTS, zp.path_watch("/")).err == 0


def flood_unread(root, op_tail, n, others, settle=0.0, read_timeout=30):
    """Sends `n` requests (xids 1..n, body `op_tail`) on one session without reading; while they
    are pending, `others(client)` must be served on a second session; then every reply must
    arrive, without error and in order."""
    flood = zp.session()
    payload = b"".join(zp.i32(4 + len(op_tail)) + zp.i32(xid) + op_tail for xid in range(1, n + 1))
    sender = threading.Thread(target=flood.sock.sendall, args=(payload,), daemon=True)
    sender.start()
    try:
        time.sleep(settle)
        other = new_client()
        try:
            others(other)
        finally:
            other.stop()
            other.close()
        xids = []
        flood.sock.settimeout(read_timeout)
        while len(xids) < n:
            rep = flood.read_reply()
            assert rep.err == 0
            xids.append(rep.xid)
        assert xids == list(range(1, n + 1))
        sender.join(timeout=30)
        assert not sender.is_alive()
    finally:
        flood.close()


def test_ten_thousand_unread_requests(root):
    def others(c):
        # other clients keep being served while the flooder reads nothing
        for i in range(20):
            c.set(root, str(i).encode())
            assert c.get(root)[0] == str(i).encode()

    flood_unread(root, zp.i32(zp.EXISTS) + zp.path_watch(root), 10000, others)


def test_thousand_concurrent_connections():
    n = 1000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n + 200:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 500), hard))
    socks = []
    try:
        for _ in range(n):
            s = socket.create_connection(zp.host_port(), timeout=30)
            socks.append(s)
        req = zp.i32(0) + zp.i64(0) + zp.i32(30000) + zp.i64(0) + zp.buffer(b"\x00" * 16) + b"\x00"
        for s in socks:
            s.sendall(zp.i32(len(req)) + req)
        sids = set()
        for s in socks:
            buf = b""
            while len(buf) < 41:
                chunk = s.recv(64)
                assert chunk, "server closed a connection instead of answering its ConnectRequest"
                buf += chunk
            (length,) = struct.unpack("!i", buf[:4])
            assert length == 37
            r = zp.Reader(buf[4:])
            r.i32()
            assert r.i32() == 30000
            sids.add(r.i64())
        assert len(sids) == n and 0 not in sids
        # the server keeps serving while all of them are open
        c = new_client()
        try:
            assert c.exists("/zookeeper") is not None
        finally:
            c.stop()
            c.close()
        close = zp.i32(1) + zp.i32(zp.CLOSE_SESSION)
        for s in socks:
            s.sendall(zp.i32(len(close)) + close)
        for s in socks:
            s.settimeout(30)
            hdr = b""
            while len(hdr) < 20:
                chunk = s.recv(64)
                if not chunk:
                    break
                hdr += chunk
            assert len(hdr) == 20 and struct.unpack("!iiqi", hdr)[3] == 0
    finally:
        for s in socks:
            s.close()


def test_slow_reader_with_megabytes_pending_is_resumed(root):
    # 200 getData replies of 100 KB (20 MB, far beyond the socket buffers) are requested
    # without reading, so a server that bounds what it holds per connection must stop
    # reading this client; once the client reads, every reply must arrive, in order.
    c = new_client()
    try:
        c.create(root + "/big", b"x" * 100_000)
    finally:
        c.stop()
        c.close()

    def others(o):
        o.set(root, b"still served")
        assert o.get(root)[0] == b"still served"

    # settle: let the server fill every buffer it is willing to fill first
    flood_unread(root, zp.i32(zp.GET_DATA) + zp.path_watch(root + "/big"), 200, others, settle=2, read_timeout=60)
