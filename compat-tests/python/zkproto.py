"""A minimal raw ZooKeeper wire client for the tests that real client libraries cannot express:
malformed input, persistent watches (kazoo 2.11 has no addWatch), null data, exact error codes and
exact reply ordering. Only what the tests need; the byte layouts follow Java's jute records."""

import os
import socket
import struct
import time

# Opcodes (ZooDefs.OpCode)
CREATE, DELETE, EXISTS, GET_DATA, SET_DATA, GET_ACL, SET_ACL = 1, 2, 3, 4, 5, 6, 7
GET_CHILDREN, SYNC, PING, GET_CHILDREN2, CHECK, MULTI, CREATE2 = 8, 9, 11, 12, 13, 14, 15
CHECK_WATCHES, REMOVE_WATCHES, CREATE_CONTAINER, CREATE_TTL, MULTI_READ = 17, 18, 19, 21, 22
AUTH, SET_WATCHES, GET_EPHEMERALS, GET_ALL_CHILDREN_NUMBER = 100, 101, 103, 104
SET_WATCHES2, ADD_WATCH, WHO_AM_I, CLOSE_SESSION = 105, 106, 107, -11

# Event types
NODE_CREATED, NODE_DELETED, NODE_DATA_CHANGED, NODE_CHILDREN_CHANGED = 1, 2, 3, 4

OPEN_ACL = [(31, "world", "anyone")]

STAT = struct.Struct("!qqqqiiiqiiq")
STAT_FIELDS = (
    "czxid mzxid ctime mtime version cversion aversion ephemeralOwner dataLength numChildren pzxid"
).split()


def host_port():
    host, port = os.environ.get("ZK_HOST", "127.0.0.1:2181").rsplit(":", 1)
    return host, int(port)


# --- jute encoding -------------------------------------------------------------------------------


def i32(v):
    return struct.pack("!i", v)


def i64(v):
    return struct.pack("!q", v)


def boolean(v):
    return b"\x01" if v else b"\x00"


def ustring(s):
    if s is None:
        return i32(-1)
    b = s.encode("utf-8") if isinstance(s, str) else s
    return i32(len(b)) + b


def buffer(b):
    if b is None:
        return i32(-1)
    return i32(len(b)) + b


def acl_vec(acls):
    out = i32(len(acls))
    for perms, scheme, ident in acls:
        out += i32(perms) + ustring(scheme) + ustring(ident)
    return out


def str_vec(items):
    return i32(len(items)) + b"".join(ustring(s) for s in items)


def create_req(path, data=b"", acl=None, flags=0):
    return ustring(path) + buffer(data) + acl_vec(OPEN_ACL if acl is None else acl) + i32(flags)


def create_ttl_req(path, data, ttl, flags=5, acl=None):
    return create_req(path, data, acl, flags) + i64(ttl)


def path_watch(path, watch=False):
    return ustring(path) + boolean(watch)


class Reader:
    """Decodes jute fields from a reply body; raises ValueError on short input."""

    def __init__(self, data):
        self.data = data
        self.pos = 0

    def take(self, n):
        if n < 0 or self.pos + n > len(self.data):
            raise ValueError("short read")
        b = self.data[self.pos : self.pos + n]
        self.pos += n
        return b

    def i32(self):
        return struct.unpack("!i", self.take(4))[0]

    def i64(self):
        return struct.unpack("!q", self.take(8))[0]

    def boolean(self):
        return self.take(1) != b"\x00"

    def buffer(self):
        n = self.i32()
        return None if n < 0 else self.take(n)

    def ustring(self):
        b = self.buffer()
        return None if b is None else b.decode("utf-8")

    def stat(self):
        return dict(zip(STAT_FIELDS, STAT.unpack(self.take(STAT.size))))

    def str_vec(self):
        n = self.i32()
        return [self.ustring() for _ in range(max(n, 0))]

    def acl_vec(self):
        n = self.i32()
        return [(self.i32(), self.ustring(), self.ustring()) for _ in range(max(n, 0))]

    def done(self):
        return self.pos == len(self.data)


# --- connection ----------------------------------------------------------------------------------


