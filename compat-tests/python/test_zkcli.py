"""zkCli.sh (Debian's Java CLI) driven by a script on stdin: one session, many commands."""

import re
import subprocess

from conftest import ZK_HOST

ZKCLI = "/usr/share/zookeeper/bin/zkCli.sh"


def run_script(lines):
    proc = subprocess.run(
        [ZKCLI, "-server", ZK_HOST], input="\n".join(lines + ["quit"]) + "\n",
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120,
    )
    return proc.stdout


def test_zkcli_script(root):
    p = root + "/cli"
    out = run_script([
        f"create {p} hello",
        f"get {p}",
        f"set {p} world",
        f"get -s {p}",
        f"create -e {p}/e",
        f"create -s {p}/s- x",
        f"ls -s {p}",
        f"getAllChildrenNumber {p}",
        f"getEphemerals {p}",
        "whoami",
        f"create {p} again",
        f"delete {p}",
        f"deleteall {p}",
        f"ls {p}",
    ])
    assert f"Created {p}\nhello\nworld\n" in out, out
    stat = re.search(r"cZxid = (0x[0-9a-f]+)\nctime = .*\nmZxid = (0x[0-9a-f]+)\n", out)
    assert stat and int(stat.group(2), 16) > int(stat.group(1), 16), out
    assert "dataVersion = 1\n" in out and "dataLength = 5\n" in out
    assert f"Created {p}/e\nCreated {p}/s-0000000001\n" in out
    kids = re.search(r"\n\[([^\]]*)\]\ncZxid", out)
    assert kids and sorted(kids.group(1).split(", ")) == ["e", "s-0000000001"], out
    assert "cversion = 2\n" in out and "numChildren = 2\n" in out
    assert re.search(r"numChildren = 2\n2\n\[" + re.escape(p) + r"/e\]\n", out), out
    assert "Auth scheme: User\nip: 127.0.0.1\n" in out
    assert f"Node already exists: {p}" in out
    assert f"Node not empty: {p}" in out
    assert f"Node does not exist: {p}" in out
