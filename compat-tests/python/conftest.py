"""Shared fixtures: the target server comes from ZK_HOST (set by compat-tests/run.sh), so the same
tests run against Java ZooKeeper 3.8.0 and against ruzk, standalone or as one member of an ensemble
(`run.sh *-ensemble`: ZK_HOST is then a follower, and the values below describe it)."""

import os
import re
import time
import uuid

import pytest
from kazoo.client import KazooClient

ZK_HOST = os.environ.get("ZK_HOST", "127.0.0.1:2181")
ZK_SUPER = os.environ.get("ZK_SUPER", "super:compat-super-secret")
# Set by run.sh for the *-ensemble targets (compat-tests/ensemble/serve.py); standalone defaults.
ENSEMBLE = os.environ.get("ZK_ENSEMBLE")  # topology name, or None on a standalone server
SERVER_MODE = os.environ.get("ZK_SERVER_MODE", "standalone")  # srvr "Mode:" of the member at ZK_HOST
SERVER_ID = int(os.environ.get("ZK_SERVER_ID", "1"))  # top byte of the session ids that member creates
EXPECTED_CONFIG = os.environ.get("ZK_ENSEMBLE_CONFIG", "")  # /zookeeper/config data ("" standalone)


def wait_until(pred, timeout=20.0, interval=0.05, what="condition"):
    """Polls `pred` until it returns a truthy value or the deadline passes."""
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def new_client(**kw):
    kw.setdefault("timeout", 15)
    c = KazooClient(hosts=ZK_HOST, **kw)
    c.start(timeout=20)
    return c


@pytest.fixture
def zk():
    c = new_client()
    yield c
    c.stop()
    c.close()


@pytest.fixture
def zk_super():
    c = new_client(auth_data=[("digest", ZK_SUPER)])
    yield c
    c.stop()
    c.close()


@pytest.fixture
def root(request):
    """A fresh top-level node per test, removed afterwards (as super, whatever ACLs a test set)."""
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", request.node.name)[:60]
    name = "/compat-" + safe + "-" + uuid.uuid4().hex[:8]
    c = new_client(auth_data=[("digest", ZK_SUPER)])
    c.create(name, b"")
    yield name
    try:
        if c.exists(name):
            c.delete(name, recursive=True)
    finally:
        c.stop()
        c.close()


@pytest.fixture(autouse=True)
def server_still_serves():
    """After every test, a fresh normal client must still work."""
    yield
    c = new_client()
    try:
        assert c.exists("/") is not None
        assert "zookeeper" in c.get_children("/")
    finally:
        c.stop()
        c.close()