class Closed(Exception):
    pass


class Reply:
    def __init__(self, xid, zxid, err, body):
        self.xid, self.zxid, self.err, self.body = xid, zxid, err, body

    def reader(self):
        return Reader(self.body)

    def __repr__(self):
        return f"Reply(xid={self.xid}, zxid={self.zxid:#x}, err={self.err}, body={self.body[:32]!r})"


class RawClient:
    """One TCP connection. `events` collects notifications (xid -1) seen while waiting for replies."""

    def __init__(self, timeout=10.0):
        self.sock = socket.create_connection(host_port(), timeout=timeout)
        self.sock.settimeout(timeout)
        self.timeout = timeout
        self.xid = 0
        self.events = []
        self.session_id = None
        self.passwd = None
        self.negotiated_timeout = None
        self._buf = b""

    # framing
    def send_frame(self, payload):
        self.sock.sendall(i32(len(payload)) + payload)

    def send_bytes(self, raw):
        self.sock.sendall(raw)

    def _recv_exact(self, n):
        while len(self._buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise Closed(f"connection closed by server ({len(self._buf)} of {n} bytes buffered)")
            self._buf += chunk
        out, self._buf = self._buf[:n], self._buf[n:]
        return out

    def read_frame(self):
        (n,) = struct.unpack("!i", self._recv_exact(4))
        if n < 0 or n > 64 * 1024 * 1024:
            raise ValueError(f"bad frame length {n}")
        return self._recv_exact(n)

    def connect(self, session_timeout=30000, session_id=0, passwd=b"\x00" * 16, last_zxid=0,
                read_only_byte=True):
        req = i32(0) + i64(last_zxid) + i32(session_timeout) + i64(session_id) + buffer(passwd)
        if read_only_byte:
            req += b"\x00"
        self.send_frame(req)
        r = Reader(self.read_frame())
        r.i32()
        self.negotiated_timeout = r.i32()
        self.session_id = r.i64()
        self.passwd = r.buffer()
        return self

    def read_reply(self):
        """Next non-notification reply; notifications are appended to self.events."""
        while True:
            frame = self.read_frame()
            r = Reader(frame)
            xid, zxid, err = r.i32(), r.i64(), r.i32()
            if xid == -1:
                self.events.append((r.i32(), r.i32(), r.ustring()))
                continue
            return Reply(xid, zxid, err, frame[16:])

    def next_xid(self):
        self.xid += 1
        return self.xid

    def send_request(self, op, body=b"", xid=None):
        xid = self.next_xid() if xid is None else xid
        self.send_frame(i32(xid) + i32(op) + body)
        return xid

    def call(self, op, body=b"", xid=None):
        xid = self.send_request(op, body, xid)
        rep = self.read_reply()
        if rep.xid != xid:
            raise AssertionError(f"reply xid {rep.xid} != request xid {xid}")
        return rep

    def wait_events(self, count, timeout=10.0):
        """Waits until at least `count` notifications have arrived (pinging to pump the socket)."""
        deadline = time.monotonic() + timeout
        while len(self.events) < count and time.monotonic() < deadline:
            self.sock.settimeout(max(0.05, min(0.5, deadline - time.monotonic())))
            try:
                frame = self.read_frame()
            except socket.timeout:
                continue
            finally:
                self.sock.settimeout(self.timeout)
            r = Reader(frame)
            xid, _zxid, _err = r.i32(), r.i64(), r.i32()
            if xid == -1:
                self.events.append((r.i32(), r.i32(), r.ustring()))
        return self.events

    def is_closed(self, timeout=5.0):
        """True if the server closes the connection within `timeout` (any pending bytes discarded)."""
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                self.sock.settimeout(max(0.05, deadline - time.monotonic()))
                try:
                    chunk = self.sock.recv(65536)
                except socket.timeout:
                    return False
                if not chunk:
                    return True
            return False
        except (ConnectionResetError, BrokenPipeError):
            return True
        finally:
            self.sock.settimeout(self.timeout)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def session(timeout_ms=30000):
    return RawClient().connect(session_timeout=timeout_ms)
