"""A userspace TCP fault proxy on every member-to-member link, which the fault harness controls.

Why: `tc netem` does not exist on these machines, and iptables on the shared loopback cannot tell
members apart (their outgoing connections all come from 127.0.0.1). So each member's zoo.cfg names
the other members at proxy addresses: member i reaches member j's quorum and election ports through
the proxy of link (i -> j), which listens on 127.0.0.(100 + 10 i + j) on j's real port numbers (ports
of this run's leased slot, so no other run collides). The harness can then, per link:

- `cut`: a partition. Live connections stop forwarding in both directions (bytes are swallowed, the
  sockets stay open, as through a dead switch) and new ones are accepted and black-holed the same way,
  so the members notice only by their own timeouts. `heal` closes the black-holed connections (the
  members reconnect) and forwards again.
- `delay`: every chunk is held `ms` milliseconds before it is forwarded (order kept).
- `drop`: closes every live connection of the link at once (a reset).

An election connection starts with an initial message that carries the dialler's own election address,
and a member that drops a connection from a lower sid dials back to that address (QuorumCnxManager).
The proxy rewrites that address to the proxy of the reverse link, so the dial-back goes through the
proxy too; without this, half of the election traffic would bypass every partition.

All links run on one asyncio loop in a daemon thread; the control methods are thread-safe.
"""

import asyncio
import struct
import threading
import time

PROTOCOL_V1 = -65536
PROTOCOL_V2 = -65535


def proxy_host(src, dst):
    """The address member `src` dials to reach member `dst`."""
    return "127.0.0.%d" % (100 + 10 * src + dst)


class Link:
    """One direction of one port between two members: src dials dst through listen_host:port."""

    def __init__(self, proxy, src, dst, kind, listen_host, port, target_host, target_port):
        self.proxy, self.src, self.dst, self.kind = proxy, src, dst, kind
        self.listen_host, self.port = listen_host, port
        self.target = (target_host, target_port)
        self.cut = False
        self.delay_ms = 0
        self.conns = []  # live connections: {"writers", "tasks", "cut"}
        self.accepted = 0
        self.server = None

    @property
    def name(self):
        return "link %d->%d %s (%s:%d)" % (self.src, self.dst, self.kind, self.listen_host, self.port)


