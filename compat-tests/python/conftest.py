"""Shared fixtures: the target server comes from ZK_HOST (set by compat-tests/run.sh), so the same
tests run against Java ZooKeeper 3.8.0 and against ruzk."""

import os
import re
import time
import uuid

import pytest
from kazoo.client import KazooClient

ZK_HOST = os.environ.get("ZK_HOST", "127.0.0.1:2181")
ZK_SUPER = os.environ.get("ZK_SUPER", "super:compat-super-secret")


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
