"""Raw ZooKeeper client protocol (Jute over TCP) for the differential test.

Owns: byte-level encoding of requests and decoding of replies, without any client-library
interpretation, so that every reply-header zxid, error code and trailing byte can be compared
between Java ZooKeeper and ruzk. Standard library only on purpose (the test must run on a bare
python3).
"""

import base64
import hashlib
import socket
import struct

# Opcodes (ZooDefs.OpCode).
CREATE = 1
DELETE = 2
EXISTS = 3
GET_DATA = 4
SET_DATA = 5
GET_ACL = 6
SET_ACL = 7
GET_CHILDREN = 8
SYNC = 9
PING = 11
GET_CHILDREN2 = 12
CHECK = 13
MULTI = 14
CREATE2 = 15
CHECK_WATCHES = 17
REMOVE_WATCHES = 18
CREATE_CONTAINER = 19
CREATE_TTL = 21
MULTI_READ = 22
AUTH = 100
SET_WATCHES = 101
GET_EPHEMERALS = 103
GET_ALL_CHILDREN_NUMBER = 104
SET_WATCHES2 = 105
ADD_WATCH = 106
WHO_AM_I = 107
CLOSE_SESSION = -11

OP_NAMES = {
    CREATE: "create", DELETE: "delete", EXISTS: "exists", GET_DATA: "getData",
    SET_DATA: "setData", GET_ACL: "getACL", SET_ACL: "setACL", GET_CHILDREN: "getChildren",
    SYNC: "sync", PING: "ping", GET_CHILDREN2: "getChildren2", CHECK: "check", MULTI: "multi",
    CREATE2: "create2", CHECK_WATCHES: "checkWatches", REMOVE_WATCHES: "removeWatches",
    CREATE_CONTAINER: "createContainer", CREATE_TTL: "createTTL", MULTI_READ: "multiRead",
    AUTH: "auth", SET_WATCHES: "setWatches", GET_EPHEMERALS: "getEphemerals",
    GET_ALL_CHILDREN_NUMBER: "getAllChildrenNumber", SET_WATCHES2: "setWatches2",
    ADD_WATCH: "addWatch", WHO_AM_I: "whoAmI", CLOSE_SESSION: "closeSession",
}

NOTIFICATION_XID = -1
PING_XID = -2
AUTH_XID = -4


class ProtocolError(Exception):
    """The peer sent something that does not parse as the protocol says."""


class ConnectionGone(Exception):
    """The server closed the connection, or did not answer in time."""


class Timeout(ConnectionGone):
    """The server kept the connection open but sent nothing in time."""


def digest_id(user, password):
    """The id Java's DigestAuthenticationProvider derives from "user:password" (SHA1, base64)."""
    raw = hashlib.sha1(("%s:%s" % (user, password)).encode()).digest()
    return "%s:%s" % (user, base64.b64encode(raw).decode())


def java_session_password(session_id):
    """java.util.Random(sessionId ^ 0xB3415C00).nextBytes(16), as ZooKeeperServer.generatePasswd."""
    mask = (1 << 48) - 1
    seed = ((session_id ^ 0xB3415C00) & 0xFFFFFFFFFFFFFFFF) ^ 0x5DEECE66D
    s = seed & mask
    out = bytearray()
    while len(out) < 16:
        s = (s * 0x5DEECE66D + 0xB) & mask
        r = (s >> 16) & 0xFFFFFFFF
        for i in range(4):
            if len(out) < 16:
                out.append((r >> (8 * i)) & 0xFF)
    return bytes(out)


class W:
    """Jute writer."""

    def __init__(self):
        self.b = bytearray()

    def int(self, v):
        self.b += struct.pack(">i", v)
        return self

    def long(self, v):
        self.b += struct.pack(">q", v)
        return self

    def bool(self, v):
        self.b += b"\x01" if v else b"\x00"
        return self

    def buffer(self, v):
        if v is None:
            return self.int(-1)
        self.int(len(v))
        self.b += v
        return self

    def ustring(self, v):
        return self.buffer(None if v is None else v.encode("utf-8"))

    def strings(self, v):
        if v is None:
            return self.int(-1)
        self.int(len(v))
        for s in v:
            self.ustring(s)
        return self

    def acls(self, v):
        if v is None:
            return self.int(-1)
        self.int(len(v))
        for perms, scheme, ident in v:
            self.int(perms).ustring(scheme).ustring(ident)
        return self

    def bytes(self):
        return bytes(self.b)