class FaultProxy:
    def __init__(self, rewrite_election=True):
        self.loop = asyncio.new_event_loop()
        self.links = {}
        self.rewrite_election = rewrite_election
        self.errors = []
        self.thread = threading.Thread(target=self._run, name="fault-proxy", daemon=True)
        self.thread.start()

    def _run(self):
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def _call(self, coro_fn, *args, timeout=10.0):
        fut = asyncio.run_coroutine_threadsafe(coro_fn(*args), self.loop)
        return fut.result(timeout)

    # ------------------------------------------------------------------ setup

    def add_link(self, src, dst, kind, port, target_host, target_port, reverse_host=None):
        """Starts listening for link src -> dst. `reverse_host` (election links) is the proxy address
        dst must use to dial src back."""
        link = Link(self, src, dst, kind, proxy_host(src, dst), port, target_host, target_port)
        link.reverse_host = reverse_host
        self._call(self._listen, link)
        self.links[(src, dst, kind)] = link
        return link

    async def _listen(self, link):
        async def on_conn(reader, writer):
            await self._serve(link, reader, writer)

        link.server = await asyncio.start_server(on_conn, link.listen_host, link.port, reuse_address=True)

    async def _serve(self, link, creader, cwriter):
        link.accepted += 1
        conn = {"writers": [cwriter], "tasks": [], "cut": link.cut}
        link.conns.append(conn)
        try:
            if link.cut:
                await self._swallow(creader)
                return
            try:
                sreader, swriter = await asyncio.wait_for(asyncio.open_connection(*link.target), 5.0)
            except (OSError, asyncio.TimeoutError):
                return  # the target is down: the dialler sees its connection close, as without a proxy
            conn["writers"].append(swriter)
            first = b""
            if link.kind == "election" and self.rewrite_election:
                first = await self._rewrite_initial(link, creader)
                if first is None:
                    return
            up = asyncio.ensure_future(self._pump(link, conn, creader, swriter, first))
            down = asyncio.ensure_future(self._pump(link, conn, sreader, cwriter, b""))
            conn["tasks"] = [up, down]
            await asyncio.wait([up, down], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for t in conn["tasks"]:
                t.cancel()
            for w in conn["writers"]:
                try:
                    w.close()
                except Exception:
                    pass
            if conn in link.conns:
                link.conns.remove(conn)

    async def _swallow(self, reader):
        while True:
            try:
                b = await reader.read(65536)
            except (OSError, asyncio.IncompleteReadError):
                return
            if not b:
                return

    async def _rewrite_initial(self, link, reader):
        """Reads the dialler's initial message and returns it with the dialler's address replaced by
        the reverse link's proxy address (same port)."""
        try:
            head = await reader.readexactly(8)
            (proto,) = struct.unpack(">q", head)
            if proto not in (PROTOCOL_V1, PROTOCOL_V2):
                return head  # a pre-3.5 initial message (just the sid): nothing to rewrite
            rest = await reader.readexactly(12)
            sid, n = struct.unpack(">qi", rest)
            if n < 0 or n > 4096:
                return head + rest
            addr = (await reader.readexactly(n)).decode(errors="replace")
        except (asyncio.IncompleteReadError, OSError):
            return None
        out = []
        for a in addr.split("|"):
            host, _, port = a.rpartition(":")
            out.append("%s:%s" % (link.reverse_host or host, port))
        new = "|".join(out).encode()
        return head + struct.pack(">qi", sid, len(new)) + new

    async def _pump(self, link, conn, reader, writer, first):
        if first:
            writer.write(first)
        while True:
            try:
                data = await reader.read(65536)
            except (OSError, asyncio.IncompleteReadError):
                return
            if not data:
                return
            if link.cut or conn["cut"]:
                conn["cut"] = True
                continue  # black hole: swallow, never forward, until heal drops the connection
            if link.delay_ms:
                due = time.monotonic() + link.delay_ms / 1000.0
                # Hold this chunk; later chunks queue behind it because this pump reads no further.
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                if link.cut or conn["cut"]:
                    conn["cut"] = True
                    continue
            try:
                writer.write(data)
                await writer.drain()
            except (OSError, ConnectionError):
                return

    # ------------------------------------------------------------------ control

    def _select(self, a=None, b=None):
        """Links between member a and member b (either direction); a alone: every link touching a."""
        out = []
        for (s, d, _), link in self.links.items():
            if b is None:
                if a is None or a in (s, d):
                    out.append(link)
            elif {s, d} == {a, b}:
                out.append(link)
        return out

    def cut(self, a, b=None):
        for link in self._select(a, b):
            link.cut = True
            for conn in list(link.conns):
                conn["cut"] = True

    def isolate(self, sid):
        self.cut(sid)

    def heal(self):
        """Every link forwards again, without delay; black-holed connections are closed."""
        def do():
            for link in self.links.values():
                link.cut = False
                link.delay_ms = 0
                for conn in list(link.conns):
                    if conn["cut"]:
                        self._close(conn)
        self.loop.call_soon_threadsafe(do)

    def delay(self, ms, a=None, b=None):
        for link in self._select(a, b):
            link.delay_ms = ms

    def drop(self, a=None, b=None):
        links = self._select(a, b)

        def do():
            for link in links:
                for conn in list(link.conns):
                    self._close(conn)
        self.loop.call_soon_threadsafe(do)

    @staticmethod
    def _close(conn):
        for t in conn["tasks"]:
            t.cancel()
        for w in conn["writers"]:
            try:
                w.transport.abort()
            except Exception:
                pass

    def state(self):
        return {link.name: ("CUT" if link.cut else "delay %d ms" % link.delay_ms if link.delay_ms else "ok")
                for link in self.links.values()}

    def close(self):
        async def stop():
            for link in self.links.values():
                if link.server:
                    link.server.close()
                for conn in list(link.conns):
                    self._close(conn)
        try:
            self._call(stop, timeout=5)
        except Exception:
            pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
