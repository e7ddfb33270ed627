"""Compiles the Java client and Curator programs in compat-tests/java into compat-tests/build at
test time (nothing compiled is committed), runs each once, and reports each of their checks."""

import os
import re
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
JAVA_SRC = HERE.parent / "java"
BUILD = HERE.parent / "build"
JARS = Path("/usr/share/java")
BASE_JARS = ["zookeeper", "zookeeper-jute", "slf4j-api", "slf4j-nop"]
CURATOR_JARS = BASE_JARS + [
    "curator-recipes", "curator-framework", "curator-client", "curator-x-discovery", "guava",
    "netty-handler", "netty-transport", "netty-common", "netty-buffer", "netty-codec", "netty-resolver",
    "jackson-core", "jackson-databind", "jackson-annotations",
]

JAVA_CHECKS = [
    "crud", "createModes", "watches", "removeWatches", "multi", "persistentWatches", "getConfig",
    "aclAndWhoAmI", "syncAndEphemeralsOnClose", "watchRestore",
]
CURATOR_CHECKS = [
    "InterProcessMutex", "LeaderLatch", "LeaderSelector", "CuratorCache", "DistributedAtomicLong",
    "DistributedQueue", "PersistentNode", "PersistentTtlNode", "ServiceDiscovery",
]


def classpath(names):
    return ":".join(str(JARS / f"{n}.jar") for n in names)


def run_program(main_class, jars, timeout):
    BUILD.mkdir(exist_ok=True)
    cp = classpath(jars)
    src = JAVA_SRC / f"{main_class}.java"
    comp = subprocess.run(["javac", "-d", str(BUILD), "-cp", cp, str(src)], capture_output=True, text=True)
    if comp.returncode != 0:
        return {"__compile__": comp.stdout + comp.stderr}, ""
    proc = subprocess.run(
        ["java", "-Xmx256m", "-cp", f"{BUILD}:{cp}", main_class],
        capture_output=True, text=True, timeout=timeout, env=dict(os.environ),
    )
    out = proc.stdout + proc.stderr
    results = {}
    for m in re.finditer(r"^(PASS|FAIL) (\w+)(.*)$", out, re.M):
        results[m.group(2)] = "ok" if m.group(1) == "PASS" else m.group(3)
    return results, out


@pytest.fixture(scope="module")
def java_results():
    return run_program("JavaClientCheck", BASE_JARS, timeout=300)


@pytest.fixture(scope="module")
def curator_results():
    return run_program("CuratorCheck", CURATOR_JARS, timeout=600)


def verdict(results, out, name):
    assert "__compile__" not in results, results.get("__compile__")
    assert name in results, f"check {name} did not report; output:\n{out[-3000:]}"
    if results[name] != "ok":
        # show the failing check's stack trace
        start = out.find(f"FAIL {name}")
        pytest.fail(out[start : start + 3000])


@pytest.mark.parametrize("name", JAVA_CHECKS)
def test_java_client(java_results, name):
    verdict(*java_results, name)


@pytest.mark.parametrize("name", CURATOR_CHECKS)
def test_curator(curator_results, name):
    verdict(*curator_results, name)
