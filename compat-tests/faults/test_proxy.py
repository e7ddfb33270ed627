"""Unit tests of the fault proxy on loopback: forwarding, a cut that black-holes, heal, delay, and
the rewrite of an election initial message (exact bytes)."""

import socket
import struct
import threading
import time

import pytest

from proxy import FaultProxy, proxy_host



class Target:
    """Records every byte received per connection and echoes it back."""

    def __init__(self, host, port):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(8)
        self.received = []
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            buf = bytearray()
            self.received.append(buf)
            threading.Thread(target=self.serve, args=(c, buf), daemon=True).start()

    @staticmethod
    def serve(c, buf):
        while True:
            try:
                b = c.recv(65536)
            except OSError:
                return
            if not b:
                return
            buf.extend(b)
            try:
                c.sendall(b)
            except OSError:
                return

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the accept thread
        except OSError:
            pass
        self.sock.close()


PORT = None


@pytest.fixture
def setup():
    global PORT
    target = Target("127.0.0.12", 0)  # a free port; the proxy listens on the same number
    PORT = target.sock.getsockname()[1]
    fp = FaultProxy()
    fp.add_link(1, 2, "quorum", PORT, "127.0.0.12", PORT)
    # The election link listens on its own proxy address, on the same port, and forwards to target.
    fp.add_link(1, 3, "election", PORT, "127.0.0.12", PORT, reverse_host=proxy_host(3, 1))
    yield fp, target
    fp.close()
    target.close()


def recv_exactly(s, n, timeout=5.0):
    s.settimeout(timeout)
    out = b""
    while len(out) < n:
        b = s.recv(n - len(out))
        if not b:
            break
        out += b
    return out


def test_forwards_both_ways(setup):
    fp, _ = setup
    with socket.create_connection((proxy_host(1, 2), PORT), timeout=5) as s:
        s.sendall(b"hello")
        assert recv_exactly(s, 5) == b"hello"


def test_cut_black_holes_then_heal_reconnects(setup):
    fp, target = setup
    s = socket.create_connection((proxy_host(1, 2), PORT), timeout=5)
    s.sendall(b"a")
    assert recv_exactly(s, 1) == b"a"
    fp.cut(1, 2)
    s.sendall(b"lost")
    s.settimeout(0.5)
    with pytest.raises(socket.timeout):
        s.recv(10)  # nothing comes back and the socket stays open
    assert bytes(target.received[0]) == b"a"
    fp.heal()
    time.sleep(0.2)
    assert s.recv(10) == b""  # heal closed the black-holed connection
    s.close()
    with socket.create_connection((proxy_host(1, 2), PORT), timeout=5) as s2:
        s2.sendall(b"again")
        assert recv_exactly(s2, 5) == b"again"


def test_delay_holds_each_chunk(setup):
    fp, _ = setup
    fp.delay(300, 1, 2)
    with socket.create_connection((proxy_host(1, 2), PORT), timeout=5) as s:
        t0 = time.monotonic()
        s.sendall(b"x")
        assert recv_exactly(s, 1) == b"x"
        assert time.monotonic() - t0 >= 0.3


def test_election_initial_message_rewritten(setup):
    fp, target = setup
    addr = b"127.0.0.11:24012"
    msg = struct.pack(">qqi", -65535, 1, len(addr)) + addr + b"rest"
    with socket.create_connection((proxy_host(1, 3), PORT), timeout=5) as s:
        s.sendall(msg)
        want_addr = b"127.0.0.131:24012"
        want = struct.pack(">qqi", -65535, 1, len(want_addr)) + want_addr + b"rest"
        assert recv_exactly(s, len(want)) == want