class R:
    """Jute reader over one frame; every read is bounds-checked."""

    def __init__(self, data):
        self.d = data
        self.p = 0

    def take(self, n):
        if n < 0 or self.p + n > len(self.d):
            raise ProtocolError("truncated: need %d bytes at %d of %d" % (n, self.p, len(self.d)))
        v = self.d[self.p:self.p + n]
        self.p += n
        return v

    def int(self):
        return struct.unpack(">i", self.take(4))[0]

    def long(self):
        return struct.unpack(">q", self.take(8))[0]

    def bool(self):
        return self.take(1) != b"\x00"

    def buffer(self):
        n = self.int()
        if n == -1:
            return None
        if n < -1:
            raise ProtocolError("negative length %d" % n)
        return bytes(self.take(n))

    def ustring(self):
        v = self.buffer()
        return None if v is None else v.decode("utf-8", errors="replace")

    def vector(self, elem):
        n = self.int()
        if n == -1:
            return None
        if n < -1 or n > len(self.d):
            raise ProtocolError("bad vector count %d" % n)
        return [elem() for _ in range(n)]

    def strings(self):
        return self.vector(self.ustring)

    def stat(self):
        names = ("czxid", "mzxid", "ctime", "mtime", "version", "cversion", "aversion",
                 "ephemeralOwner", "dataLength", "numChildren", "pzxid")
        fmt = ">qqqqiiiqiiq"
        return dict(zip(names, struct.unpack(fmt, self.take(struct.calcsize(fmt)))))

    def acl(self):
        perms = self.int()
        return (perms, self.ustring(), self.ustring())

    def acls(self):
        return self.vector(self.acl)

    def rest(self):
        v = self.d[self.p:]
        self.p = len(self.d)
        return bytes(v)

    def left(self):
        return len(self.d) - self.p


class Conn:
    """One TCP connection carrying one session. Requests are strictly one at a time."""

    def __init__(self, port, host="127.0.0.1", timeout=10.0):
        self.port = port
        self.host = host
        self.timeout = timeout
        self.sock = None
        self.xid = 0
        self.last_zxid = 0
        self.session_id = 0
        self.passwd = b"\x00" * 16
        self.buf = bytearray()
        self.closed = True

    # ---- framing

    def _recv_exact(self, n):
        while len(self.buf) < n:
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                raise Timeout("timeout waiting for the server")
            except OSError as e:
                raise ConnectionGone("recv failed: %s" % e)
            if not chunk:
                raise ConnectionGone("server closed the connection")
            self.buf += chunk
        v = bytes(self.buf[:n])
        del self.buf[:n]
        return v

    def read_frame(self):
        (n,) = struct.unpack(">i", self._recv_exact(4))
        if n < 0 or n > 16 * 1024 * 1024:
            raise ProtocolError("bad frame length %d" % n)
        return self._recv_exact(n)

    def send_frame(self, payload):
        try:
            self.sock.sendall(struct.pack(">i", len(payload)) + payload)
        except OSError as e:
            raise ConnectionGone("send failed: %s" % e)

    # ---- session

    def connect(self, session_id=0, passwd=None, last_zxid=0, timeout_ms=30000, readonly_byte=True):
        """Open the socket and do the handshake. Returns the decoded ConnectResponse."""
        self.sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.closed = False
        w = W().int(0).long(last_zxid).int(timeout_ms).long(session_id)
        w.buffer(passwd if passwd is not None else b"\x00" * 16)
        if readonly_byte:
            w.bool(False)
        self.send_frame(w.bytes())
        frame = self.read_frame()
        r = R(frame)
        resp = {
            "protocolVersion": r.int(),
            "timeOut": r.int(),
            "sessionId": r.long(),
            "passwd": r.buffer(),
        }
        resp["readOnly"] = r.bool() if r.left() >= 1 else None
        resp["trailing"] = r.rest().hex()
        resp["frameLen"] = len(frame)
        if resp["timeOut"] > 0:
            self.session_id = resp["sessionId"]
            self.passwd = resp["passwd"]
        self.last_zxid = max(self.last_zxid, last_zxid)
        return resp

    def close_socket(self):
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock = None
        self.closed = True

    # ---- requests

    def next_xid(self):
        self.xid += 1
        return self.xid

    def request(self, op, body=b"", xid=None):
        """Send one request; return (reply header dict, body bytes, notifications before it).

        Notifications are (type, state, path, zxid) tuples in arrival order. Raises ConnectionGone
        if the server closes the socket or times out before the reply.
        """
        if self.closed:
            raise ConnectionGone("connection already closed")
        if xid is None:
            xid = self.next_xid()
        self.send_frame(W().int(xid).int(op).bytes() + body)
        events = []
        while True:
            frame = self.read_frame()
            r = R(frame)
            hdr = {"xid": r.int(), "zxid": r.long(), "err": r.int()}
            if hdr["xid"] == NOTIFICATION_XID:
                ev = (r.int(), r.int(), r.ustring(), hdr["zxid"])
                if r.left():
                    ev = ev + ("trailing:" + r.rest().hex(),)
                events.append(ev)
                continue
            if hdr["xid"] != xid:
                raise ProtocolError("reply xid %d, expected %d (op %s)" % (hdr["xid"], xid, op))
            if hdr["zxid"] > 0 and hdr["xid"] != AUTH_XID:
                self.last_zxid = max(self.last_zxid, hdr["zxid"])
            return hdr, r.rest(), events
