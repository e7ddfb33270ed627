"""Four-letter words that monitoring tools and zkServer.sh read (all whitelisted by run.sh)."""

import re
import socket

import zkproto as zp
from conftest import SERVER_MODE


def flw(cmd):
    s = socket.create_connection(zp.host_port(), timeout=10)
    try:
        s.sendall(cmd.encode())
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out.decode()
            out += chunk
    finally:
        s.close()


def test_ruok():
    assert flw("ruok") == "imok"


def test_isro():
    assert flw("isro") == "rw"


def test_srvr():
    out = flw("srvr")
    assert out.startswith("Zookeeper version: ")
    assert f"\nMode: {SERVER_MODE}\n" in out
    assert re.search(r"\nZxid: 0x[0-9a-f]+\n", out)
    assert re.search(r"\nNode count: \d+\n", out)
    assert re.search(r"\nLatency min/avg/max: \d+/[0-9.]+/\d+\n", out)


def test_mntr():
    out = flw("mntr")
    kv = dict(line.split("\t", 1) for line in out.splitlines() if "\t" in line)
    assert out.startswith("zk_version\t")
    assert kv["zk_server_state"] == SERVER_MODE
    for key in ("zk_znode_count", "zk_watch_count", "zk_ephemerals_count", "zk_num_alive_connections",
                "zk_outstanding_requests", "zk_approximate_data_size", "zk_packets_received"):
        assert re.fullmatch(r"\d+", kv[key]), key


def test_conf():
    out = flw("conf")
    _, port = zp.host_port()
    assert f"clientPort={port}\n" in out
    assert "tickTime=2000\n" in out
    assert "maxSessionTimeout=40000\n" in out and "minSessionTimeout=4000\n" in out


def test_watch_listings(root):
    wchs = re.compile(r"(\d+) connections watching (\d+) paths\nTotal watches:(\d+)\n")
    assert wchs.fullmatch(flw("wchs")), flw("wchs")
    with zp.session() as c:
        c.call(zp.GET_DATA, zp.path_watch(root, True))
        m = wchs.fullmatch(flw("wchs"))
        assert m and int(m.group(1)) >= 1 and int(m.group(3)) >= 1
        sid = f"0x{c.session_id:x}"
        # other tests' connections may still be closing, so look only for this session's entry
        assert f"\n{root}\n\t{sid}\n" in "\n" + flw("wchp")
        assert f"\n{sid}\n\t{root}\n" in "\n" + flw("wchc")
