"""The C client (Debian's cli_mt, batch mode: one session per command, results on stderr)."""

import os
import re
import subprocess

import pytest

from conftest import ZK_HOST

CLI = "/usr/lib/zookeeper/bin/cli_mt"


def cli(cmd):
    proc = subprocess.run([CLI, "-h", ZK_HOST, "-c", cmd], capture_output=True, text=True, timeout=60)
    return proc.stderr


@pytest.fixture(autouse=True)
def need_cli():
    if not os.access(CLI, os.X_OK):
        pytest.fail(f"{CLI} missing: run compat-tests/install.sh")


def test_cli_mt_create_get_set_ls_delete(root):
    p = root + "/c"
    out = cli(f"create {p}")
    assert f"[{p}]: rc = 0" in out and f"name = {p}" in out
    out = cli(f"get {p}")
    assert f"{p}: rc = 0" in out
    assert re.search(r"value_len = 3\nnew\n", out), out  # cli_mt creates nodes with data "new"
    assert "version=0" in out
    out = cli(f"set {p} world")
    assert f"{p}: rc = 0" in out and "version=1" in out
    out = cli(f"get {p}")
    assert re.search(r"value_len = 5\nworld\n", out), out
    czxid = re.search(r"czxid=([0-9a-f]+)", out).group(1)
    mzxid = re.search(r"mzxid=([0-9a-f]+)", out).group(1)
    assert int(mzxid, 16) > int(czxid, 16)
    out = cli(f"create +s {p}/s-")
    assert f"name = {p}/s-0000000000" in out
    out = cli(f"create +e {p}/e")
    assert f"[{p}/e]: rc = 0" in out
    out = cli(f"ls2 {p}")
    assert f"{p}: rc = 0" in out
    # the ephemeral went with the cli session that made it
    assert "\ts-0000000000\n" in out and "\te\n" not in out
    assert "version=1" in out
    out = cli(f"delete {p}")
    assert f"{p}: rc = -111" in out  # not empty
    out = cli(f"delete {p}/s-0000000000")
    assert f"{p}/s-0000000000: rc = 0" in out
    out = cli(f"delete {p}")
    assert f"{p}: rc = 0" in out
    out = cli(f"ls {p}")
    assert f"{p}: rc = -101" in out
    out = cli(f"get {p}")
    assert f"{p}: rc = -101" in out


def test_cli_mt_errors(root):
    out = cli(f"create {root}/missing/child")
    assert f"[{root}/missing/child]: rc = -101" in out
    cli(f"create {root}/dup")
    out = cli(f"create {root}/dup")
    assert f"[{root}/dup]: rc = -110" in out
    # (batch-mode "exists" never exits in cli_mt, so it is not used)
